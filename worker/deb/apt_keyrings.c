/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keyring an InRelease is verified with, chosen as apt inside the image would choose it:
 * the source's Signed-By (keyring files read from the image, the image's own trust root, or an
 * inline armored key), else the operator's default keyring. gpgv reads binary keyrings from
 * files only, so image keys are written (armored ones dearmored) to a private directory under
 * the job's workdir, and the digests of what was written identify the key material, so a
 * Release verified with one keyring is never served from the cache to a source with another.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/digest.h"
#include "pf/err.h"
#include "pf/io.h"
#include "pf/strv.h"
#include "deb/apt_keyrings.h"
#include "deb/apt_sources.h"
#include "engine/gpgv.h"
#include "image/layer_view.h"

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes the base64 body of one armor block (lines up to the "=CRC" or END line). */
static int b64_decode_block(const char *p, const char *end, struct pf_buf *out)
{
    uint32_t acc = 0;
    int bits = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;

        if (*p == '=' || *p == '-')
            break;
        for (const char *q = p; q < le; q++) {
            int v = b64_value((unsigned char)*q);

            if (v < 0) {
                if (*q == '=' || *q == '\r' || *q == ' ' || *q == '\t')
                    continue;
                return -EINVAL;
            }
            acc = (acc << 6) | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                unsigned char byte = (unsigned char)(acc >> (bits - 8));
                int r;

                bits -= 8;
                r = pf_buf_append(out, &byte, 1);
                if (r < 0)
                    return r;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* Converts every "PUBLIC KEY BLOCK" of an armored text into one binary keyring (what
 * `gpg --dearmor` does), because gpgv reads binary keyrings only. */
static int dearmor(const char *text, size_t len, struct pf_buf *out)
{
    static const char begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    const char *end = text + len, *p = text;
    bool any = false;

    pf_buf_init(out, WORKER_APT_KEYRING_MAX);
    for (;;) {
        const char *b = p < end ? strstr(p, begin) : NULL;
        int r;

        if (!b || b >= end)
            break;
        /* Armor headers ("Version: ...") end at the first empty line. */
        p = strstr(b, "\n\n");
        if (!p || p >= end)
            return -EINVAL;
        p += 2;
        r = b64_decode_block(p, end, out);
        if (r < 0)
            return r;
        any = true;
        p = strstr(p, "-----END");
        if (!p)
            return -EINVAL;
        p += 8;
    }
    return any && out->len > 0 ? 0 : -EINVAL;
}

/* Removes the private key directory made by prepare_keyring(). */
static void remove_key_dir(char *dir)
{
    if (!dir)
        return;
    for (unsigned i = 0; i < WORKER_GPGV_MAX_KEYRINGS; i++) {
        char *p = pf_asprintf("%s/k%02u.gpg", dir, i);

        if (p)
            (void)unlink(p);
        pf_free(p);
    }
    (void)rmdir(dir);
    pf_free(dir);
}

/* Writes one keyring found in the image (binary, or armored and converted) as dir/kNN.gpg. */
static int add_image_key(const char *dir, unsigned n, const char *data, size_t len,
                         struct pf_strv *digests)
{
    struct pf_buf bin = PF_BUF_INIT;
    char digest[PF_DIGEST_BUFSZ];
    char *path = pf_asprintf("%s/k%02u.gpg", dir, n);
    int r = -ENOMEM;

    if (!path)
        return -ENOMEM;
    if (len >= 5 && memmem(data, len, "-----BEGIN PGP", 14)) {
        r = dearmor(data, len, &bin);
        if (r < 0)
            goto out;
        data = bin.p;
        len = bin.len;
    }
    r = pf_write_file_new(path, data, len);
    if (r == 0)
        r = pf_sha256_digest(data, len, digest);
    if (r == 0)
        r = pf_strv_push(digests, digest);
out:
    pf_buf_release(&bin);
    pf_free(path);
    return r;
}

int worker_apt_keyring_prepare(const struct worker_apt_source *src, const char *default_keyring,
                               const struct worker_layer_view *view, const char *workdir,
                               struct worker_apt_keyring *ret, char *errbuf, size_t errlen)
{
    struct pf_strv digests = PF_STRV_INIT;
    char *dir = NULL, *id = NULL, *ring = NULL, *sb = NULL, *joined = NULL;
    unsigned n = 0;
    int r = -ENOMEM;

    if (!src->signed_by) {
        if (!default_keyring) {
            (void)pf_set_error(errbuf, errlen, 0,
                               "no Signed-By and no default keyring for '%s' '%s'", src->uri,
                               src->suite);
            return -ENOKEY;
        }
        ring = pf_strdup(default_keyring);
        id = pf_asprintf("default:%s", default_keyring);
        if (!ring || !id)
            goto fail;
        ret->ring = ring;
        ret->id = id;
        ret->dir = NULL;
        return 0;
    }
    dir = pf_asprintf("%s/pf-apt-keys-XXXXXX", workdir ? workdir : "/tmp");
    if (!dir)
        goto fail;
    if (!mkdtemp(dir)) {
        r = -errno;
        (void)pf_set_error(errbuf, errlen, 0, "cannot create a key directory under '%s': %s",
                           workdir, strerror(-r));
        goto fail;
    }
    if (src->signed_by_inline) {
        r = add_image_key(dir, n++, src->signed_by, strlen(src->signed_by), &digests);
        if (r < 0) {
            (void)pf_set_error(errbuf, errlen, 0,
                               "cannot read the inline Signed-By key of '%s' '%s'", src->uri,
                               src->suite);
            goto fail;
        }
    } else {
        sb = pf_strdup(src->signed_by);
        if (!sb)
            goto fail;
        for (char *tok = sb, *next; *tok; tok = next) {
            const char *data = NULL;
            size_t len = 0;

            tok += strspn(tok, ", \t\n");
            next = tok + strcspn(tok, ", \t\n");
            if (*next)
                *next++ = '\0';
            if (*tok != '/')
                continue; /* a fingerprint: gpgv cannot restrict to one, the file must be given */
            if (n >= WORKER_GPGV_MAX_KEYRINGS) {
                r = -E2BIG;
                goto fail;
            }
            r = view ? worker_layer_view_read(view, tok, &data, &len) : -ENOENT;
            if (r == 0 && len > WORKER_APT_KEYRING_MAX)
                r = -E2BIG;
            if (r == 0)
                r = add_image_key(dir, n++, data, len, &digests);
            if (r < 0) {
                (void)pf_set_error(errbuf, errlen, 0,
                                   "cannot read Signed-By keyring '%s' of '%s' from the "
                                   "image: %s",
                                   tok, src->uri, strerror(-r));
                goto fail;
            }
        }
    }
    if (n == 0) {
        r = -ENOKEY;
        (void)pf_set_error(errbuf, errlen, 0, "Signed-By of '%s' '%s' names no keyring file",
                           src->uri, src->suite);
        goto fail;
    }
    r = -ENOMEM;
    joined = pf_strv_join(&digests, ",");
    id = joined ? pf_asprintf("image:%s", joined) : NULL;
    ring = pf_strdup(dir);
    if (!id || !ring)
        goto fail;
    pf_free(sb);
    pf_free(joined);
    pf_strv_clear(&digests);
    ret->ring = ring;
    ret->dir = dir;
    ret->id = id;
    return 0;
fail:
    remove_key_dir(dir);
    pf_free(sb);
    pf_free(joined);
    pf_free(id);
    pf_free(ring);
    pf_strv_clear(&digests);
    return r;
}

void worker_apt_keyring_release(struct worker_apt_keyring *k)
{
    if (!k)
        return;
    remove_key_dir(k->dir);
    k->dir = NULL;
    k->ring = pf_free(k->ring);
    k->id = pf_free(k->id);
}
