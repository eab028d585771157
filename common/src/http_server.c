/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemons' HTTP server on libmicrohttpd (pf/http_server.h). One internal polling thread
 * serves every connection: the handlers behind it are quick (a Redis read, a metrics render),
 * so more threads would only queue on their locks. Request bodies are read and dropped (every
 * endpoint is GET), and the body of a response is copied into libmicrohttpd so the handler can
 * free its own at once.
 */
#include "pf/setup.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/http_server.h"
#include "pf/log.h"

#define HTTP_CONNECTION_LIMIT 64
#define HTTP_TIMEOUT_S 30

struct pf_http_server {
    struct MHD_Daemon *d;
    pf_http_handler handler;
    void *userdata;
};

struct pf_http_request {
    struct MHD_Connection *conn;
};

const char *pf_http_request_query(const struct pf_http_request *req, const char *key)
{
    return req ? MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key) : NULL;
}

void pf_http_response_release(struct pf_http_response *resp)
{
    if (!resp)
        return;
    if (!resp->body_static)
        pf_free(resp->body);
    *resp = (struct pf_http_response){0};
}

/* Marks a request whose headers were seen, so the next calls are its body or its end. */
static int request_seen;

static enum MHD_Result queue(struct MHD_Connection *conn, const struct pf_http_response *resp)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(resp->len, resp->body,
                                        resp->body_static ? MHD_RESPMEM_PERSISTENT
                                                          : MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    (void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    /* The page and the API change with every result: never let a proxy or browser cache them. */
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (resp->status == MHD_HTTP_METHOD_NOT_ALLOWED)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct pf_http_server *h = cls;
    struct pf_http_request req = {.conn = conn};
    struct pf_http_response resp = {0};
    enum MHD_Result ret;
    int r;

    (void)version;
    (void)upload_data;
    if (!*req_cls) {
        *req_cls = &request_seen;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    r = h->handler(h->userdata, method, url, &req, &resp);
    if (r < 0) {
        pf_log(LOG_ERR, "cannot answer %s %s: %s", method, url, strerror(-r));
        return MHD_NO;
    }
    if (resp.status >= 500)
        pf_log(LOG_WARNING, "%s %s: %d %.*s", method, url, resp.status,
               (int)(resp.len > 200 ? 200 : resp.len), resp.body);
    else
        pf_log(LOG_DEBUG, "%s %s: %d", method, url, resp.status);
    ret = queue(conn, &resp);
    pf_http_response_release(&resp);
    return ret;
}

/* Splits "HOST:PORT" / "[V6]:PORT" and resolves it into *ret (a numeric port is required). */
static int resolve(const char *addr, struct sockaddr_storage *ret, socklen_t *ret_len, char *errbuf,
                   size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    const char *colon, *host = addr;
    size_t hostlen;
    char hbuf[256];
    int e;

    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');

        if (!end || end[1] != ':')
            return pf_set_error(errbuf, errlen, -EINVAL, "bad listen address '%s'", addr);
        host = addr + 1;
        hostlen = (size_t)(end - host);
        colon = end + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return pf_set_error(errbuf, errlen, -EINVAL,
                                "listen address '%s' has no port (HOST:PORT)", addr);
        hostlen = (size_t)(colon - addr);
    }
    if (hostlen == 0 || hostlen >= sizeof(hbuf) || colon[1] == '\0' ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5)
        return pf_set_error(errbuf, errlen, -EINVAL, "bad listen address '%s'", addr);
    memcpy(hbuf, host, hostlen);
    hbuf[hostlen] = '\0';
    e = getaddrinfo(hbuf, colon + 1, &hints, &res);
    if (e != 0)
        return pf_set_error(errbuf, errlen, -EINVAL, "cannot resolve listen address '%s': %s", addr,
                            gai_strerror(e));
    if (res->ai_addrlen > sizeof(*ret)) {
        freeaddrinfo(res);
        return pf_set_error(errbuf, errlen, -EINVAL, "bad listen address '%s'", addr);
    }
    memcpy(ret, res->ai_addr, res->ai_addrlen);
    *ret_len = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Formats the address the listening socket really has (port 0 resolved). */
static int bound_address(struct MHD_Daemon *d, char *ret, size_t len)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage ss = {0};
    socklen_t sl = sizeof(ss);
    char host[NI_MAXHOST], port[NI_MAXSERV];

    if (!info || getsockname(info->listen_fd, (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return -EINVAL;
    (void)snprintf(ret, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
    return 0;
}

int pf_http_server_start(const char *addr, pf_http_handler handler, void *userdata,
                         struct pf_http_server **ret, char *ret_bound, size_t boundlen,
                         char *errbuf, size_t errlen)
{
    struct pf_http_server *h;
    struct sockaddr_storage ss = {0};
    socklen_t sl = 0;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
    char bound[300];
    int r = resolve(addr, &ss, &sl, errbuf, errlen);

    if (r < 0)
        return r;
    h = pf_calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->handler = handler;
    h->userdata = userdata;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, &ss,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
                            MHD_OPTION_END);
    if (!h->d) {
        r = errno > 0 ? -errno : -EADDRNOTAVAIL;
        pf_free(h);
        return pf_set_error(errbuf, errlen, r, "cannot listen on '%s': %s", addr, strerror(-r));
    }
    r = bound_address(h->d, bound, sizeof(bound));
    if (r < 0) {
        pf_http_server_stop(h);
        return pf_set_error(errbuf, errlen, r, "cannot read the address bound for '%s'", addr);
    }
    (void)snprintf(ret_bound, boundlen, "%s", bound);
    *ret = h;
    return 0;
}

struct pf_http_server *pf_http_server_stop(struct pf_http_server *h)
{
    if (!h)
        return NULL;
    if (h->d)
        MHD_stop_daemon(h->d);
    return pf_free(h);
}
