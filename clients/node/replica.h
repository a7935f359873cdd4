/* replica: the node's copy of the network directory (db "services", meta "dir_seq").
 *
 * The broker numbers every directory change and fans it out (the Clone pattern); this module
 * applies those DirUpdates and answers searches locally, so search works while the hub is
 * down. Each service is stored as a DirRecord with the seq of the change that produced it;
 * withdrawals stay as tombstones (withdrawn = true, no service). An update is applied only
 * when its seq is above the stored record's, so a late or repeated update can never undo a
 * newer one, whatever order catch-up and live fan-out arrive in.
 *
 * The head ("dir_seq") is the highest seq up to which the replica holds every change. It
 * advances by one for the next live update and jumps to DirSyncDone.seq at the end of a
 * catch-up. An update above head + 1 reveals a gap: the caller asks the broker for a DirSync.
 *
 * All functions work inside a transaction owned by the caller. Single-threaded. */
#ifndef REFNET_REPLICA_H
#define REFNET_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.pb-c.h"
#include "store.h"

/* What replica_apply did. */
typedef struct {
    bool changed; /* the stored record was replaced */
    bool gap;     /* update.seq > head + 1: changes are missing; ask for a DirSync */
} replica_apply_t;

/* Applies one update (already validated by wire_decode). Returns 0 and fills *res (may be
 * NULL), or a store error. */
int
replica_apply(MDB_txn *txn, const store_t *st, const Refnet__DirUpdate *up, replica_apply_t *res);
/* Ends a catch-up: head = max(head, seq). */
int replica_sync_done(MDB_txn *txn, const store_t *st, uint64_t seq);
/* Reads the head seq (0 for an empty replica). */
int replica_head(MDB_txn *txn, const store_t *st, uint64_t *out);

/* Reads the live record of service `id`. Returns 0 and *out (caller owns; a decoded
 * Refnet__DirRecord with its service set), REFNET_ENOTFOUND when unknown or withdrawn, or
 * REFNET_EDECODE / REFNET_ESTORAGE. */
int replica_get(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out);
/* Counts the live (not withdrawn) services. */
int replica_count(MDB_txn *txn, const store_t *st, size_t *out);

/* A search (API.md "search"). Strings are borrowed; NULL or "" means no filter. */
typedef struct {
    const char *text;     /* case-insensitive substring of name, description or a taxonomy code */
    const char *taxonomy; /* a code, matching exactly or as a prefix ending at '-' or '.' */
    bool has_near;        /* sort by distance from (lat, lon) */
    double lat, lon;
    double radius_km; /* with has_near: keep services within it; 0 = no radius */
    bool available;   /* keep services with available > 0 that are accepting referrals */
    size_t limit;     /* at most this many results (1..NODE_SEARCH_LIMIT_MAX) */
} replica_query_t;

/* One result: the service's DirRecord and, with has_near and a location, its distance. */
typedef struct {
    pbuf_t *rec; /* decoded Refnet__DirRecord (owned by the hit list) */
    double distance_km;
    bool has_distance;
} replica_hit_t;

/* Runs `q` over the whole replica. Results are sorted by distance when q->has_near (services
 * without a location come last, and are left out when a radius is given), otherwise by name;
 * ties by id. Returns 0 and sets *hits (caller owns; replica_hits_free) and *n, or a store /
 * decode error. */
int replica_search(
    MDB_txn *txn, const store_t *st, const replica_query_t *q, replica_hit_t **hits, size_t *n);
/* Frees a hit list. Accepts NULL; nulls *hits. */
void replica_hits_free(replica_hit_t **hits, size_t n);

/* Great-circle distance in km between two WGS84 points (haversine, mean Earth radius). */
double replica_distance_km(double lat1, double lon1, double lat2, double lon2);
/* True when service code `code` matches taxonomy filter `want` (exact, or `want` followed by
 * '-' or '.'). */
bool replica_taxonomy_match(const char *code, const char *want);
/* True when `needle` is an ASCII-case-insensitive substring of `hay` ("" matches). */
bool replica_text_contains(const char *hay, const char *needle);

#endif
