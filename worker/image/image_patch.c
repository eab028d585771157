/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Patched image assembly as edits of the source JSON documents. Each function loads the
 * document with jansson, changes the few members a patch owns and dumps it again, so unknown
 * fields (and the order of known ones) survive. Nothing is re-serialised from our parsed
 * model: pf_manifest_build() and friends know only the fields we use, and a patch that
 * silently dropped, say, a vendor's config field would change the image's behaviour.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/json.h"
#include "pf/oci.h"
#include "pf/ref.h"
#include "pf/strv.h"
#include "engine/engine.h"
#include "image/image_patch.h"

static int load_object(const char *text, size_t len, size_t max, const char *what, json_t **ret,
                       char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *root;

    if (!text)
        return pf_set_error(errbuf, errlen, -EINVAL, "no %s given", what);
    if (len > max)
        return pf_set_error(errbuf, errlen, -E2BIG, "%s is larger than %zu bytes", what, max);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pf_set_error(errbuf, errlen, -EINVAL, "invalid %s JSON at line %d: %s", what,
                            jerr.line, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return pf_set_error(errbuf, errlen, -EINVAL, "%s is not a JSON object", what);
    }
    *ret = root;
    return 0;
}

/* Returns the object member `key` of `parent`, creating it when absent or null; NULL when it
 * exists with another type (*ret_r = -EINVAL) or on OOM (*ret_r = -ENOMEM). Borrowed. */
static json_t *object_member(json_t *parent, const char *key, int *ret_r)
{
    json_t *o = json_object_get(parent, key);

    if (json_is_object(o))
        return o;
    if (o && !json_is_null(o)) {
        *ret_r = -EINVAL;
        return NULL;
    }
    o = json_object();
    if (!o || json_object_set_new(parent, key, o) < 0) {
        *ret_r = -ENOMEM;
        return NULL;
    }
    return o;
}

static int set_string(json_t *obj, const char *key, const char *value)
{
    return json_object_set_new(obj, key, json_string(value)) < 0 ? -ENOMEM : 0;
}

/* Length of the longest prefix of `s` within `max` bytes that does not split a UTF-8
 * sequence. */
static size_t utf8_prefix(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static int add_history(json_t *root, const char *history_text)
{
    static const char prefix[] = "patchfleet: ";
    const char *text = history_text ? history_text : "patch layer";
    json_t *hist = json_object_get(root, "history"), *created, *h;
    char *created_by;
    size_t n;
    int r = -ENOMEM;

    if (!hist || json_is_null(hist))
        return 0; /* no history to keep in step with the layers */
    if (!json_is_array(hist))
        return -EINVAL;
    n = utf8_prefix(text, WORKER_IMAGE_PATCH_HISTORY_MAX - (sizeof(prefix) - 1));
    created_by = pf_asprintf("%s%.*s", prefix, (int)n, text);
    h = json_object();
    if (!created_by || !h)
        goto out;
    /* The source's own timestamp, not now: the same patch must give the same config bytes. */
    created = json_object_get(root, "created");
    if (json_is_string(created) && json_object_set(h, "created", created) < 0)
        goto out;
    if (set_string(h, "created_by", created_by) < 0 ||
        set_string(h, "comment", WORKER_IMAGE_PATCH_COMMENT) < 0)
        goto out;
    r = json_array_append(hist, h) < 0 ? -ENOMEM : 0;
out:
    json_decref(h);
    pf_free(created_by);
    return r;
}

int worker_image_patch_config(const char *config, size_t len, const char *layer_diff_id,
                              const char *base_manifest_digest, const char *history_text,
                              char **ret, size_t *ret_len, char *errbuf, size_t errlen)
{
    json_t *root = NULL, *rootfs, *ids, *cfg, *labels;
    int r = 0;

    if (!layer_diff_id || !pf_digest_is_valid(layer_diff_id))
        return pf_set_error(errbuf, errlen, -EINVAL, "invalid layer diff_id '%s'",
                            layer_diff_id ? layer_diff_id : "(null)");
    if (!base_manifest_digest || !pf_digest_is_valid(base_manifest_digest))
        return pf_set_error(errbuf, errlen, -EINVAL, "invalid base manifest digest '%s'",
                            base_manifest_digest ? base_manifest_digest : "(null)");
    r = load_object(config, len, PF_CONFIG_MAX, "image config", &root, errbuf, errlen);
    if (r < 0)
        return r;
    rootfs = json_object_get(root, "rootfs");
    ids = json_object_get(rootfs, "diff_ids");
    if (!json_is_object(rootfs) || !json_is_array(ids)) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "image config has no rootfs.diff_ids array");
        goto out;
    }
    if (json_array_append_new(ids, json_string(layer_diff_id)) < 0) {
        r = -ENOMEM;
        goto out;
    }
    r = add_history(root, history_text);
    if (r == -EINVAL)
        pf_set_error(errbuf, errlen, r, "image config history is not an array");
    if (r < 0)
        goto out;
    cfg = object_member(root, "config", &r);
    labels = cfg ? object_member(cfg, "Labels", &r) : NULL;
    if (!labels) {
        if (r == -EINVAL)
            pf_set_error(errbuf, errlen, r, "image config has a malformed config.Labels");
        goto out;
    }
    r = set_string(labels, WORKER_IMAGE_PATCH_LABEL_BASE, base_manifest_digest);
    if (r == 0)
        r = pf_json_dump(root, ret, ret_len);
out:
    json_decref(root);
    return r;
}

static bool desc_ok(const struct pf_descriptor *d)
{
    return d && d->digest && pf_digest_is_valid(d->digest) && d->size >= 0;
}

/* A descriptor object: mediaType, digest, size and annotations (when any). New reference. */
static json_t *desc_json(const struct pf_descriptor *d, const char *media_type)
{
    json_t *o = json_object(), *a;
    int bad = !o;

    if (bad)
        return NULL;
    bad |= json_object_set_new(o, "mediaType", json_string(media_type));
    bad |= json_object_set_new(o, "digest", json_string(d->digest));
    bad |= json_object_set_new(o, "size", json_integer(d->size));
    if (!bad && d->annotations.n >= 2) {
        a = json_object();
        bad |= json_object_set_new(o, "annotations", a);
        for (size_t i = 0; !bad && i + 1 < d->annotations.n; i += 2)
            bad |= json_object_set_new(a, d->annotations.v[i],
                                       json_string(d->annotations.v[i + 1]));
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Sets the base.digest / base.name annotations of an OCI document. */
static int set_base_annotations(json_t *root, const char *base_digest, const char *base_name)
{
    json_t *ann;
    int r = 0;

    ann = object_member(root, "annotations", &r);
    if (!ann)
        return r;
    if (base_digest)
        r = set_string(ann, WORKER_IMAGE_PATCH_ANN_BASE_DIGEST, base_digest);
    if (r == 0 && base_name)
        r = set_string(ann, WORKER_IMAGE_PATCH_ANN_BASE_NAME, base_name);
    return r;
}

static int check_schema2(json_t *root, const char *what, char *errbuf, size_t errlen)
{
    json_t *sv = json_object_get(root, "schemaVersion");

    if (!json_is_integer(sv) || json_integer_value(sv) != 2)
        return pf_set_error(errbuf, errlen, -EINVAL, "%s schemaVersion is not 2", what);
    return 0;
}

int worker_image_patch_manifest(const char *manifest, size_t len,
                                const struct pf_descriptor *new_config,
                                const struct pf_descriptor *new_layer, const char *base_digest,
                                const char *base_name, char **ret, size_t *ret_len, char *errbuf,
                                size_t errlen)
{
    json_t *root = NULL, *mt, *layers, *cfg, *cfg_mt;
    const char *config_mt, *layer_mt = PF_MT_OCI_LAYER_GZIP;
    bool docker = false;
    int r;

    if (!desc_ok(new_config) || !desc_ok(new_layer))
        return pf_set_error(errbuf, errlen, -EINVAL, "invalid new config or layer descriptor");
    if (base_digest && !pf_digest_is_valid(base_digest))
        return pf_set_error(errbuf, errlen, -EINVAL, "invalid base digest '%s'", base_digest);
    r = load_object(manifest, len, PF_MANIFEST_MAX, "manifest", &root, errbuf, errlen);
    if (r < 0)
        return r;
    r = check_schema2(root, "manifest", errbuf, errlen);
    if (r < 0)
        goto out;
    mt = json_object_get(root, "mediaType");
    if (mt && !json_is_string(mt)) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "manifest mediaType is not a string");
        goto out;
    }
    if (mt && strcmp(json_string_value(mt), PF_MT_DOCKER_MANIFEST) == 0) {
        docker = true;
        layer_mt = PF_MT_DOCKER_LAYER_GZIP;
    } else if (mt && strcmp(json_string_value(mt), PF_MT_OCI_MANIFEST) != 0) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "mediaType '%.100s' is not an image manifest",
                         json_string_value(mt));
        goto out;
    }
    cfg = json_object_get(root, "config");
    layers = json_object_get(root, "layers");
    if (!json_is_object(cfg) || !json_is_array(layers)) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "manifest has no config object or layers array");
        goto out;
    }
    cfg_mt = json_object_get(cfg, "mediaType");
    config_mt = new_config->media_type   ? new_config->media_type
                : json_is_string(cfg_mt) ? json_string_value(cfg_mt)
                : docker                 ? PF_MT_DOCKER_CONFIG
                                         : PF_MT_OCI_CONFIG;
    r = -ENOMEM;
    /* desc_json's result is stolen by set_new/append_new even when they fail. */
    if (json_object_set_new(root, "config", desc_json(new_config, config_mt)) < 0)
        goto out;
    if (json_array_append_new(layers, desc_json(new_layer, layer_mt)) < 0)
        goto out;
    r = 0;
    if (!docker)
        r = set_base_annotations(root, base_digest, base_name);
    if (r == -EINVAL)
        pf_set_error(errbuf, errlen, r, "manifest annotations is not an object");
    if (r == 0)
        r = pf_json_dump(root, ret, ret_len);
out:
    json_decref(root);
    return r;
}

/* Applies the swaps and drops attestations; `ix` is the parsed twin of `arr` (same order). */
static int rewrite_entries(json_t *arr, const struct pf_index *ix,
                           const struct worker_image_patch_swap *swaps, size_t n_swaps,
                           char *errbuf, size_t errlen)
{
    size_t used = 0, j = 0;
    int r;

    for (size_t i = 0; i < ix->n_manifests; i++) {
        const struct pf_descriptor *d = &ix->manifests[i];
        json_t *e = json_array_get(arr, j);

        if (pf_descriptor_is_attestation(d)) {
            if (json_array_remove(arr, j) < 0)
                return -ENOMEM;
            continue;
        }
        for (size_t k = 0; k < n_swaps; k++) {
            if (strcmp(swaps[k].old_digest, d->digest) != 0)
                continue;
            r = set_string(e, "digest", swaps[k].new_digest);
            if (r == 0 && json_object_set_new(e, "size", json_integer(swaps[k].new_size)) < 0)
                r = -ENOMEM;
            if (r < 0)
                return r;
            used++;
            break;
        }
        j++;
    }
    if (used < n_swaps)
        return pf_set_error(errbuf, errlen, -EINVAL, "a patched platform is not in the index");
    return 0;
}

int worker_image_patch_index(const char *index, size_t len,
                             const struct worker_image_patch_swap *swaps, size_t n_swaps,
                             const char *base_digest, const char *base_name, char **ret,
                             size_t *ret_len, char *errbuf, size_t errlen)
{
    struct pf_index ix;
    json_t *root = NULL, *mt;
    char why[256];
    int r;

    for (size_t k = 0; k < n_swaps; k++)
        if (!swaps[k].old_digest || !swaps[k].new_digest ||
            !pf_digest_is_valid(swaps[k].new_digest) || swaps[k].new_size < 0)
            return pf_set_error(errbuf, errlen, -EINVAL, "invalid index swap %zu", k);
    if (base_digest && !pf_digest_is_valid(base_digest))
        return pf_set_error(errbuf, errlen, -EINVAL, "invalid base digest '%s'", base_digest);
    /* The parsed twin validates every entry and answers "is this an attestation". */
    r = pf_index_parse(index, len, &ix, why, sizeof(why));
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "invalid index: %s", why);
    r = load_object(index, len, PF_MANIFEST_MAX, "index", &root, errbuf, errlen);
    if (r < 0)
        goto out;
    r = rewrite_entries(json_object_get(root, "manifests"), &ix, swaps, n_swaps, errbuf, errlen);
    if (r < 0)
        goto out;
    mt = json_object_get(root, "mediaType");
    if (!json_is_string(mt) || strcmp(json_string_value(mt), PF_MT_DOCKER_LIST) != 0)
        r = set_base_annotations(root, base_digest, base_name);
    if (r == -EINVAL)
        pf_set_error(errbuf, errlen, r, "index annotations is not an object");
    if (r == 0)
        r = pf_json_dump(root, ret, ret_len);
out:
    json_decref(root);
    pf_index_release(&ix);
    return r;
}

char *worker_image_patch_history_text(const struct worker_engine_upgrade *upgrades, size_t n,
                                      size_t max)
{
    struct pf_buf b = PF_BUF_INIT;
    char tail[64];
    size_t i, keep;
    int r;

    r = pf_buf_appendf(&b, "upgraded %zu package%s", n, n == 1 ? "" : "s");
    for (i = 0; r == 0 && i < n; i++) {
        const struct worker_engine_upgrade *u = &upgrades[i];
        size_t before = b.len;

        if (u->from)
            r = pf_buf_appendf(&b, "%s%s %s -> %s", i ? ", " : ": ", u->name, u->from, u->to);
        else
            r = pf_buf_appendf(&b, "%s%s (new) %s", i ? ", " : ": ", u->name, u->to);
        /* Room must remain for the tail that says how many were left out. */
        (void)snprintf(tail, sizeof(tail), ", ... (%zu more)", n - i);
        if (r == 0 && b.len + (i + 1 < n ? strlen(tail) : 0) > max) {
            b.len = before;
            b.p[before] = '\0';
            r = pf_buf_appends(&b, tail);
            break;
        }
    }
    if (r < 0) {
        pf_buf_release(&b);
        return NULL;
    }
    keep = utf8_prefix(b.p, max);
    b.p[keep] = '\0';
    b.len = keep;
    return pf_buf_steal(&b, NULL);
}
