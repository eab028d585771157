/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The upgrade decision of the native Debian engine: given the dpkg database of an image and the
 * candidates of its verified apt indexes, which packages move to which version. It follows
 * `apt-get upgrade` where that is well defined (newest candidate of the same architecture,
 * holds respected, Multi-Arch: same sets moving together, unmet Depends/Pre-Depends of the new
 * versions pulled in) and refuses instead of guessing where apt would ask a human (an
 * unsatisfiable dependency, or one that needs a held package to move). Rules: docs/apt-plan.md.
 */
#ifndef WORKER_DEB_APT_PLAN_H
#define WORKER_DEB_APT_PLAN_H

#include "pf/setup.h"
#include "pf/strv.h"

struct worker_dpkg_db;
struct worker_dpkg_pkg;
struct worker_apt_index;
struct worker_apt_candidate;

struct worker_apt_plan_item {
    const struct worker_dpkg_pkg *installed;      /* NULL for a newly needed dependency */
    const struct worker_apt_candidate *candidate; /* the version to install */
};

struct worker_apt_plan {
    struct worker_apt_plan_item *items; /* sorted by package name then arch; borrowed pointers */
    size_t n;
    struct pf_strv held; /* "name:arch" held back by a hold (reported, not an error) */
};

#define WORKER_APT_PLAN_INIT                                                                       \
    {                                                                                              \
        NULL, 0, PF_STRV_INIT                                                                      \
    }

/*
 * Computes the upgrade plan (see docs/apt-plan.md): every installed, not held package whose
 * best candidate of the same architecture (or "all" for arch all) is newer by Debian version
 * order, Multi-Arch: same packages installed for several architectures moving together or not
 * at all, plus the packages needed to satisfy the Depends and Pre-Depends of the new versions
 * (alternatives, version relations, :any/:native/:<arch> qualifiers, Provides, Multi-Arch:
 * foreign), pulled in recursively. Dependencies that the installed version already left unmet
 * (distroless status.d images carry no dependency closure) are not pulled in.
 * `native_arch` is the dpkg architecture of the image (arch "all" packages count as native).
 *
 * On success *ret is filled (release with worker_apt_plan_release()); its pointers borrow from
 * `db` and `idx`, which must outlive it. Returns the number of items, -EINVAL when a dependency
 * cannot be satisfied or needs a held package to move (errbuf names both packages) or when a
 * dependency field is malformed, or -ENOMEM. *ret is untouched on failure.
 */
int worker_apt_plan_build(const struct worker_dpkg_db *db, const struct worker_apt_index *idx,
                          const char *native_arch, struct worker_apt_plan *ret, char *errbuf,
                          size_t errlen);

/* Frees what worker_apt_plan_build() filled in and leaves an empty plan; accepts NULL. */
void worker_apt_plan_release(struct worker_apt_plan *p);

#endif
