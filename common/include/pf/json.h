/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patchfleet's jansson wrapper, and the one place that includes <jansson.h>: every other file
 * includes "pf/json.h" and uses jansson's value API (json_t, json_object_get, json_pack...)
 * through it, so the library stays behind one door (STYLE L3) while its data model, which is
 * already the right one, is not wrapped a second time.
 *
 * What the wrapper adds is the one way JSON leaves patchfleet: members in document order, into
 * a pf_buf, so every byte that gets hashed or sent is produced the same way (manifests,
 * configs, messages), and what people read is indented the same way everywhere.
 */
#ifndef PF_JSON_H
#define PF_JSON_H

#include "pf/setup.h"

#include <jansson.h>

/* Serialises `root` compactly, members in insertion order. Returns 0 with a new NUL-terminated
 * string in *ret and its length in *ret_len, or -ENOMEM. */
int pf_json_dump(const json_t *root, char **ret, size_t *ret_len);

/* The same for people: two-space indentation and a final newline (--format json output). */
int pf_json_dump_pretty(const json_t *root, char **ret, size_t *ret_len);

#endif
