/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard page served on GET /: aggregator/web/index.html, embedded in the binary at build
 * time (aggregator/web/embed.cmake writes it as a byte array), so the daemon needs no web root
 * and the page always matches the API it calls. The page is self-contained HTML/CSS/JS that
 * polls /api/runs; nothing is fetched from outside.
 */
#include "pf/setup.h"

#include "aggregator/api.h"
#include "dashboard_page.h"

const char *aggregator_dashboard_page(size_t *ret_len)
{
    *ret_len = DASHBOARD_PAGE_LEN;
    return (const char *)dashboard_page;
}
