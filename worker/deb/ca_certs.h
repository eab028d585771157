/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What ca-certificates' postinst does after an upgrade, reproduced as data (nothing from the
 * image runs): /etc/ca-certificates.conf updated the way the postinst updates it with debconf's
 * defaults, then what `update-ca-certificates --hooksdir ""` makes of it: the .pem links in
 * /etc/ssl/certs, the bundle ca-certificates.crt, and the subject-hash links `openssl rehash`
 * maintains. The rules and their limits are in docs/deb-apply.md.
 */
#ifndef WORKER_DEB_CA_CERTS_H
#define WORKER_DEB_CA_CERTS_H

#include "pf/setup.h"

struct worker_layer_view;
struct worker_layer_writer;

#define WORKER_CA_CERTS_PACKAGE "ca-certificates"
#define WORKER_CA_CERTS_CONF "etc/ca-certificates.conf"
#define WORKER_CA_CERTS_DIR "usr/share/ca-certificates"
#define WORKER_CA_CERTS_LOCAL_DIR "usr/local/share/ca-certificates"
#define WORKER_CA_CERTS_ETC_DIR "etc/ssl/certs"
/* Bounds on what is read: certificate files (new package plus local ones) and each one's size. */
#define WORKER_CA_CERTS_MAX_FILES 4096u
#define WORKER_CA_CERTS_MAX_FILE_SIZE (1024u * 1024)

/*
 * Adds to `w` the files the upgrade of ca-certificates to the package at `deb_path` changes
 * after its unpack: the new conf (and the old one as ca-certificates.conf.dpkg-old when it
 * changed), the bundle, links made and whiteouts for links removed in /etc/ssl/certs. `view`
 * is the image before the patch; the certificates shipped are read from the .deb. Does
 * nothing (returns 0) when the image has no /etc/ca-certificates.conf. A certificate that does
 * not parse is skipped with a warning in the log, as update-ca-certificates warns. Returns 0,
 * -EFBIG when a bound is passed, -EINVAL (malformed package, reason in errbuf), -ENOMEM, or
 * the writer's error; `w` may then hold part of the changes.
 */
int worker_ca_certs_apply(const struct worker_layer_view *view, const char *deb_path,
                          struct worker_layer_writer *w, char *errbuf, size_t errlen);

#endif
