/* test_node_fixture: shared set-up for the node's unit tests.
 *
 * Each test gets its own mkdtemp() folder under /tmp with a node store in it (small map), and
 * helpers that write the records the node's modules read: directory services (through
 * replica_apply, as the broker's updates would), persons and consents. Header only (static
 * functions), included by one test file per executable. */
#ifndef REFNET_TEST_NODE_FIXTURE_H
#define REFNET_TEST_NODE_FIXTURE_H

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "consent.h"
#include "nodedb.h"
#include "persons.h"
#include "replica.h"
#include "store.h"
#include "uid.h"
#include "xmalloc.h"

/* Map size of test stores: enough for every test here. */
#define NFX_MAP_BYTES ((size_t)64 << 20)

typedef struct {
    char dir[64];
    store_t *st;
} nfx_t;

static int
nfx_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void
nfx_rmrf(const char *dir)
{
    nftw(dir, nfx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes a temporary folder and opens a node store in it. A test cannot go on without one,
 * so failure aborts the test program. */
static inline nfx_t *
nfx_new(void)
{
    nfx_t *fx = xcalloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/refnet-node-test-XXXXXX");
    if (!mkdtemp(fx->dir) || nodedb_open(&fx->st, fx->dir, NFX_MAP_BYTES) != 0) {
        fprintf(stderr, "test fixture: cannot make a node store in %s\n", fx->dir);
        abort();
    }
    return fx;
}

static inline void
nfx_destroy(nfx_t **fx_p)
{
    nfx_t *fx = *fx_p;
    if (!fx)
        return;
    store_destroy(&fx->st);
    nfx_rmrf(fx->dir);
    free(fx);
    *fx_p = NULL;
}

static inline MDB_txn *
nfx_begin(nfx_t *fx, bool read_only)
{
    MDB_txn *txn = NULL;
    if (store_begin(fx->st, read_only, &txn) != 0)
        return NULL;
    return txn;
}

/* A service as the tests describe it. */
typedef struct {
    const char *id, *agency, *name, *description;
    const char *taxonomy[4];
    size_t ntax;
    bool has_location;
    double lat, lon;
    int available; /* -1: no capacity published */
    bool accepting;
} nfx_service_t;

/* Applies a DirUpdate carrying `s` with number `seq`. Returns replica_apply's code. */
static inline int
nfx_apply_service(
    MDB_txn *txn, const store_t *st, uint64_t seq, const nfx_service_t *s, replica_apply_t *res)
{
    Refnet__DirUpdate up = REFNET__DIR_UPDATE__INIT;
    Refnet__Service svc = REFNET__SERVICE__INIT;
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    svc.id = (char *)s->id;
    svc.agency = (char *)s->agency;
    svc.name = (char *)s->name;
    svc.description = (char *)(s->description ? s->description : "");
    svc.taxonomy = (char **)s->taxonomy;
    svc.n_taxonomy = s->ntax;
    svc.has_location = s->has_location;
    svc.lat = s->lat;
    svc.lon = s->lon;
    if (s->available >= 0) {
        cap.available = s->available;
        cap.maximum = 100;
        svc.capacity = &cap;
    }
    in.accepting = s->accepting;
    svc.intake = &in;
    up.seq = seq;
    up.service_id = (char *)s->id;
    up.agency = (char *)s->agency;
    up.service = &svc;
    return replica_apply(txn, st, &up, res);
}

/* Applies a tombstone for `id` with number `seq`. */
static inline int
nfx_apply_withdraw(MDB_txn *txn,
                   const store_t *st,
                   uint64_t seq,
                   const char *id,
                   const char *agency,
                   replica_apply_t *res)
{
    Refnet__DirUpdate up = REFNET__DIR_UPDATE__INIT;
    up.seq = seq;
    up.service_id = (char *)id;
    up.agency = (char *)agency;
    up.withdrawn = true;
    return replica_apply(txn, st, &up, res);
}

/* Adds a person; `contact` may be "". */
static inline int
nfx_add_person(
    MDB_txn *txn, const store_t *st, const char *name, const char *contact, char id[UID_STR_LEN])
{
    Refnet__PersonRecord p = REFNET__PERSON_RECORD__INIT;
    p.name = (char *)name;
    p.contact = (char *)contact;
    if (contact[0])
        p.preferred_contact = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE;
    return persons_add(txn, st, &p, clock_now_ms(), id);
}

/* Adds a consent of `person` for `recipient` and "referral". */
static inline int
nfx_add_consent(MDB_txn *txn,
                const store_t *st,
                const char *person,
                const char *recipient,
                const Refnet__Category *cats,
                size_t n,
                uint64_t effective,
                uint64_t expires,
                char id[UID_STR_LEN])
{
    Refnet__ConsentRecord c = REFNET__CONSENT_RECORD__INIT;
    c.person_id = (char *)person;
    c.recipient = (char *)recipient;
    c.discloser = (char *)"harbor";
    c.purpose = (char *)"referral";
    c.categories = (Refnet__Category *)cats;
    c.n_categories = n;
    c.effective_at_ms = effective;
    c.expires_at_ms = expires;
    return consent_add(txn, st, &c, clock_now_ms(), id);
}

/* Number of entries in node database `index`. */
static inline size_t
nfx_count(nfx_t *fx, size_t index)
{
    MDB_txn *txn = nfx_begin(fx, true);
    size_t n = (size_t)-1;
    if (txn)
        nodedb_count(txn, fx->st, index, &n);
    store_abort(&txn);
    return n;
}

#endif
