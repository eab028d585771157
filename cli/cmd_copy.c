/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `patchfleet copy SRC DST`: copy an image, or a whole multi-platform index, between
 * repositories or registries (pf/copy.h does the work: mount where possible, upload only
 * what is missing, verify every digest). DST without a tag takes SRC's tag.
 */
#include "pf/setup.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pf/alloc.h"
#include "pf/copy.h"
#include "pf/ref.h"
#include "registry_opts.h"

static void copy_usage(FILE *out)
{
    fprintf(out, "usage: patchfleet copy [options] SRC DST\n\n"
                 "Copies an image or a whole index (every platform) from SRC to DST.\n"
                 "SRC is REPO:TAG or REPO@DIGEST; DST without a tag takes SRC's "
                 "tag.\n\n" PF_REGISTRY_OPTS_HELP);
}

static int parse_refs(const char *src_s, const char *dst_s, struct pf_ref *src, struct pf_ref *dst)
{
    char err[512];

    if (pf_ref_parse(src_s, src, err, sizeof(err)) < 0) {
        cli_error("copy: %s", err);
        return -EINVAL;
    }
    if (!src->tag && !src->digest) {
        cli_error("copy: source '%s' needs a tag or a digest", src_s);
        return -EINVAL;
    }
    if (pf_ref_parse(dst_s, dst, err, sizeof(err)) < 0) {
        cli_error("copy: %s", err);
        return -EINVAL;
    }
    if (!dst->tag && !dst->digest && src->tag) {
        dst->tag = pf_strdup(src->tag);
        if (!dst->tag)
            return -ENOMEM;
    }
    return 0;
}

int cli_copy(int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        PF_REGISTRY_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct pf_registry_opts ropts = PF_REGISTRY_OPTS_INIT;
    struct pf_ref src = {0}, dst = {0};
    struct pf_copy_stats st = {0};
    struct pf_registry *reg = NULL;
    char err[1024] = "";
    char *src_s = NULL, *dst_s = NULL;
    int status = CLI_EXIT_USAGE, opt, r;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'h') {
            copy_usage(stdout);
            status = CLI_EXIT_OK;
            goto out;
        }
        r = pf_registry_opts_parse(&ropts, opt, optarg);
        if (r <= 0) {
            if (r < 0)
                cli_error("out of memory");
            else
                copy_usage(stderr);
            goto out;
        }
    }
    if (argc - optind != 2) {
        cli_error("copy: expected SRC and DST");
        copy_usage(stderr);
        goto out;
    }
    if (parse_refs(argv[optind], argv[optind + 1], &src, &dst) < 0)
        goto out;
    status = CLI_EXIT_FAILED;
    src_s = pf_ref_to_string(&src);
    dst_s = pf_ref_to_string(&dst);
    reg = cli_registry_new(&ropts);
    if (!src_s || !dst_s || !reg)
        goto out;
    r = pf_copy_image(reg, &src, &dst, NULL, &st, err, sizeof(err));
    if (r < 0) {
        cli_error("copy %s -> %s failed: %s", src_s, dst_s, err[0] ? err : "out of memory");
        goto out;
    }
    printf("copied %s -> %s %s: %lu blobs, %lu uploaded (%" PRIu64 " bytes), %lu mounted, "
           "%lu already present\n",
           src_s, dst_s, st.digest, st.blobs_total, st.blobs_uploaded, st.bytes_uploaded,
           st.blobs_mounted, st.blobs_skipped);
    status = CLI_EXIT_OK;
out:
    pf_free(src_s);
    pf_free(dst_s);
    pf_ref_release(&src);
    pf_ref_release(&dst);
    reg = pf_registry_free(reg);
    pf_registry_opts_release(&ropts);
    return status;
}
