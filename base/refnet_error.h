/* refnet_error: the project's error codes and their one strerror.
 *
 * Functions return 0 on success and a negative code on failure: either -errno or one of the
 * REFNET_E* codes below. Library errors (LMDB, protobuf-c, ZeroMQ) are translated into these at
 * the edge of the module that wraps each library. */
#ifndef REFNET_ERROR_H
#define REFNET_ERROR_H

enum {
    REFNET_OK = 0,
    REFNET_EINVAL = -1000,      /* input is malformed or over a documented limit */
    REFNET_ENOTFOUND = -1001,   /* no such record */
    REFNET_EEXIST = -1002,      /* record already exists */
    REFNET_EFORBIDDEN = -1003,  /* the caller may not do this (ownership, role) */
    REFNET_ETRANSITION = -1004, /* the handoff state machine refuses the change */
    REFNET_ECONSENT = -1005,    /* no valid consent covers the disclosure */
    REFNET_ESTORAGE = -1006,    /* LMDB failed */
    REFNET_EFULL = -1007,       /* LMDB map is full ("storage full") */
    REFNET_EQUEUEFULL = -1008,  /* a mailbox or outbox is over its limit */
    REFNET_ETOOLARGE = -1009,   /* a frame or value is over its size limit */
    REFNET_EDECODE = -1010,     /* bytes are not a valid protobuf message */
    REFNET_EVERSION = -1011,    /* unsupported protocol or record version */
    REFNET_ETIMEOUT = -1012,    /* no answer in time */
    REFNET_ECRYPTO = -1013,     /* key or certificate problem */
    REFNET_EUNAVAIL = -1014,    /* peer (broker, node) not reachable */
    REFNET_EIO = -1015,         /* file or socket failure */
};

/* Returns a static sentence for `code`: a REFNET_E* code or a negative errno. Never NULL. */
const char *refnet_strerror(int code);

/* The local API's name for a code (clients/lib/API.md): "invalid", "not-found", "exists",
 * "consent", "transition", "forbidden", "queue-full", "storage-full", "unavailable", or
 * "internal" for every other code. */
const char *refnet_error_name(int code);
/* The inverse of refnet_error_name; unknown names give REFNET_ESTORAGE. */
int refnet_error_from_name(const char *name);

#endif
