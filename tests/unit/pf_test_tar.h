/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-memory tars for the unit tests that feed the Debian engine (.deb members, image layers):
 * one builder instead of a copy per test. Include after pf_test.h.
 */
#ifndef PF_TEST_TAR_H
#define PF_TEST_TAR_H

#include "pf/archive.h"

#define PF_TEST_TAR_CAP (1u << 20)

struct pf_test_tent {
    const char *name;
    char type;        /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link, 'p' fifo */
    const char *data; /* file content, or the link target */
};

struct pf_test_tar_opts {
    bool gnutar;           /* GNU tar headers; otherwise restricted pax */
    unsigned dir_mode;     /* directories' permissions (0: 0644, like files) */
    const unsigned *modes; /* per entry, overriding both (may be NULL) */
};

/* A tar of `ents` in a new buffer of at most PF_TEST_TAR_CAP bytes (its length in *ret_len);
 * opts may be NULL. Fails the test on any libarchive error. */
static inline char *pf_test_tar(const struct pf_test_tent *ents, size_t n,
                                const struct pf_test_tar_opts *opts, size_t *ret_len)
{
    static const struct pf_test_tar_opts defaults = {0};
    const struct pf_test_tar_opts *o = opts ? opts : &defaults;
    struct archive *a = archive_write_new();
    char *buf = pf_malloc(PF_TEST_TAR_CAP);
    size_t used = 0;

    assert_non_null(buf);
    assert_int_equal(o->gnutar ? archive_write_set_format_gnutar(a)
                               : archive_write_set_format_pax_restricted(a),
                     ARCHIVE_OK);
    assert_int_equal(archive_write_open_memory(a, buf, PF_TEST_TAR_CAP, &used), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        char t = ents[i].type;
        size_t len = t == 'f' ? strlen(ents[i].data) : 0;
        unsigned mode = o->modes ? o->modes[i] : t == 'd' && o->dir_mode ? o->dir_mode : 0644;

        archive_entry_set_pathname(e, ents[i].name);
        archive_entry_set_perm(e, (mode_t)mode);
        archive_entry_set_filetype(e, t == 'd'   ? AE_IFDIR
                                      : t == 'l' ? AE_IFLNK
                                      : t == 'p' ? AE_IFIFO
                                                 : AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)len);
        if (t == 'l')
            archive_entry_set_symlink(e, ents[i].data);
        if (t == 'h')
            archive_entry_set_hardlink(e, ents[i].data);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (len)
            assert_int_equal(archive_write_data(a, ents[i].data, len), (la_ssize_t)len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *ret_len = used;
    return buf;
}

#endif
