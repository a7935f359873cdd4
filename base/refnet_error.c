/* refnet_error: code -> sentence and code <-> local API name (see refnet_error.h). */
#include "refnet_error.h"

#include <stddef.h>
#include <string.h>

typedef struct {
    int code;
    const char *name;     /* local API error code */
    const char *sentence; /* refnet_strerror text */
} refnet_error_entry_t;

static const refnet_error_entry_t refnet_errors[] = {
    { REFNET_EINVAL, "invalid", "invalid input" },
    { REFNET_ENOTFOUND, "not-found", "not found" },
    { REFNET_EEXIST, "exists", "already exists" },
    { REFNET_EFORBIDDEN, "forbidden", "not permitted for this agency" },
    { REFNET_ETRANSITION, "transition", "refused by the handoff state machine" },
    { REFNET_ECONSENT, "consent", "no valid consent covers this disclosure" },
    { REFNET_ESTORAGE, "internal", "storage error" },
    { REFNET_EFULL, "storage-full", "storage full" },
    { REFNET_EQUEUEFULL, "queue-full", "queue full" },
    { REFNET_ETOOLARGE, "invalid", "too large" },
    { REFNET_EDECODE, "invalid", "malformed message" },
    { REFNET_EVERSION, "invalid", "unsupported version" },
    { REFNET_ECRYPTO, "internal", "key or certificate error" },
    { REFNET_EUNAVAIL, "unavailable", "not reachable" },
    { REFNET_ETIMEOUT, "unavailable", "timed out" },
    { REFNET_EIO, "internal", "input/output error" },
};

#define REFNET_ERRORS_N (sizeof refnet_errors / sizeof refnet_errors[0])

static const refnet_error_entry_t *
refnet_error_find(int code)
{
    for (size_t i = 0; i < REFNET_ERRORS_N; i++)
        if (refnet_errors[i].code == code)
            return &refnet_errors[i];
    return NULL;
}

const char *
refnet_strerror(int code)
{
    if (code == 0)
        return "success";
    const refnet_error_entry_t *e = refnet_error_find(code);
    if (e)
        return e->sentence;
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}

const char *
refnet_error_name(int code)
{
    const refnet_error_entry_t *e = refnet_error_find(code);
    return e ? e->name : "internal";
}

int
refnet_error_from_name(const char *name)
{
    if (!name)
        return REFNET_ESTORAGE;
    /* The first entry with a name is its canonical code. */
    for (size_t i = 0; i < REFNET_ERRORS_N; i++)
        if (strcmp(refnet_errors[i].name, name) == 0)
            return refnet_errors[i].code;
    return REFNET_ESTORAGE;
}
