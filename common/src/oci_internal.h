/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by oci.c, oci_layout.c and the registry code: descriptor <-> JSON and a
 * jansson dump into pf_malloc'ed memory. Not part of the public API.
 */
#ifndef PF_OCI_INTERNAL_H
#define PF_OCI_INTERNAL_H

#include "pf/json.h"

#include "pf/oci.h"

/* Parses a descriptor object. Returns 0, -EINVAL (reason in errbuf) or -ENOMEM. */
int pf__descriptor_parse(json_t *o, struct pf_descriptor *ret, char *errbuf, size_t errlen);
/* New reference, or NULL on OOM. */
json_t *pf__descriptor_to_json(const struct pf_descriptor *d);

#endif
