/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI manifests, indexes, configs and platforms over jansson. Parsers copy what they need out
 * of the JSON tree into plain structs (so callers never hold jansson references), except the
 * image config, which keeps its tree so that a patched config is the original plus one layer.
 * Documents are serialised through json_dump_callback into a pf_buf, so every byte we hand out
 * was allocated by pf_malloc. The layout writer lives in oci_layout.c.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pf/json.h"

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/oci.h"
#include "oci_internal.h"

/* --- media types ----------------------------------------------------------------------- */

static const char *const known_manifest_types[] = {
    PF_MT_OCI_INDEX,       PF_MT_OCI_MANIFEST,   PF_MT_DOCKER_LIST,
    PF_MT_DOCKER_MANIFEST, PF_MT_DOCKER_SCHEMA1, PF_MT_DOCKER_SCHEMA1_SIGNED,
};

static const char *canonical_type(const char *s, size_t n)
{
    for (size_t i = 0; i < PF_ARRAY_SIZE(known_manifest_types); i++) {
        const char *k = known_manifest_types[i];
        if (strlen(k) == n && strncasecmp(k, s, n) == 0)
            return k;
    }
    return NULL;
}

static int kind_of(const char *mt)
{
    if (mt == known_manifest_types[0] || mt == known_manifest_types[2])
        return PF_MANIFEST_INDEX;
    if (mt == known_manifest_types[1] || mt == known_manifest_types[3])
        return PF_MANIFEST_IMAGE;
    return PF_MANIFEST_SCHEMA1;
}

bool pf_oci_media_type_is_manifest(const char *mt)
{
    return mt && (strcmp(mt, PF_MT_OCI_MANIFEST) == 0 || strcmp(mt, PF_MT_DOCKER_MANIFEST) == 0 ||
                  pf_oci_media_type_is_index(mt));
}

bool pf_oci_media_type_is_index(const char *mt)
{
    return mt && (strcmp(mt, PF_MT_OCI_INDEX) == 0 || strcmp(mt, PF_MT_DOCKER_LIST) == 0);
}

int pf_oci_detect_manifest(const char *content_type, const char *body, size_t len,
                           const char **ret_media_type)
{
    const char *mt = NULL;
    json_t *root = NULL, *v;
    int kind = PF_MANIFEST_INVALID;

    if (content_type) {
        size_t n = strcspn(content_type, ";");
        while (n > 0 && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
            n--;
        mt = canonical_type(content_type, n);
    }
    if (!mt && body) {
        root = json_loadb(body, len, 0, NULL);
        if (!json_is_object(root))
            goto out;
        v = json_object_get(root, "mediaType");
        if (json_is_string(v))
            mt = canonical_type(json_string_value(v), json_string_length(v));
        else if (json_is_array(json_object_get(root, "manifests")))
            mt = PF_MT_OCI_INDEX;
        else if (json_is_object(json_object_get(root, "config")))
            mt = PF_MT_OCI_MANIFEST;
        else if (json_integer_value(json_object_get(root, "schemaVersion")) == 1)
            mt = PF_MT_DOCKER_SCHEMA1;
    }
    if (!mt)
        goto out;
    kind = kind_of(mt);
    if (ret_media_type)
        *ret_media_type = mt;
out:
    json_decref(root);
    return kind;
}

/* --- JSON helpers ---------------------------------------------------------------------- */

/* Copies an optional string member; -EINVAL if present but not a string. */
static int dup_opt_str(json_t *obj, const char *key, char **ret)
{
    json_t *v = json_object_get(obj, key);
    char *s;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -EINVAL;
    s = pf_strndup(json_string_value(v), json_string_length(v));
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int read_kv(json_t *obj, struct pf_strv *ret)
{
    const char *k;
    json_t *v;
    int r;

    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return -EINVAL;
    json_object_foreach(obj, k, v)
    {
        if (!json_is_string(v))
            return -EINVAL;
        r = pf_strv_push(ret, k);
        if (r == 0)
            r = pf_strv_push(ret, json_string_value(v));
        if (r < 0)
            return r;
    }
    return 0;
}

static json_t *kv_to_json(const struct pf_strv *kv)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    for (size_t i = 0; i + 1 < kv->n; i += 2) {
        if (json_object_set_new(o, kv->v[i], json_string(kv->v[i + 1])) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int read_strv(json_t *arr, struct pf_strv *ret)
{
    size_t i;
    json_t *v;
    int r;

    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return -EINVAL;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return -EINVAL;
        r = pf_strv_push(ret, json_string_value(v));
        if (r < 0)
            return r;
    }
    return 0;
}

/* --- platforms ------------------------------------------------------------------------- */

void pf_platform_release(struct pf_platform *p)
{
    if (!p)
        return;
    p->os = pf_free(p->os);
    p->architecture = pf_free(p->architecture);
    p->variant = pf_free(p->variant);
    p->os_version = pf_free(p->os_version);
}

static int dup_or_null(const char *s, char **ret)
{
    *ret = NULL;
    if (!s)
        return 0;
    *ret = pf_strdup(s);
    return *ret ? 0 : -ENOMEM;
}

int pf_platform_copy(const struct pf_platform *src, struct pf_platform *ret)
{
    struct pf_platform p = {NULL, NULL, NULL, NULL};

    if (dup_or_null(src->os, &p.os) < 0 || dup_or_null(src->architecture, &p.architecture) < 0 ||
        dup_or_null(src->variant, &p.variant) < 0 ||
        dup_or_null(src->os_version, &p.os_version) < 0) {
        pf_platform_release(&p);
        return -ENOMEM;
    }
    *ret = p;
    return 0;
}

static void lower(char *s)
{
    for (; s && *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static int replace(char **slot, const char *v)
{
    char *n = NULL;

    if (v) {
        n = pf_strdup(v);
        if (!n)
            return -ENOMEM;
    }
    pf_free(*slot);
    *slot = n;
    return 0;
}

int pf_platform_normalize(struct pf_platform *p)
{
    static const struct {
        const char *from, *arch, *variant;
    } aliases[] = {
        {"x86_64", "amd64", NULL}, {"x86-64", "amd64", NULL}, {"aarch64", "arm64", NULL},
        {"armhf", "arm", "v7"},    {"armel", "arm", "v6"},    {"i386", "386", NULL},
        {"i686", "386", NULL},
    };
    int r;

    lower(p->os);
    lower(p->architecture);
    lower(p->variant);
    for (size_t i = 0; p->architecture && i < PF_ARRAY_SIZE(aliases); i++) {
        if (strcmp(p->architecture, aliases[i].from) != 0)
            continue;
        r = replace(&p->architecture, aliases[i].arch);
        if (r == 0 && aliases[i].variant && !p->variant)
            r = replace(&p->variant, aliases[i].variant);
        if (r < 0)
            return r;
        break;
    }
    if (p->variant && (p->variant[0] == '\0' ||
                       (p->architecture && strcmp(p->architecture, "arm64") == 0 &&
                        (strcmp(p->variant, "v8") == 0 || strcmp(p->variant, "8") == 0)) ||
                       (p->architecture && strcmp(p->architecture, "amd64") == 0 &&
                        strcmp(p->variant, "v1") == 0)))
        p->variant = pf_free(p->variant);
    if (p->architecture && strcmp(p->architecture, "arm") == 0 && !p->variant)
        return replace(&p->variant, "v7");
    if (p->architecture && strcmp(p->architecture, "arm") == 0 && p->variant &&
        p->variant[0] != 'v') {
        char *v = pf_asprintf("v%s", p->variant);
        if (!v)
            return -ENOMEM;
        pf_free(p->variant);
        p->variant = v;
    }
    return 0;
}

int pf_platform_parse(const char *s, struct pf_platform *ret)
{
    struct pf_platform p = {NULL, NULL, NULL, NULL};
    const char *a, *b;
    int r = -ENOMEM;

    a = strchr(s, '/');
    if (!a || a == s || a[1] == '\0' || a[1] == '/')
        return -EINVAL;
    b = strchr(a + 1, '/');
    if (b && (b[1] == '\0' || strchr(b + 1, '/')))
        return -EINVAL;
    p.os = pf_strndup(s, (size_t)(a - s));
    p.architecture = b ? pf_strndup(a + 1, (size_t)(b - a - 1)) : pf_strdup(a + 1);
    if (b)
        p.variant = pf_strdup(b + 1);
    if (!p.os || !p.architecture || (b && !p.variant))
        goto fail;
    r = pf_platform_normalize(&p);
    if (r < 0)
        goto fail;
    *ret = p;
    return 0;
fail:
    pf_platform_release(&p);
    return r;
}

char *pf_platform_format(const struct pf_platform *p)
{
    const char *os = p->os ? p->os : "";
    const char *arch = p->architecture ? p->architecture : "";

    if (p->variant)
        return pf_asprintf("%s/%s/%s", os, arch, p->variant);
    return pf_asprintf("%s/%s", os, arch);
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

bool pf_platform_match(const struct pf_platform *want, const struct pf_platform *have)
{
    struct pf_platform w, h;
    bool ok = false;

    if (pf_platform_copy(want, &w) < 0)
        return false;
    if (pf_platform_copy(have, &h) < 0) {
        pf_platform_release(&w);
        return false;
    }
    if (pf_platform_normalize(&w) == 0 && pf_platform_normalize(&h) == 0)
        ok = str_eq(w.os, h.os) && str_eq(w.architecture, h.architecture) &&
             (!w.variant || str_eq(w.variant, h.variant));
    pf_platform_release(&w);
    pf_platform_release(&h);
    return ok;
}

bool pf_platform_is_unknown(const struct pf_platform *p)
{
    return p && str_eq(p->os, "unknown") && str_eq(p->architecture, "unknown");
}

/* --- descriptors ----------------------------------------------------------------------- */

void pf_descriptor_release(struct pf_descriptor *d)
{
    if (!d)
        return;
    d->media_type = pf_free(d->media_type);
    d->digest = pf_free(d->digest);
    d->artifact_type = pf_free(d->artifact_type);
    if (d->platform) {
        pf_platform_release(d->platform);
        d->platform = pf_free(d->platform);
    }
    pf_strv_clear(&d->annotations);
    pf_strv_clear(&d->urls);
    d->size = 0;
}

int pf_descriptor_copy(const struct pf_descriptor *src, struct pf_descriptor *ret)
{
    struct pf_descriptor d;

    memset(&d, 0, sizeof(d));
    d.size = src->size;
    if (dup_or_null(src->media_type, &d.media_type) < 0 ||
        dup_or_null(src->digest, &d.digest) < 0 ||
        dup_or_null(src->artifact_type, &d.artifact_type) < 0 ||
        pf_strv_extend(&d.annotations, &src->annotations) < 0 ||
        pf_strv_extend(&d.urls, &src->urls) < 0)
        goto fail;
    if (src->platform) {
        d.platform = pf_calloc(1, sizeof(*d.platform));
        if (!d.platform || pf_platform_copy(src->platform, d.platform) < 0)
            goto fail;
    }
    *ret = d;
    return 0;
fail:
    pf_descriptor_release(&d);
    return -ENOMEM;
}

int pf_descriptor_check_size(const struct pf_descriptor *d, uint64_t actual, char *errbuf,
                             size_t errlen)
{
    if (d->size >= 0 && (uint64_t)d->size == actual)
        return 0;
    return pf_set_error(errbuf, errlen, -EBADMSG,
                        "descriptor %s %s declares size %lld but the content is %llu bytes",
                        d->media_type ? d->media_type : "(no media type)",
                        d->digest ? d->digest : "(no digest)", (long long)d->size,
                        (unsigned long long)actual);
}

const char *pf_descriptor_annotation(const struct pf_descriptor *d, const char *key)
{
    for (size_t i = 0; i + 1 < d->annotations.n; i += 2)
        if (strcmp(d->annotations.v[i], key) == 0)
            return d->annotations.v[i + 1];
    return NULL;
}

int pf_descriptor_set_annotation(struct pf_descriptor *d, const char *key, const char *value)
{
    for (size_t i = 0; i + 1 < d->annotations.n; i += 2)
        if (strcmp(d->annotations.v[i], key) == 0)
            return replace(&d->annotations.v[i + 1], value);
    if (pf_strv_push(&d->annotations, key) < 0)
        return -ENOMEM;
    if (pf_strv_push(&d->annotations, value) < 0) {
        /* Keep the vector in pairs: drop the key we just added. */
        d->annotations.n--;
        d->annotations.v[d->annotations.n] = pf_free(d->annotations.v[d->annotations.n]);
        return -ENOMEM;
    }
    return 0;
}

bool pf_descriptor_is_attestation(const struct pf_descriptor *d)
{
    const char *t = pf_descriptor_annotation(d, "vnd.docker.reference.type");

    return pf_platform_is_unknown(d->platform) || (t && strcmp(t, "attestation-manifest") == 0);
}

static int parse_platform(json_t *o, struct pf_platform **ret)
{
    struct pf_platform *p;
    int r;

    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o))
        return -EINVAL;
    p = pf_calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    r = dup_opt_str(o, "os", &p->os);
    if (r == 0)
        r = dup_opt_str(o, "architecture", &p->architecture);
    if (r == 0)
        r = dup_opt_str(o, "variant", &p->variant);
    if (r == 0)
        r = dup_opt_str(o, "os.version", &p->os_version);
    if (r == 0 && (!p->os || !p->architecture))
        r = -EINVAL;
    if (r < 0) {
        pf_platform_release(p);
        pf_free(p);
        return r;
    }
    *ret = p;
    return 0;
}

int pf__descriptor_parse(json_t *o, struct pf_descriptor *ret, char *errbuf, size_t errlen)
{
    struct pf_descriptor d;
    json_t *size;
    int r;

    memset(&d, 0, sizeof(d));
    if (!json_is_object(o))
        return pf_set_error(errbuf, errlen, -EINVAL, "descriptor is not an object");
    r = dup_opt_str(o, "mediaType", &d.media_type);
    if (r == 0)
        r = dup_opt_str(o, "digest", &d.digest);
    if (r == 0)
        r = dup_opt_str(o, "artifactType", &d.artifact_type);
    if (r == 0)
        r = parse_platform(json_object_get(o, "platform"), &d.platform);
    if (r == 0)
        r = read_kv(json_object_get(o, "annotations"), &d.annotations);
    if (r == 0)
        r = read_strv(json_object_get(o, "urls"), &d.urls);
    if (r == -EINVAL)
        pf_set_error(errbuf, errlen, r, "descriptor has a malformed field");
    if (r < 0)
        goto fail;
    size = json_object_get(o, "size");
    if (!d.media_type || !json_is_integer(size) || json_integer_value(size) < 0) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "descriptor lacks mediaType or a valid size");
        goto fail;
    }
    if (!pf_digest_sha256_hex(d.digest)) {
        r = pf_set_error(errbuf, errlen, -EINVAL,
                         "descriptor digest '%.80s' is not a sha256 digest",
                         d.digest ? d.digest : "");
        goto fail;
    }
    d.size = json_integer_value(size);
    *ret = d;
    return 0;
fail:
    pf_descriptor_release(&d);
    return r;
}

json_t *pf__descriptor_to_json(const struct pf_descriptor *d)
{
    json_t *o = json_object(), *p;
    int bad = !o;

    if (bad)
        return NULL;
    bad |= json_object_set_new(o, "mediaType", json_string(d->media_type));
    if (d->artifact_type)
        bad |= json_object_set_new(o, "artifactType", json_string(d->artifact_type));
    bad |= json_object_set_new(o, "digest", json_string(d->digest));
    bad |= json_object_set_new(o, "size", json_integer(d->size));
    if (d->urls.n) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < d->urls.n; i++)
            bad |= json_array_append_new(a, json_string(d->urls.v[i]));
        bad |= json_object_set_new(o, "urls", a);
    }
    if (d->annotations.n)
        bad |= json_object_set_new(o, "annotations", kv_to_json(&d->annotations));
    if (d->platform) {
        p = json_object();
        bad |= json_object_set_new(o, "platform", p);
        if (p) {
            bad |= json_object_set_new(p, "architecture", json_string(d->platform->architecture));
            bad |= json_object_set_new(p, "os", json_string(d->platform->os));
            if (d->platform->os_version)
                bad |= json_object_set_new(p, "os.version", json_string(d->platform->os_version));
            if (d->platform->variant)
                bad |= json_object_set_new(p, "variant", json_string(d->platform->variant));
        }
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* --- manifests and indexes ------------------------------------------------------------- */

static json_t *load_object(const char *body, size_t len, char *errbuf, size_t errlen, int *ret_r)
{
    json_error_t jerr;
    json_t *root;

    if (len > PF_MANIFEST_MAX) {
        *ret_r = pf_set_error(errbuf, errlen, -E2BIG,
                              "document is %zu bytes, over the limit of %zu bytes (4 MiB)", len,
                              PF_MANIFEST_MAX);
        return NULL;
    }
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        *ret_r = pf_set_error(errbuf, errlen, -EINVAL, "invalid JSON at line %d: %s", jerr.line,
                              jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *ret_r = pf_set_error(errbuf, errlen, -EINVAL, "document is not a JSON object");
        return NULL;
    }
    return root;
}

static int check_schema(json_t *root, const char *want_kind, char *errbuf, size_t errlen)
{
    json_t *sv = json_object_get(root, "schemaVersion");

    if (json_integer_value(sv) == 1)
        return pf_set_error(errbuf, errlen, -EPROTONOSUPPORT,
                            "the image uses the deprecated Docker schema 1 manifest format, which "
                            "is "
                            "not supported");
    if (json_integer_value(sv) != 2)
        return pf_set_error(errbuf, errlen, -EINVAL, "%s has schemaVersion other than 2",
                            want_kind);
    return 0;
}

static int parse_desc_array(json_t *arr, struct pf_descriptor **ret, size_t *ret_n,
                            const char *what, char *errbuf, size_t errlen)
{
    struct pf_descriptor *v;
    size_t n, i;
    int r = 0;

    if (!json_is_array(arr))
        return pf_set_error(errbuf, errlen, -EINVAL, "%s is missing or not an array", what);
    n = json_array_size(arr);
    v = pf_calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        r = pf__descriptor_parse(json_array_get(arr, i), &v[i], errbuf, errlen);
        if (r < 0)
            break;
    }
    if (r < 0) {
        while (i-- > 0)
            pf_descriptor_release(&v[i]);
        pf_free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

void pf_manifest_release(struct pf_manifest *m)
{
    if (!m)
        return;
    m->media_type = pf_free(m->media_type);
    m->artifact_type = pf_free(m->artifact_type);
    pf_descriptor_release(&m->config);
    for (size_t i = 0; i < m->n_layers; i++)
        pf_descriptor_release(&m->layers[i]);
    m->layers = pf_free(m->layers);
    m->n_layers = 0;
    if (m->subject) {
        pf_descriptor_release(m->subject);
        m->subject = pf_free(m->subject);
    }
    pf_strv_clear(&m->annotations);
}

int pf_manifest_parse(const char *body, size_t len, struct pf_manifest *ret, char *errbuf,
                      size_t errlen)
{
    struct pf_manifest m;
    json_t *root, *subj;
    int r = 0;

    memset(&m, 0, sizeof(m));
    root = load_object(body, len, errbuf, errlen, &r);
    if (!root)
        return r;
    r = check_schema(root, "manifest", errbuf, errlen);
    if (r < 0)
        goto out;
    m.schema_version = 2;
    r = dup_opt_str(root, "mediaType", &m.media_type);
    if (r == 0)
        r = dup_opt_str(root, "artifactType", &m.artifact_type);
    if (r == 0)
        r = read_kv(json_object_get(root, "annotations"), &m.annotations);
    if (r == -EINVAL)
        pf_set_error(errbuf, errlen, r, "manifest has a malformed mediaType or annotations");
    if (r < 0)
        goto out;
    if (m.media_type && !(strcmp(m.media_type, PF_MT_OCI_MANIFEST) == 0 ||
                          strcmp(m.media_type, PF_MT_DOCKER_MANIFEST) == 0)) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "mediaType '%.100s' is not an image manifest",
                         m.media_type);
        goto out;
    }
    r = pf__descriptor_parse(json_object_get(root, "config"), &m.config, errbuf, errlen);
    if (r < 0)
        goto out;
    r = parse_desc_array(json_object_get(root, "layers"), &m.layers, &m.n_layers, "layers", errbuf,
                         errlen);
    if (r < 0)
        goto out;
    subj = json_object_get(root, "subject");
    if (subj) {
        m.subject = pf_calloc(1, sizeof(*m.subject));
        r = m.subject ? pf__descriptor_parse(subj, m.subject, errbuf, errlen) : -ENOMEM;
        if (r < 0) {
            m.subject = pf_free(m.subject);
            goto out;
        }
    }
    *ret = m;
    memset(&m, 0, sizeof(m));
out:
    pf_manifest_release(&m);
    json_decref(root);
    return r;
}

static int add_desc_array(json_t *root, const char *key, const struct pf_descriptor *v, size_t n)
{
    json_t *a = json_array();

    if (!a || json_object_set_new(root, key, a) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(a, pf__descriptor_to_json(&v[i])) < 0)
            return -ENOMEM;
    return 0;
}

static int check_desc(const struct pf_descriptor *d)
{
    return d->media_type && pf_digest_sha256_hex(d->digest) && d->size >= 0 ? 0 : -EINVAL;
}

int pf_manifest_build(const struct pf_manifest *m, char **ret, size_t *ret_len)
{
    json_t *root;
    int r = check_desc(&m->config);

    for (size_t i = 0; r == 0 && i < m->n_layers; i++)
        r = check_desc(&m->layers[i]);
    if (r < 0)
        return r;
    root = json_object();
    if (!root)
        return -ENOMEM;
    r = -ENOMEM;
    if (json_object_set_new(root, "schemaVersion", json_integer(2)) < 0)
        goto out;
    if (m->media_type && json_object_set_new(root, "mediaType", json_string(m->media_type)) < 0)
        goto out;
    if (m->artifact_type &&
        json_object_set_new(root, "artifactType", json_string(m->artifact_type)) < 0)
        goto out;
    if (json_object_set_new(root, "config", pf__descriptor_to_json(&m->config)) < 0)
        goto out;
    if (add_desc_array(root, "layers", m->layers, m->n_layers) < 0)
        goto out;
    if (m->subject && json_object_set_new(root, "subject", pf__descriptor_to_json(m->subject)) < 0)
        goto out;
    if (m->annotations.n &&
        json_object_set_new(root, "annotations", kv_to_json(&m->annotations)) < 0)
        goto out;
    r = pf_json_dump(root, ret, ret_len);
out:
    json_decref(root);
    return r;
}

void pf_index_release(struct pf_index *ix)
{
    if (!ix)
        return;
    ix->media_type = pf_free(ix->media_type);
    for (size_t i = 0; i < ix->n_manifests; i++)
        pf_descriptor_release(&ix->manifests[i]);
    ix->manifests = pf_free(ix->manifests);
    ix->n_manifests = 0;
    pf_strv_clear(&ix->annotations);
}

int pf_index_parse(const char *body, size_t len, struct pf_index *ret, char *errbuf, size_t errlen)
{
    struct pf_index ix;
    json_t *root;
    int r = 0;

    memset(&ix, 0, sizeof(ix));
    root = load_object(body, len, errbuf, errlen, &r);
    if (!root)
        return r;
    r = check_schema(root, "index", errbuf, errlen);
    if (r < 0)
        goto out;
    ix.schema_version = 2;
    r = dup_opt_str(root, "mediaType", &ix.media_type);
    if (r == 0)
        r = read_kv(json_object_get(root, "annotations"), &ix.annotations);
    if (r == -EINVAL)
        pf_set_error(errbuf, errlen, r, "index has a malformed mediaType or annotations");
    if (r < 0)
        goto out;
    if (ix.media_type && !pf_oci_media_type_is_index(ix.media_type)) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "mediaType '%.100s' is not an index",
                         ix.media_type);
        goto out;
    }
    r = parse_desc_array(json_object_get(root, "manifests"), &ix.manifests, &ix.n_manifests,
                         "manifests", errbuf, errlen);
    if (r < 0)
        goto out;
    *ret = ix;
    memset(&ix, 0, sizeof(ix));
out:
    pf_index_release(&ix);
    json_decref(root);
    return r;
}

int pf_index_build(const struct pf_index *ix, char **ret, size_t *ret_len)
{
    json_t *root;
    int r = 0;

    for (size_t i = 0; r == 0 && i < ix->n_manifests; i++)
        r = check_desc(&ix->manifests[i]);
    if (r < 0)
        return r;
    root = json_object();
    if (!root)
        return -ENOMEM;
    r = -ENOMEM;
    if (json_object_set_new(root, "schemaVersion", json_integer(2)) < 0)
        goto out;
    if (ix->media_type && json_object_set_new(root, "mediaType", json_string(ix->media_type)) < 0)
        goto out;
    if (add_desc_array(root, "manifests", ix->manifests, ix->n_manifests) < 0)
        goto out;
    if (ix->annotations.n &&
        json_object_set_new(root, "annotations", kv_to_json(&ix->annotations)) < 0)
        goto out;
    r = pf_json_dump(root, ret, ret_len);
out:
    json_decref(root);
    return r;
}

/* --- image config ---------------------------------------------------------------------- */

static void history_release(struct pf_history *h)
{
    h->created = pf_free(h->created);
    h->created_by = pf_free(h->created_by);
    h->comment = pf_free(h->comment);
}

void pf_image_config_release(struct pf_image_config *c)
{
    if (!c)
        return;
    c->os = pf_free(c->os);
    c->architecture = pf_free(c->architecture);
    c->variant = pf_free(c->variant);
    c->created = pf_free(c->created);
    pf_strv_clear(&c->diff_ids);
    for (size_t i = 0; i < c->n_history; i++)
        history_release(&c->history[i]);
    c->history = pf_free(c->history);
    c->n_history = 0;
    pf_strv_clear(&c->labels);
    json_decref(c->json);
    c->json = NULL;
}

static int parse_history(json_t *arr, struct pf_image_config *c)
{
    size_t i, n;
    json_t *h;
    int r = 0;

    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return -EINVAL;
    n = json_array_size(arr);
    c->history = pf_calloc(n ? n : 1, sizeof(*c->history));
    if (!c->history)
        return -ENOMEM;
    json_array_foreach(arr, i, h)
    {
        struct pf_history *e = &c->history[i];
        if (!json_is_object(h))
            return -EINVAL;
        c->n_history = i + 1;
        r = dup_opt_str(h, "created", &e->created);
        if (r == 0)
            r = dup_opt_str(h, "created_by", &e->created_by);
        if (r == 0)
            r = dup_opt_str(h, "comment", &e->comment);
        if (r < 0)
            return r;
        e->empty_layer = json_is_true(json_object_get(h, "empty_layer"));
    }
    return 0;
}

int pf_image_config_parse(const char *body, size_t len, struct pf_image_config *ret, char *errbuf,
                          size_t errlen)
{
    struct pf_image_config c;
    json_error_t jerr;
    json_t *rootfs, *cfg;
    int r;

    memset(&c, 0, sizeof(c));
    if (len > PF_CONFIG_MAX)
        return pf_set_error(errbuf, errlen, -E2BIG, "image config is larger than %zu bytes",
                            PF_CONFIG_MAX);
    c.json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!c.json)
        return pf_set_error(errbuf, errlen, -EINVAL, "invalid image config JSON at line %d: %s",
                            jerr.line, jerr.text);
    r = json_is_object(c.json) ? 0 : -EINVAL;
    if (r == 0)
        r = dup_opt_str(c.json, "os", &c.os);
    if (r == 0)
        r = dup_opt_str(c.json, "architecture", &c.architecture);
    if (r == 0)
        r = dup_opt_str(c.json, "variant", &c.variant);
    if (r == 0)
        r = dup_opt_str(c.json, "created", &c.created);
    rootfs = json_object_get(c.json, "rootfs");
    if (r == 0 && !json_is_object(rootfs))
        r = -EINVAL;
    if (r == 0)
        r = read_strv(json_object_get(rootfs, "diff_ids"), &c.diff_ids);
    if (r == 0)
        r = parse_history(json_object_get(c.json, "history"), &c);
    cfg = json_object_get(c.json, "config");
    if (r == 0 && json_is_object(cfg))
        r = read_kv(json_object_get(cfg, "Labels"), &c.labels);
    if (r == 0 && (!c.os || !c.architecture))
        r = -EINVAL;
    for (size_t i = 0; r == 0 && i < c.diff_ids.n; i++)
        if (!pf_digest_sha256_hex(c.diff_ids.v[i]))
            r = -EINVAL;
    if (r < 0) {
        if (r == -EINVAL)
            pf_set_error(errbuf, errlen, r,
                         "image config lacks os/architecture/rootfs or has a malformed field");
        pf_image_config_release(&c);
        return r;
    }
    *ret = c;
    return 0;
}

int pf_image_config_add_layer(struct pf_image_config *c, const char *diff_id, const char *created,
                              const char *created_by, const char *comment)
{
    struct pf_history *nh, *e;
    json_t *rootfs, *ids, *hist, *h;

    if (!pf_digest_sha256_hex(diff_id))
        return -EINVAL;
    rootfs = json_object_get(c->json, "rootfs");
    ids = json_object_get(rootfs, "diff_ids");
    if (!json_is_array(ids)) {
        ids = json_array();
        if (!ids || json_object_set_new(rootfs, "diff_ids", ids) < 0)
            return -ENOMEM;
    }
    hist = json_object_get(c->json, "history");
    if (!json_is_array(hist)) {
        hist = json_array();
        if (!hist || json_object_set_new(c->json, "history", hist) < 0)
            return -ENOMEM;
    }
    h = json_object();
    if (!h)
        return -ENOMEM;
    if ((created && json_object_set_new(h, "created", json_string(created)) < 0) ||
        (created_by && json_object_set_new(h, "created_by", json_string(created_by)) < 0) ||
        (comment && json_object_set_new(h, "comment", json_string(comment)) < 0)) {
        json_decref(h);
        return -ENOMEM;
    }
    nh = pf_realloc(c->history, (c->n_history + 1) * sizeof(*c->history));
    if (!nh) {
        json_decref(h);
        return -ENOMEM;
    }
    c->history = nh;
    e = &c->history[c->n_history];
    memset(e, 0, sizeof(*e));
    if (dup_or_null(created, &e->created) < 0 || dup_or_null(created_by, &e->created_by) < 0 ||
        dup_or_null(comment, &e->comment) < 0 || pf_strv_push(&c->diff_ids, diff_id) < 0) {
        history_release(e);
        json_decref(h);
        return -ENOMEM;
    }
    c->n_history++;
    if (json_array_append_new(hist, h) < 0 || json_array_append_new(ids, json_string(diff_id)) < 0)
        return -ENOMEM;
    if (created) {
        if (json_object_set_new(c->json, "created", json_string(created)) < 0)
            return -ENOMEM;
        return replace(&c->created, created);
    }
    return 0;
}

int pf_image_config_build(const struct pf_image_config *c, char **ret, size_t *ret_len)
{
    return pf_json_dump(c->json, ret, ret_len);
}
