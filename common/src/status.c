/* SPDX-License-Identifier: Apache-2.0 */
/* The job status vocabulary (see pf/status.h). */
#include "pf/setup.h"

#include <string.h>

#include "pf/status.h"

static const char *const status_names[PF_STATUS__MAX] = {
    [PF_STATUS_PATCHED] = "Patched", [PF_STATUS_UP_TO_DATE] = "UpToDate",
    [PF_STATUS_SKIPPED] = "Skipped", [PF_STATUS_PLANNED] = "Planned",
    [PF_STATUS_FAILED] = "Failed",   [PF_STATUS_CANCELLED] = "Cancelled",
    [PF_STATUS_ERROR] = "Error",
};

const char *pf_status_to_string(enum pf_status s)
{
    if ((unsigned)s >= PF_STATUS__MAX)
        return NULL;
    return status_names[s];
}

enum pf_status pf_status_from_string(const char *s)
{
    for (int i = 0; s && i < PF_STATUS__MAX; i++)
        if (strcmp(s, status_names[i]) == 0)
            return (enum pf_status)i;
    return PF_STATUS_INVALID;
}

bool pf_status_is_failure(enum pf_status s)
{
    return s == PF_STATUS_FAILED || s == PF_STATUS_CANCELLED || s == PF_STATUS_ERROR;
}
