/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the message codecs (msg_job.c, msg_result.c) share: strict JSON member setters and
 * getters whose errors name the field, the version check, the bounded loader and the bounded
 * compact dump. Internal to common/; the wire format itself is pf/msg.h.
 */
#ifndef PF_MSG_JSON_H
#define PF_MSG_JSON_H

#include "pf/json.h"

#include "pf/setup.h"

struct pf_strv;

/* Set `key` on object `o`. Strings: NULL sets null; -EINVAL for invalid UTF-8 (jansson refuses
 * it), -ENOMEM. */
int pf__msg_set_str(json_t *o, const char *key, const char *s);
int pf__msg_set_int(json_t *o, const char *key, json_int_t n);
int pf__msg_set_bool(json_t *o, const char *key, bool b);
int pf__msg_set_strv(json_t *o, const char *key, const struct pf_strv *sv);

/* Serialises `o` compactly into a new string; -E2BIG past PF_MSG_MAX_BYTES, -ENOMEM. */
int pf__msg_dump(json_t *o, char **ret, size_t *ret_len);

/* Copies string member `key` (`where` prefixes the name in messages: "platforms[1]."). Absent
 * or null leaves *ret NULL unless `required`. Returns 0, -EINVAL naming the field, -ENOMEM. */
int pf__msg_get_str(json_t *o, const char *where, const char *key, bool required, char **ret,
                    char *errbuf, size_t errlen);
/* Integer member in [min, max]; absent or null leaves *ret alone. */
int pf__msg_get_int(json_t *o, const char *key, json_int_t min, json_int_t max, int64_t *ret,
                    char *errbuf, size_t errlen);
/* Boolean member; absent or null leaves *ret alone. */
int pf__msg_get_bool(json_t *o, const char *key, bool *ret, char *errbuf, size_t errlen);
/* Appends the strings of array member `key` to `sv`; absent or null is an empty list. */
int pf__msg_get_strv(json_t *o, const char *key, struct pf_strv *sv, char *errbuf, size_t errlen);

/* Parses `data` into a JSON object (new reference in *ret) and checks its "v": -E2BIG past
 * PF_MSG_MAX_BYTES, -EINVAL (not JSON, not an object, duplicate keys, no "v"),
 * -EPROTONOSUPPORT (another major version). `what` names the message ("job", "result"). */
int pf__msg_load(const char *data, size_t len, const char *what, json_t **ret, char *errbuf,
                 size_t errlen);

#endif
