/* dirindex: the search index over the directory replica (see dirindex.h). */
#include "dirindex.h"
#include "dirindex_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirbits.h"
#include "geohash.h"
#include "log.h"
#include "nodedb.h"
#include "refnet_error.h"
#include "wire.h"
#include "xmalloc.h"

/* Geohash precision stored in postings (about 1.2 km x 0.6 km cells). */
#define GEO_PREC 6
/* Coarsest precision counted for planning (geohash_cover's coarsest). */
#define GEO_PREC_MIN GEOHASH_COVER_MIN_PREC
/* Format of the facets and keys; a different stored value makes the node rebuild. */
#define DIRINDEX_VERSION 9
/* A planned search expected to visit more candidates than this loads the available (or
 * accepting) set to drop candidates early (about 250 small reads at a million services). */
#define DIRINDEX_GATE_MIN 256
/* Longest 'N' key: 'N', name, 0x00, id. */
#define DIRINDEX_NAME_KEY_MAX (2 + WIRE_MAX_NAME + WIRE_MAX_IDENT)
/* Fixed part of a facet: lat, lon, updated, cap_updated (8 each), available (4), two ages
 * (2 each), flags, schedule count, id length, name length (1 each). */
#define FACET_HEAD  44
#define FACET_SCHED 5
#define FACET_MAX                                                                                  \
    (FACET_HEAD + WIRE_MAX_SCHEDULES * FACET_SCHED + WIRE_MAX_IDENT + WIRE_MAX_NAME + 2)

enum { FACET_LOCATION = 1, FACET_CAPACITY = 2, FACET_ACCEPTING = 4 };

/* A decoded facet; strings point into the map. */
typedef struct {
    double lat, lon;
    uint64_t updated_ms, cap_updated_ms;
    int32_t available;
    uint16_t min_age, max_age;
    uint8_t flags, n_sched;
    const uint8_t *sched;
    const char *id, *name;
} facet_t;

/* ---- words ------------------------------------------------------------------------------ */

static bool
dirindex_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static void
dirindex_add_word(dirindex_words_t *w, const char *word)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->word[i], word) == 0)
            return;
    snprintf(w->word[w->n++], sizeof w->word[0], "%s", word);
}

void
dirindex_tokenize(const char *text, dirindex_words_t *w, size_t max)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    if (max > DIRINDEX_MAX_WORDS)
        max = DIRINDEX_MAX_WORDS;
    while (*p && w->n < max) {
        char word[DIRINDEX_WORD_MAX + 1];
        size_t n = 0;
        while (*p && !dirindex_word_byte(*p))
            p++;
        for (; *p && dirindex_word_byte(*p); p++)
            if (n < DIRINDEX_WORD_MAX)
                word[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
        word[n] = '\0';
        if (n > 0)
            dirindex_add_word(w, word);
    }
}

void
dirindex_service_words(const Refnet__Service *svc, dirindex_words_t *w)
{
    w->n = 0;
    dirindex_tokenize(svc->name, w, DIRINDEX_MAX_WORDS);
    for (size_t i = 0; i < svc->n_taxonomy; i++)
        dirindex_tokenize(svc->taxonomy[i], w, DIRINDEX_MAX_WORDS);
    dirindex_tokenize(svc->description, w, DIRINDEX_MAX_WORDS);
}

/* ---- keys ------------------------------------------------------------------------------- */

void
dk_add(dk_t *k, const void *p, size_t n)
{
    /* Every part is bounded well below DK_MAX; cut, never overflow. */
    if (k->n >= DK_MAX)
        return;
    if (n > DK_MAX - k->n)
        n = DK_MAX - k->n;
    memcpy(&k->b[k->n], p, n);
    k->n += n;
}

void
dk_str(dk_t *k, const char *s)
{
    dk_add(k, s, strlen(s));
}

void
dk_byte(dk_t *k, uint8_t c)
{
    dk_add(k, &c, 1);
}

void
dk_docno(dk_t *k, uint32_t docno)
{
    uint8_t b[4] = { (uint8_t)(docno >> 24), (uint8_t)(docno >> 16), (uint8_t)(docno >> 8),
                     (uint8_t)docno };
    dk_add(k, b, 4);
}

static uint32_t
dk_tail_docno(const MDB_val *k)
{
    const uint8_t *b = (const uint8_t *)k->mv_data + k->mv_size - 4;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A term: kind, text and (for variable-length text) a 0x00 terminator. */
dk_t
dk_term(char kind, const char *text, bool terminated)
{
    dk_t k = { .n = 0 };
    dk_byte(&k, (uint8_t)kind);
    dk_str(&k, text);
    if (terminated)
        dk_byte(&k, 0);
    return k;
}

void
dkset_add(dkset_t *s, dk_t k)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->k = xrealloc(s->k, s->cap * sizeof *s->k);
    }
    s->k[s->n++] = k;
}

int
dk_cmp(const dk_t *a, const dk_t *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->b, b->b, n);
    if (c != 0)
        return c;
    return a->n < b->n ? -1 : a->n > b->n;
}

static int
dk_cmp_q(const void *a, const void *b)
{
    return dk_cmp(a, b);
}

void
dkset_sort_unique(dkset_t *s)
{
    if (s->n < 2)
        return;
    qsort(s->k, s->n, sizeof *s->k, dk_cmp_q);
    size_t out = 1;
    for (size_t i = 1; i < s->n; i++)
        if (dk_cmp(&s->k[i], &s->k[out - 1]) != 0)
            s->k[out++] = s->k[i];
    s->n = out;
}

static bool
dirindex_svc_available(const Refnet__Service *svc)
{
    return svc->intake && svc->intake->accepting && svc->capacity && svc->capacity->available > 0;
}

/* Every prefix of `code` that ends before a '-' or '.', and the whole code: the taxonomy
 * filters it matches (replica_taxonomy_match). Per cell, the key has a byte for "available
 * and accepting" before the cell, so that a search for available services reads only theirs. */
static void
dirindex_taxonomy_terms(const Refnet__Service *svc, const char *cell, dkset_t *s)
{
    uint8_t avail = dirindex_svc_available(svc) ? 1 : 0;
    for (size_t i = 0; i < svc->n_taxonomy; i++) {
        const char *code = svc->taxonomy[i];
        size_t len = strlen(code);
        for (size_t j = 1; j <= len; j++) {
            if (j < len && code[j] != '-' && code[j] != '.')
                continue;
            char pre[WIRE_MAX_IDENT + 1];
            snprintf(pre, sizeof pre, "%.*s", (int)j, code);
            dkset_add(s, dk_term('x', pre, true));
            if (cell) {
                dk_t k = dk_term('G', pre, true);
                dk_byte(&k, avail);
                dk_str(&k, cell);
                dkset_add(s, k);
            }
        }
    }
}

static void
dirindex_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static bool
dirindex_svc_accepting(const Refnet__Service *svc)
{
    return svc->intake && svc->intake->accepting;
}

/* The posting terms of a service (sorted, unique). */
static void
dirindex_terms(const Refnet__Service *svc, dkset_t *s)
{
    dirindex_words_t *w = xmalloc(sizeof *w);
    char cell[GEO_PREC + 1];
    dirindex_service_words(svc, w);
    for (size_t i = 0; i < w->n; i++)
        dkset_add(s, dk_term('w', w->word[i], true));
    free(w);
    if (svc->has_location) {
        geohash_encode(svc->lat, svc->lon, GEO_PREC, cell);
        dkset_add(s, dk_term('g', cell, false));
    }
    dirindex_taxonomy_terms(svc, svc->has_location ? cell : NULL, s);
    for (size_t i = 0; i < svc->n_languages; i++) {
        char lang[WIRE_MAX_IDENT + 1];
        snprintf(lang, sizeof lang, "%s", svc->languages[i]);
        dirindex_lower(lang);
        dkset_add(s, dk_term('l', lang, true));
    }
    if (dirindex_svc_accepting(svc)) {
        dkset_add(s, dk_term('c', "", false));
        if (svc->capacity && svc->capacity->available > 0)
            dkset_add(s, dk_term('a', "", false));
    }
    dkset_sort_unique(s);
}

/* ---- counters --------------------------------------------------------------------------- */

MDB_dbi
dirindex_db(const store_t *st)
{
    return store_db(st, NODEDB_DIRINDEX);
}

static int
dirindex_get_u32(MDB_txn *txn, const store_t *st, const dk_t *k, uint32_t *out)
{
    MDB_val v;
    int rc = store_get(txn, dirindex_db(st), k->b, k->n, &v);
    *out = 0;
    if (rc == REFNET_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (v.mv_size != sizeof *out)
        return REFNET_EDECODE;
    memcpy(out, v.mv_data, sizeof *out);
    return 0;
}

static int
dirindex_put_u32(MDB_txn *txn, const store_t *st, const dk_t *k, uint32_t value)
{
    if (value == 0) {
        int rc = store_del(txn, dirindex_db(st), k->b, k->n);
        return rc == REFNET_ENOTFOUND ? 0 : rc;
    }
    return store_put(txn, dirindex_db(st), k->b, k->n, &value, sizeof value, 0);
}

static int
dirindex_count_add(MDB_txn *txn, const store_t *st, const dk_t *term, int delta)
{
    dk_t k = { .n = 0 };
    uint32_t n = 0;
    dk_byte(&k, 'C');
    dk_add(&k, term->b, term->n);
    int rc = dirindex_get_u32(txn, st, &k, &n);
    if (rc != 0)
        return rc;
    n = delta > 0 ? n + 1 : (n > 0 ? n - 1 : 0);
    return dirindex_put_u32(txn, st, &k, n);
}

/* Counts a term; a cell also counts for its coarser cells, which a wide radius reads. */
static int
dirindex_count(MDB_txn *txn, const store_t *st, const dk_t *term, int delta)
{
    if (term->b[0] == 'G')
        return 0; /* planned through the 'x' and 'g' counts */
    if (term->b[0] != 'g')
        return dirindex_count_add(txn, st, term, delta);
    int rc = 0;
    for (size_t p = GEO_PREC_MIN; rc == 0 && p <= GEO_PREC; p++) {
        dk_t k = *term;
        k.n = 1 + p;
        rc = dirindex_count_add(txn, st, &k, delta);
    }
    return rc;
}

static dk_t
dirindex_named(const char *name)
{
    return dk_term('#', name, false);
}

int
dirindex_read_count(MDB_txn *txn, const store_t *st, const dk_t *term, size_t *out)
{
    dk_t k = { .n = 0 };
    uint32_t n = 0;
    dk_byte(&k, 'C');
    dk_add(&k, term->b, term->n);
    int rc = dirindex_get_u32(txn, st, &k, &n);
    *out = n;
    return rc;
}

/* ---- facets ----------------------------------------------------------------------------- */

static void
facet_put(uint8_t **p, const void *v, size_t n)
{
    memcpy(*p, v, n);
    *p += n;
}

/* Encodes the facet of `svc` into buf (room for FACET_HEAD + schedules + id + name + 2). */
static size_t
facet_encode(const Refnet__Service *svc, uint8_t *buf)
{
    uint8_t *p = buf;
    double lat = svc->has_location ? svc->lat : 0.0, lon = svc->has_location ? svc->lon : 0.0;
    uint64_t cap_upd = svc->capacity ? svc->capacity->updated_at_ms : 0;
    int32_t avail = svc->capacity ? svc->capacity->available : -1;
    uint16_t ages[2] = { (uint16_t)svc->minimum_age, (uint16_t)svc->maximum_age };
    uint8_t small[4] = { (uint8_t)((svc->has_location ? FACET_LOCATION : 0) |
                                   (svc->capacity ? FACET_CAPACITY : 0) |
                                   (dirindex_svc_accepting(svc) ? FACET_ACCEPTING : 0)),
                         (uint8_t)svc->n_schedules, (uint8_t)strlen(svc->id),
                         (uint8_t)strlen(svc->name) };
    facet_put(&p, &lat, 8);
    facet_put(&p, &lon, 8);
    facet_put(&p, &svc->updated_at_ms, 8);
    facet_put(&p, &cap_upd, 8);
    facet_put(&p, &avail, 4);
    facet_put(&p, ages, 4);
    facet_put(&p, small, 4);
    for (size_t i = 0; i < svc->n_schedules; i++) {
        const Refnet__Schedule *s = svc->schedules[i];
        uint8_t days = (uint8_t)s->weekdays;
        uint16_t t[2] = { (uint16_t)s->opens_at, (uint16_t)s->closes_at };
        facet_put(&p, &days, 1);
        facet_put(&p, t, 4);
    }
    facet_put(&p, svc->id, (size_t)small[2] + 1);
    facet_put(&p, svc->name, (size_t)small[3] + 1);
    return (size_t)(p - buf);
}

static void
facet_get(const uint8_t **p, void *v, size_t n)
{
    memcpy(v, *p, n);
    *p += n;
}

/* Decodes a stored facet; REFNET_EDECODE when its lengths do not add up. */
static int
facet_decode(const MDB_val *v, facet_t *f)
{
    const uint8_t *p = v->mv_data;
    uint16_t ages[2];
    uint8_t small[4];
    if (v->mv_size < FACET_HEAD)
        return REFNET_EDECODE;
    facet_get(&p, &f->lat, 8);
    facet_get(&p, &f->lon, 8);
    facet_get(&p, &f->updated_ms, 8);
    facet_get(&p, &f->cap_updated_ms, 8);
    facet_get(&p, &f->available, 4);
    facet_get(&p, ages, 4);
    facet_get(&p, small, 4);
    f->min_age = ages[0];
    f->max_age = ages[1];
    f->flags = small[0];
    f->n_sched = small[1];
    if (v->mv_size != FACET_HEAD + (size_t)small[1] * FACET_SCHED + small[2] + 1 + small[3] + 1)
        return REFNET_EDECODE;
    f->sched = p;
    f->id = (const char *)p + (size_t)small[1] * FACET_SCHED;
    f->name = f->id + small[2] + 1;
    if (f->id[small[2]] != '\0' || f->name[small[3]] != '\0')
        return REFNET_EDECODE;
    return 0;
}

static dk_t
dirindex_doc_key(uint32_t docno)
{
    dk_t k = { .n = 0 };
    dk_byte(&k, 'D');
    dk_docno(&k, docno);
    return k;
}

static int
dirindex_put_facet(MDB_txn *txn, const store_t *st, uint32_t docno, const Refnet__Service *svc)
{
    uint8_t buf[FACET_MAX];
    size_t n = facet_encode(svc, buf);
    dk_t k = dirindex_doc_key(docno);
    return store_put(txn, dirindex_db(st), k.b, k.n, buf, n, 0);
}

/* ---- update ----------------------------------------------------------------------------- */

/* Postings that carry a copy of the facet: geohash cells and taxonomy codes per cell (a
 * radius then reads neighbouring keys only, never a facet elsewhere), and languages (a dense
 * list that is usually checked, not walked, so the lookup that confirms the language also
 * brings the facet). A facet starts with the point, which the radius check reads. */
static bool
dirindex_facet_kind(char kind)
{
    return kind == 'g' || kind == 'G' || kind == 'l';
}

static bool
dirindex_facet_term(const dk_t *term)
{
    return dirindex_facet_kind((char)term->b[0]);
}

static int
dirindex_put_posting(
    MDB_txn *txn, const store_t *st, const dk_t *term, uint32_t docno, const Refnet__Service *svc)
{
    dk_t k = *term;
    uint8_t facet[FACET_MAX];
    dk_docno(&k, docno);
    if (dirindex_facet_term(term))
        return store_put(txn, dirindex_db(st), k.b, k.n, facet, facet_encode(svc, facet), 0);
    return store_put(txn, dirindex_db(st), k.b, k.n, "", 0, 0);
}

static int
dirindex_del_posting(MDB_txn *txn, const store_t *st, const dk_t *term, uint32_t docno)
{
    dk_t k = *term;
    dk_docno(&k, docno);
    int rc = store_del(txn, dirindex_db(st), k.b, k.n);
    if (rc == REFNET_ENOTFOUND)
        return 0; /* already gone: the counters must not drift further */
    return rc == 0 ? dirindex_count(txn, st, term, -1) : rc;
}

/* Writes the difference between two sorted term sets (`old` before, `nw` of `svc` after). */
static int
dirindex_diff(MDB_txn *txn,
              const store_t *st,
              const dkset_t *old,
              const dkset_t *nw,
              uint32_t docno,
              const Refnet__Service *svc)
{
    size_t i = 0, j = 0;
    int rc = 0;
    while (rc == 0 && (i < old->n || j < nw->n)) {
        int c = i == old->n ? 1 : j == nw->n ? -1 : dk_cmp(&old->k[i], &nw->k[j]);
        if (c < 0) {
            rc = dirindex_del_posting(txn, st, &old->k[i++], docno);
        } else if (c > 0) {
            rc = dirindex_put_posting(txn, st, &nw->k[j], docno, svc);
            if (rc == 0)
                rc = dirindex_count(txn, st, &nw->k[j], 1);
            j++;
        } else {
            i++, j++;
        }
    }
    return rc;
}

/* The docno of `id`; a new one (and a live count) when it has none and `make`. */
static int
dirindex_docno(
    MDB_txn *txn, const store_t *st, const char *id, bool make, uint32_t *out, bool *fresh)
{
    dk_t ik = dk_term('I', id, false), next = dirindex_named("next"), live = dirindex_named("live");
    uint32_t n = 0, l = 0;
    int rc = dirindex_get_u32(txn, st, &ik, out);
    *fresh = false;
    if (rc != 0 || *out != 0 || !make)
        return rc;
    rc = dirindex_get_u32(txn, st, &next, &n);
    if (rc == 0)
        rc = dirindex_get_u32(txn, st, &live, &l);
    if (rc == 0 && n == UINT32_MAX)
        rc = REFNET_EFULL;
    if (rc == 0)
        rc = dirindex_put_u32(txn, st, &next, n + 1);
    if (rc == 0)
        rc = dirindex_put_u32(txn, st, &live, l + 1);
    if (rc == 0)
        rc = dirindex_put_u32(txn, st, &ik, n + 1);
    *out = n + 1;
    *fresh = true;
    return rc;
}

/* Drops the docno and facet of `id` (withdrawn). */
static int
dirindex_forget(MDB_txn *txn, const store_t *st, const char *id, uint32_t docno)
{
    dk_t ik = dk_term('I', id, false), dkey = dirindex_doc_key(docno);
    dk_t live = dirindex_named("live");
    uint32_t l = 0;
    int rc = store_del(txn, dirindex_db(st), ik.b, ik.n);
    if (rc == 0)
        rc = store_del(txn, dirindex_db(st), dkey.b, dkey.n);
    if (rc == 0)
        rc = dirindex_get_u32(txn, st, &live, &l);
    if (rc == 0)
        rc = dirindex_put_u32(txn, st, &live, l > 0 ? l - 1 : 0);
    return rc;
}

/* Writes the difference between two sorted docno-set lists. */
static int
dirindex_diff_sets(
    MDB_txn *txn, const store_t *st, const dkset_t *old, const dkset_t *nw, uint32_t docno)
{
    size_t i = 0, j = 0;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, dirindex_db(st), &cur);
    if (rc != 0)
        return store_err(rc);
    while (rc == 0 && (i < old->n || j < nw->n)) {
        int c = i == old->n ? 1 : j == nw->n ? -1 : dk_cmp(&old->k[i], &nw->k[j]);
        if (c < 0)
            rc = dirbits_store(cur, old->k[i].b, old->k[i].n, docno, false);
        else if (c > 0)
            rc = dirbits_store(cur, nw->k[j].b, nw->k[j].n, docno, true);
        i += c <= 0;
        j += c >= 0;
    }
    mdb_cursor_close(cur);
    return rc;
}

/* The 'N' key of a service: name, 0x00, id (both bounded by the wire limits). */
static size_t
dirindex_name_key(const Refnet__Service *svc, uint8_t *key)
{
    size_t n = strlen(svc->name), m = strlen(svc->id);
    key[0] = 'N';
    memcpy(key + 1, svc->name, n);
    key[n + 1] = 0;
    memcpy(key + n + 2, svc->id, m);
    return n + m + 2;
}

/* Keeps the service's 'N' key and its docno sets in step with a change. */
static int
dirindex_update_sets(MDB_txn *txn,
                     const store_t *st,
                     const Refnet__Service *old,
                     const Refnet__Service *nw,
                     uint32_t docno)
{
    uint8_t ok[DIRINDEX_NAME_KEY_MAX], nk[DIRINDEX_NAME_KEY_MAX];
    size_t on = old ? dirindex_name_key(old, ok) : 0, nn = nw ? dirindex_name_key(nw, nk) : 0;
    dkset_t os = { 0 }, ns = { 0 };
    int rc = 0;
    if (on > 0 && (on != nn || memcmp(ok, nk, on) != 0)) {
        rc = store_del(txn, dirindex_db(st), ok, on);
        rc = rc == REFNET_ENOTFOUND ? 0 : rc;
    }
    if (rc == 0 && nn > 0)
        rc = store_put(txn, dirindex_db(st), nk, nn, &docno, sizeof docno, 0);
    if (old)
        dirfast_service_sets(old, &os);
    if (nw)
        dirfast_service_sets(nw, &ns);
    if (rc == 0)
        rc = dirindex_diff_sets(txn, st, &os, &ns, docno);
    free(os.k);
    free(ns.k);
    return rc;
}

int
dirindex_update(MDB_txn *txn,
                const store_t *st,
                const Refnet__Service *old,
                const Refnet__Service *new_svc)
{
    dkset_t os = { 0 }, ns = { 0 };
    uint32_t docno = 0;
    bool fresh = false;
    const char *id = new_svc ? new_svc->id : old ? old->id : NULL;
    if (!id)
        return 0;
    int rc = dirindex_docno(txn, st, id, new_svc != NULL, &docno, &fresh);
    if (rc != 0 || docno == 0)
        goto out;
    if (old && !fresh)
        dirindex_terms(old, &os);
    if (new_svc)
        dirindex_terms(new_svc, &ns);
    rc = dirindex_diff(txn, st, &os, &ns, docno, new_svc);
    if (rc == 0)
        rc = dirindex_update_sets(txn, st, fresh ? NULL : old, new_svc, docno);
    /* The copies of the facet follow every change (the diff only wrote the postings that
     * are new). */
    for (size_t i = 0; rc == 0 && new_svc && old && !fresh && i < ns.n; i++)
        if (dirindex_facet_term(&ns.k[i]))
            rc = dirindex_put_posting(txn, st, &ns.k[i], docno, new_svc);
    if (rc == 0)
        rc = new_svc ? dirindex_put_facet(txn, st, docno, new_svc)
                     : dirindex_forget(txn, st, id, docno);
out:
    free(os.k);
    free(ns.k);
    return rc;
}

/* ---- build ------------------------------------------------------------------------------ */

int
dirindex_is_built(MDB_txn *txn, const store_t *st, bool *out)
{
    dk_t k = dirindex_named("built");
    uint32_t v = 0;
    int rc = dirindex_get_u32(txn, st, &k, &v);
    *out = rc == 0 && v == DIRINDEX_VERSION;
    return rc == REFNET_EDECODE ? 0 : rc;
}

int
dirindex_mark_built(MDB_txn *txn, const store_t *st)
{
    dk_t k = dirindex_named("built");
    return dirindex_put_u32(txn, st, &k, DIRINDEX_VERSION);
}

int
dirindex_build(MDB_txn *txn, const store_t *st)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    size_t n = 0;
    int rc = mdb_drop(txn, dirindex_db(st), 0);
    if (rc == 0)
        rc = mdb_cursor_open(txn, store_db(st, NODEDB_SERVICES), &cur);
    if (rc != 0)
        return store_err(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        if (pbuf_unpack(&pb, &refnet__dir_record__descriptor, v.mv_data, v.mv_size,
                        WIRE_MAX_FRAME) != 0)
            continue; /* replica_scan skips it too */
        const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
        int urc =
            (!rec->withdrawn && rec->service) ? dirindex_update(txn, st, NULL, rec->service) : 0;
        n += urc == 0 && !rec->withdrawn && rec->service;
        pbuf_destroy(&pb);
        if (urc != 0) {
            mdb_cursor_close(cur);
            return urc;
        }
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return store_err(rc);
    log_info("directory index built for %zu services", n);
    return dirindex_mark_built(txn, st);
}

int
dirindex_live(MDB_txn *txn, const store_t *st, size_t *out)
{
    dk_t k = dirindex_named("live");
    uint32_t v = 0;
    int rc = dirindex_get_u32(txn, st, &k, &v);
    *out = v;
    return rc;
}

/* ---- search ----------------------------------------------------------------------------- */

/* One way to list candidates: key ranges that all start with one of `pre`. */
typedef struct {
    char kind;
    dk_t pre[2 * DIRINDEX_MAX_CELLS]; /* 'G': two halves of each cell */
    size_t n_pre;
    size_t est;
    size_t word; /* the query word it lists, for 'w' */
} source_t;

/* A posting-list filter checked by lookups, through its own cursor: candidates come in
 * docno order within a range, so most lookups land on the page the cursor is already on. */
typedef struct {
    dk_t term;
    MDB_cursor *cur;
} check_t;

/* The query, prepared once. */
typedef struct {
    const replica_query_t *q;
    dirindex_words_t *words;
    char cells[DIRINDEX_MAX_CELLS][GEOHASH_CELL_LEN];
    size_t n_cells;
    char lang[WIRE_MAX_IDENT + 1];
    source_t src; /* the chosen one */
    check_t checks[DIRINDEX_QUERY_WORDS + 2];
    size_t n_checks;
    MDB_cursor *facets;
    replica_rank_t *out;
    size_t n, cap, scanned;
    dirbits_t gate; /* when set: only these docnos can match (available or accepting) */
    bool box;       /* a radius: points outside [lat_lo, lat_hi] x [lon_lo, lon_hi] are out */
    double lat_lo, lat_hi, lon_lo, lon_hi;
} search_t;

/* Keeps `s` as the plan when it is cheaper than the one chosen so far. */
static void
dirindex_consider(search_t *x, const source_t *s)
{
    if (s->est < x->src.est)
        x->src = *s;
}

static int
dirindex_plan_geo(MDB_txn *txn, const store_t *st, search_t *x)
{
    const replica_query_t *q = x->q;
    source_t g = { .kind = 'g' }, t = { .kind = 'G' };
    size_t tax = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < x->n_cells; i++) {
        size_t c = 0;
        g.pre[g.n_pre] = dk_term('g', x->cells[i], false);
        rc = dirindex_read_count(txn, st, &g.pre[g.n_pre++], &c);
        g.est += c;
    }
    if (rc != 0)
        return rc;
    dirindex_consider(x, &g);
    if (!(q->taxonomy && q->taxonomy[0]))
        return 0;
    dk_t xt = dk_term('x', q->taxonomy, true);
    rc = dirindex_read_count(txn, st, &xt, &tax);
    /* Available services only, or both halves of each cell. */
    for (uint8_t avail = q->available ? 1 : 0; avail <= 1; avail++)
        for (size_t i = 0; i < x->n_cells; i++) {
            dk_t *k = &t.pre[t.n_pre++];
            *k = dk_term('G', q->taxonomy, true);
            dk_byte(k, avail);
            dk_str(k, x->cells[i]);
        }
    /* Services within the cells that carry the code: at most the smaller of the two. */
    t.est = (tax < g.est ? tax : g.est) / (q->available ? 4 : 2);
    dirindex_consider(x, &t);
    return rc;
}

static int
dirindex_plan_one(MDB_txn *txn, const store_t *st, search_t *x, dk_t term, size_t word)
{
    source_t s = { .kind = (char)term.b[0], .n_pre = 1, .word = word };
    s.pre[0] = term;
    int rc = dirindex_read_count(txn, st, &term, &s.est);
    if (rc == 0)
        dirindex_consider(x, &s);
    return rc;
}

/* Chooses the posting list with the fewest entries; all facets when no filter has one. */
static int
dirindex_plan(MDB_txn *txn, const store_t *st, search_t *x)
{
    const replica_query_t *q = x->q;
    int rc = dirindex_live(txn, st, &x->src.est);
    x->src.est++; /* a posting list as long as the directory still wins: no full walk */
    x->src.kind = 'D';
    x->src.n_pre = 1;
    x->src.pre[0] = dk_term('D', "", false);
    for (size_t i = 0; rc == 0 && i < x->words->n; i++)
        rc = dirindex_plan_one(txn, st, x, dk_term('w', x->words->word[i], true), i);
    if (rc == 0 && q->taxonomy && q->taxonomy[0])
        rc = dirindex_plan_one(txn, st, x, dk_term('x', q->taxonomy, true), 0);
    if (rc == 0 && x->lang[0])
        rc = dirindex_plan_one(txn, st, x, dk_term('l', x->lang, true), 0);
    if (rc == 0 && q->available)
        rc = dirindex_plan_one(txn, st, x, dk_term('a', "", false), 0);
    if (rc == 0 && q->accepting)
        rc = dirindex_plan_one(txn, st, x, dk_term('c', "", false), 0);
    if (rc == 0 && x->n_cells > 0)
        rc = dirindex_plan_geo(txn, st, x);
    return rc;
}

static int
dirindex_add_check(MDB_txn *txn, const store_t *st, search_t *x, dk_t term)
{
    check_t *c = &x->checks[x->n_checks];
    int rc = mdb_cursor_open(txn, dirindex_db(st), &c->cur);
    if (rc != 0)
        return store_err(rc);
    c->term = term;
    x->n_checks++;
    return 0;
}

/* The posting-list filters the plan does not start from, and the facet cursor. */
static int
dirindex_prepare_checks(MDB_txn *txn, const store_t *st, search_t *x)
{
    const replica_query_t *q = x->q;
    char k = x->src.kind;
    int rc = mdb_cursor_open(txn, dirindex_db(st), &x->facets);
    if (rc != 0)
        return store_err(rc);
    for (size_t i = 0; rc == 0 && i < x->words->n; i++)
        if (!(k == 'w' && x->src.word == i))
            rc = dirindex_add_check(txn, st, x, dk_term('w', x->words->word[i], true));
    if (rc == 0 && q->taxonomy && q->taxonomy[0] && k != 'x' && k != 'G')
        rc = dirindex_add_check(txn, st, x, dk_term('x', q->taxonomy, true));
    if (rc == 0 && x->lang[0] && k != 'l')
        rc = dirindex_add_check(txn, st, x, dk_term('l', x->lang, true));
    return rc;
}

static void
dirindex_close_checks(search_t *x)
{
    for (size_t i = 0; i < x->n_checks; i++)
        mdb_cursor_close(x->checks[i].cur);
    if (x->facets)
        mdb_cursor_close(x->facets);
}

/* The posting-list filters the plan did not start from; a check whose posting carries the
 * facet ('l') leaves it in *facet. */
static bool
dirindex_check_postings(search_t *x, uint32_t docno, MDB_val *facet)
{
    for (size_t i = 0; i < x->n_checks; i++) {
        dk_t k = x->checks[i].term;
        dk_docno(&k, docno);
        MDB_val key = { .mv_size = k.n, .mv_data = k.b }, v;
        if (mdb_cursor_get(x->checks[i].cur, &key, &v, MDB_SET) != 0)
            return false;
        if (dirindex_facet_term(&x->checks[i].term) && v.mv_size > 0)
            *facet = v;
    }
    return true;
}

static bool
facet_open_at(const facet_t *f, unsigned weekday, unsigned minute)
{
    const uint8_t *p = f->sched;
    for (size_t i = 0; i < f->n_sched; i++, p += FACET_SCHED) {
        uint16_t t[2];
        memcpy(t, p + 1, 4);
        if (replica_schedule_open(p[0], t[0], t[1], weekday, minute))
            return true;
    }
    return false;
}

/* The facet filters; fills the ranking keys of a match. `km`, when not NULL, is the
 * distance already measured from the posting's copy of the point. */
static bool
dirindex_check_facet(const replica_query_t *q,
                     const facet_t *f,
                     const double *km,
                     replica_rank_t *r)
{
    bool accepting = f->flags & FACET_ACCEPTING, cap = f->flags & FACET_CAPACITY;
    if (q->accepting && !accepting)
        return false;
    if (q->available && !(cap && f->available > 0 && accepting))
        return false;
    if (q->has_age && !replica_age_ok(f->min_age, f->max_age, q->age))
        return false;
    if (q->open_now && !facet_open_at(f, q->weekday, q->minute))
        return false;
    r->has_distance = false;
    if (q->has_near && (f->flags & FACET_LOCATION)) {
        r->distance_km = km ? *km : replica_distance_km(q->lat, q->lon, f->lat, f->lon);
        r->has_distance = true;
    }
    if (q->has_near && q->radius_km > 0 && !(r->has_distance && r->distance_km <= q->radius_km))
        return false;
    r->id = f->id;
    r->name = f->name;
    r->available = cap ? f->available : -1;
    r->cap_updated_ms = cap ? f->cap_updated_ms : 0;
    r->stale = cap && replica_is_stale(f->cap_updated_ms, q->now_ms, q->stale_after_ms);
    r->ready = cap && f->available > 0 && accepting && !r->stale;
    return true;
}

/* Reads the facet of `docno` through the search's facet cursor. */
static int
dirindex_read_facet(search_t *x, uint32_t docno, MDB_val *v)
{
    dk_t dkey = dirindex_doc_key(docno);
    MDB_val key = { .mv_size = dkey.n, .mv_data = dkey.b };
    int rc = mdb_cursor_get(x->facets, &key, v, MDB_SET_KEY);
    if (rc == MDB_NOTFOUND)
        return REFNET_ENOTFOUND;
    return rc == 0 ? 0 : store_err(rc);
}

int
dirindex_rank_doc(MDB_cursor *cur, const replica_query_t *q, uint32_t docno, replica_rank_t *r)
{
    dk_t dkey = dirindex_doc_key(docno);
    MDB_val key = { .mv_size = dkey.n, .mv_data = dkey.b }, v;
    facet_t f;
    int rc = mdb_cursor_get(cur, &key, &v, MDB_SET_KEY);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return store_err(rc);
    if (facet_decode(&v, &f) != 0) {
        log_warn("directory index: damaged facet for document %u skipped", docno);
        return 0;
    }
    memset(r, 0, sizeof *r);
    return dirindex_check_facet(q, &f, NULL, r) ? 1 : 0;
}

int
dirindex_max_docno(MDB_txn *txn, const store_t *st, uint32_t *out)
{
    dk_t k = dirindex_named("next");
    return dirindex_get_u32(txn, st, &k, out);
}

/* Checks one candidate; the facet value is given when the plan walks the facets, its
 * distance when the walk measured it. */
static int
dirindex_candidate(search_t *x, uint32_t docno, const MDB_val *fv, const double *km)
{
    MDB_val v = { .mv_size = 0, .mv_data = NULL };
    facet_t f;
    replica_rank_t r = { 0 };
    x->scanned++;
    if (!dirindex_check_postings(x, docno, &v))
        return 0;
    if (!fv && v.mv_size > 0)
        fv = &v;
    if (!fv) {
        int rc = dirindex_read_facet(x, docno, &v);
        if (rc != 0)
            return rc == REFNET_ENOTFOUND ? 0 : rc;
        fv = &v;
    }
    if (facet_decode(fv, &f) != 0) {
        log_warn("directory index: damaged facet for document %u skipped", docno);
        return 0;
    }
    if (!dirindex_check_facet(x->q, &f, km, &r))
        return 0;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 256;
        x->out = xrealloc(x->out, x->cap * sizeof *x->out);
    }
    x->out[x->n++] = r;
    return 0;
}

/* False when a geohash posting's point is outside the query's radius; sets *km (and
 * *measured) when it measured the distance. */
static bool
dirindex_point_in(const search_t *x, const MDB_val *v, double *km, bool *measured)
{
    double pt[2];
    const replica_query_t *q = x->q;
    *measured = false;
    if (v->mv_size < sizeof pt || !(q->has_near && q->radius_km > 0))
        return true;
    memcpy(pt, v->mv_data, sizeof pt);
    if (x->box &&
        (pt[0] < x->lat_lo || pt[0] > x->lat_hi || pt[1] < x->lon_lo || pt[1] > x->lon_hi))
        return false;
    *km = replica_distance_km(q->lat, q->lon, pt[0], pt[1]);
    *measured = true;
    return *km <= q->radius_km;
}

/* The box around the query's circle, so that most points outside it are dropped without a
 * great-circle distance: latitudes within the radius's angle, longitudes within
 * asin(sin(angle) / cos(lat)), widened a little against rounding. No box when the circle
 * reaches a pole or crosses the antimeridian (the exact distance alone decides). */
static void
dirindex_box(search_t *x)
{
    const replica_query_t *q = x->q;
    const double deg = 180.0 / M_PI;
    double ang = q->radius_km / REPLICA_EARTH_KM * 1.0001 + 1e-9;
    if (!(q->has_near && q->radius_km > 0) || ang >= M_PI / 4)
        return;
    x->lat_lo = q->lat - ang * deg;
    x->lat_hi = q->lat + ang * deg;
    if (x->lat_lo <= -89.0 || x->lat_hi >= 89.0)
        return;
    double dlon = asin(sin(ang) / cos(q->lat / deg)) * deg;
    x->lon_lo = q->lon - dlon;
    x->lon_hi = q->lon + dlon;
    x->box = x->lon_lo > -180.0 && x->lon_hi < 180.0;
}

/* Visits every key starting with `pre`. */
static int
dirindex_walk(MDB_txn *txn, const store_t *st, search_t *x, const dk_t *pre)
{
    MDB_cursor *cur = NULL;
    MDB_val k = { .mv_size = pre->n, .mv_data = (void *)pre->b }, v;
    int crc = 0, mrc = mdb_cursor_open(txn, dirindex_db(st), &cur);
    bool facet = x->src.kind == 'D', geo = x->src.kind == 'g' || x->src.kind == 'G';
    if (mrc != 0)
        return store_err(mrc);
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0 && crc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pre->n + 4 || memcmp(k.mv_data, pre->b, pre->n) != 0)
            break;
        if (facet && k.mv_size != 5)
            continue;
        if (x->gate.w && !dirbits_has(&x->gate, dk_tail_docno(&k)))
            continue;
        double km = 0;
        bool measured = false;
        if (geo && !dirindex_point_in(x, &v, &km, &measured))
            continue;
        crc = dirindex_candidate(x, dk_tail_docno(&k),
                                 (facet || dirindex_facet_kind(x->src.kind)) ? &v : NULL,
                                 measured ? &km : NULL);
    }
    mdb_cursor_close(cur);
    if (crc != 0)
        return crc;
    return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : store_err(mrc);
}

/* A long walk tests each candidate first against the set of services that pass the query's
 * language, availability, opening-hours and age filters, built from stored bitmaps in
 * memory: most candidates are then dropped before their distance is computed or their facet
 * decoded (the facet still decides). */
static int
dirindex_load_gate(MDB_txn *txn, const store_t *st, search_t *x)
{
    const replica_query_t *q = x->q;
    bool sets = (q->language && q->language[0]) || q->available || q->accepting || q->open_now ||
                q->has_age;
    if (!sets || x->src.est < DIRINDEX_GATE_MIN)
        return 0;
    return dirfast_gate(txn, st, q, &x->gate);
}

int
dirindex_search(MDB_txn *txn, const store_t *st, const replica_query_t *q, dirindex_result_t *out)
{
    search_t *x = xcalloc(1, sizeof *x);
    memset(out, 0, sizeof *out);
    x->q = q;
    x->words = xcalloc(1, sizeof *x->words);
    dirindex_tokenize(q->text, x->words, DIRINDEX_QUERY_WORDS);
    int rc = dirfast_search(txn, st, q, x->words, out);
    if (rc != 0)
        goto done; /* answered (1), or failed */
    snprintf(x->lang, sizeof x->lang, "%s", q->language ? q->language : "");
    dirindex_lower(x->lang);
    if (q->has_near)
        x->n_cells =
            geohash_cover(q->lat, q->lon, q->radius_km, GEO_PREC, DIRINDEX_MAX_CELLS, x->cells);
    dirindex_box(x);
    rc = dirindex_plan(txn, st, x);
    if (rc == 0)
        rc = dirindex_load_gate(txn, st, x);
    if (rc == 0)
        rc = dirindex_prepare_checks(txn, st, x);
    for (size_t i = 0; rc == 0 && i < x->src.n_pre; i++)
        rc = dirindex_walk(txn, st, x, &x->src.pre[i]);
    dirindex_close_checks(x);
    dirbits_free(&x->gate);
    out->kind = x->src.kind;
    out->scanned = x->scanned;
    if (rc == 0) {
        out->ranks = x->out;
        out->n = out->total = x->n;
    } else {
        free(x->out);
    }
done:
    free(x->words);
    free(x);
    return rc < 0 ? rc : 0;
}
