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
 * Every applied change also updates the search index (dirindex.h) in the same transaction, so
 * the index never disagrees with the records. A replica stored before the index existed is
 * indexed whole by the first replica_apply that finds the index unbuilt; until then searches
 * use the full scan.
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
/* Copies the name of live service `id` into out (`cap` bytes, NUL-terminated), read from its
 * record in place (no decoding: every received handoff names its service). Returns 0,
 * REFNET_ENOTFOUND when unknown or withdrawn, REFNET_ETOOLARGE when the name does not fit, or
 * REFNET_EDECODE / REFNET_ESTORAGE; out is "" unless 0. */
int replica_service_name(MDB_txn *txn, const store_t *st, const char *id, char *out, size_t cap);
/* Counts the live (not withdrawn) services (from the index's counter when it is built). */
int replica_count(MDB_txn *txn, const store_t *st, size_t *out);

/* How results are ordered (API.md "search", --sort). Every order ends with name, then id,
 * so equal keys still give one order. */
typedef enum {
    REPLICA_SORT_DEFAULT = 0, /* ready first (available > 0, accepting, not stale), distance */
    REPLICA_SORT_DISTANCE,    /* distance (services without a location last) */
    REPLICA_SORT_NAME,        /* name */
    REPLICA_SORT_UPDATED,     /* newest availability first (capacity.updated_at_ms) */
    REPLICA_SORT_AVAILABLE,   /* most places free first (unknown last), then distance */
} replica_sort_t;

/* A search (API.md "search"). Strings are borrowed; NULL or "" means no filter. */
typedef struct {
    const char *text;     /* every word of it must be a word of the name, description or a
                             taxonomy code (dirindex_tokenize: ASCII case-folded) */
    const char *taxonomy; /* a code, matching exactly or as a prefix ending at '-' or '.' */
    const char *language; /* one of the service's language codes, ignoring ASCII case */
    bool has_near;        /* measure distances from (lat, lon) */
    double lat, lon;
    double radius_km; /* with has_near: keep services within it; 0 = no radius */
    bool has_age;     /* keep services whose minimum_age <= age <= maximum_age (0 = no bound) */
    unsigned age;
    bool open_now;           /* keep services with a schedule open at (weekday, minute) */
    unsigned weekday;        /* 0 Monday .. 6 Sunday, in the node's local time */
    unsigned minute;         /* minutes after local midnight, 0..1439 */
    bool available;          /* keep services with available > 0 that are accepting referrals */
    bool accepting;          /* keep services accepting referrals */
    uint64_t now_ms;         /* for staleness */
    uint64_t stale_after_ms; /* availability older than this is stale; 0 = never stale */
    replica_sort_t sort;
    size_t limit; /* page size (1..NODE_SEARCH_LIMIT_MAX) */
    size_t page;  /* 1-based page number; 0 reads as 1 */
} replica_query_t;

/* One service that matched, with the keys it is ranked by. Strings are borrowed from the
 * transaction or from the record the search holds; they live as long as the search result. */
typedef struct {
    const char *id, *name;
    bool has_distance;
    double distance_km;
    bool ready;        /* available > 0, accepting and not stale */
    bool stale;        /* has capacity numbers older than stale_after_ms */
    int32_t available; /* -1 when unknown */
    uint64_t cap_updated_ms;
} replica_rank_t;

/* One result: the service's DirRecord and how it ranked. */
typedef struct {
    pbuf_t *rec; /* decoded Refnet__DirRecord (owned by the result) */
    double distance_km;
    bool has_distance;
    bool stale;
} replica_hit_t;

/* One page of a search and the number of services that matched in all. */
typedef struct {
    replica_hit_t *hits; /* the page, in rank order */
    size_t n;
    size_t total;   /* all matches */
    char plan;      /* the index list the search started from (dirindex_plan_t.kind) */
    size_t scanned; /* index entries visited */
} replica_result_t;

/* Runs `q` through the directory index (dirindex.h): it starts from the most selective
 * posting list, checks the other filters on each candidate, ranks all matches, and decodes
 * only the services on the requested page. Returns 0 and fills *out (caller owns;
 * replica_result_clear), or a store / decode error. */
int
replica_search(MDB_txn *txn, const store_t *st, const replica_query_t *q, replica_result_t *out);
/* The same search by a full scan of every stored record, with the filters applied to the
 * decoded Service: the model the index is tested against and the benchmark's baseline.
 * Same results and order as replica_search. */
int replica_scan_search(MDB_txn *txn,
                        const store_t *st,
                        const replica_query_t *q,
                        replica_result_t *out);
/* Frees a result's hits; accepts a zeroed struct; leaves it zeroed. */
void replica_result_clear(replica_result_t *r);

/* Orders two ranked services by `sort` (qsort-style). */
int replica_rank_cmp(const replica_rank_t *a, const replica_rank_t *b, replica_sort_t sort);
/* True when availability numbers set at `cap_updated_ms` are older than stale_after_ms at
 * now_ms (never when stale_after_ms is 0). */
bool replica_is_stale(uint64_t cap_updated_ms, uint64_t now_ms, uint64_t stale_after_ms);
/* True when a weekly period (Schedule fields) is open at (weekday 0..6, minute 0..1439).
 * A period closing at or before its opening runs into the next day. */
bool replica_schedule_open(
    uint32_t weekdays, uint32_t opens_at, uint32_t closes_at, unsigned weekday, unsigned minute);
/* True when `age` is within [minimum_age, maximum_age]; 0 bounds are open. */
bool replica_age_ok(uint32_t minimum_age, uint32_t maximum_age, unsigned age);

/* Mean Earth radius (IUGG) used for distances. */
#define REPLICA_EARTH_KM 6371.0088
/* Great-circle distance in km between two WGS84 points (haversine, mean Earth radius). */
double replica_distance_km(double lat1, double lon1, double lat2, double lon2);
/* True when service code `code` matches taxonomy filter `want` (exact, or `want` followed by
 * '-' or '.'). */
bool replica_taxonomy_match(const char *code, const char *want);
/* True when `a` and `b` are equal ignoring ASCII case. */
bool replica_same_ascii_case(const char *a, const char *b);

#endif
