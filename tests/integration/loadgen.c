/* refnet-loadgen: the traffic driver and the exactly-once checker of the fault tests.
 *
 * The fault tests (tests/integration/fault_*.sh) need a thousand handoffs in seconds, and a
 * count of what each receiving node really applied. Going through the refnet CLI costs a process
 * per call, so this small program speaks the node's local API (clients/lib/API.md) through
 * librefnet instead:
 *
 *   refnet-loadgen start NODE_DIR PERSON SERVICE COUNT TAG
 *       starts COUNT handoffs of PERSON to SERVICE, each with the note "TAG #<n>" (n from 0),
 *       one after the other; an outbox that is full ("queue-full") is retried for a while.
 *       With REFNET_LOADGEN_PAD=N (at most LOADGEN_PAD_MAX) each note gets N more bytes after
 *       a space ("TAG #<n> xxx..."), to make each message bigger.
 *   refnet-loadgen check NODE_DIR FROM TAG COUNT
 *       on a receiving node: reads every handoff in the inbox sent by FROM whose note starts
 *       with "TAG #" and checks that each n in 0..COUNT-1 is there exactly once, and that they
 *       were applied in the order they were sent (created_at, the receiver's apply time, never
 *       goes down as n goes up). Prints one JSON summary; exit 0 only when all holds.
 *   refnet-loadgen receipts NODE_DIR TO TAG COUNT
 *       on a sending node: counts the handoffs to TO with that tag whose delivery receipt came
 *       back (delivered_at set); exit 0 only when all COUNT have one.
 *
 * Exit status: 0 ok, 1 the check failed or a call failed, 2 usage. Single-threaded; every
 * retry loop is bounded in tries and time. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "refnet.h"
#include "refnet_error.h"
#include "xmalloc.h"

/* Bounds of one test run: a handoff.start that keeps finding the outbox full is retried every
 * LOADGEN_RETRY_MS for at most LOADGEN_RETRY_TRIES tries (a minute). */
#define LOADGEN_MAX_COUNT   200000
#define LOADGEN_RETRY_MS    50
#define LOADGEN_RETRY_TRIES 1200
#define LOADGEN_TAG_MAX     64
/* Padding of a note: the node's notes limit (WIRE_MAX_LONG_TEXT) minus room for the tag. */
#define LOADGEN_PAD_MAX 3800

static void
loadgen_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int
loadgen_count(const char *s, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v <= 0 || v > LOADGEN_MAX_COUNT)
        return -1;
    *out = v;
    return 0;
}

/* Calls `op` and prints the node's error on failure. */
static int
loadgen_call(refnet_client_t *c, const char *op, json_t *args, json_t **result)
{
    refnet_client_error_t err = { 0 };
    int rc = refnet_client_call(c, op, args, result, &err);
    if (rc != 0 && rc != REFNET_EQUEUEFULL)
        fprintf(stderr, "refnet-loadgen: %s: %s: %s\n", op, err.name, err.message);
    return rc;
}

static int
loadgen_start_one(refnet_client_t *c, const char *person, const char *service, const char *note)
{
    for (int tries = 0; tries < LOADGEN_RETRY_TRIES; tries++) {
        json_t *args =
            json_pack("{s:s, s:s, s:s}", "person", person, "service", service, "note", note);
        int rc = loadgen_call(c, "handoff.start", args, NULL);
        if (rc != REFNET_EQUEUEFULL)
            return rc;
        loadgen_sleep_ms(LOADGEN_RETRY_MS);
    }
    fprintf(stderr, "refnet-loadgen: the outbox stayed full for a minute\n");
    return REFNET_ETIMEOUT;
}

static int
loadgen_start(refnet_client_t *c, char **argv)
{
    long count = 0;
    long pad = 0;
    const char *pad_env = getenv("REFNET_LOADGEN_PAD");
    if (loadgen_count(argv[2], &count) != 0 || strlen(argv[3]) > LOADGEN_TAG_MAX)
        return 2;
    if (pad_env && (loadgen_count(pad_env, &pad) != 0 || pad > LOADGEN_PAD_MAX))
        return 2;
    char padding[LOADGEN_PAD_MAX + 2] = "";
    if (pad > 0) {
        padding[0] = ' ';
        memset(padding + 1, 'x', (size_t)pad);
        padding[pad + 1] = '\0';
    }
    for (long i = 0; i < count; i++) {
        char note[LOADGEN_TAG_MAX + 32 + sizeof padding];
        snprintf(note, sizeof note, "%s #%ld%s", argv[3], i, padding);
        if (loadgen_start_one(c, argv[0], argv[1], note) != 0) {
            fprintf(stderr, "refnet-loadgen: stopped after %ld of %ld handoffs\n", i, count);
            return 1;
        }
    }
    printf("%ld\n", count);
    return 0;
}

/* The n of a note "TAG #n" (or "TAG #n padding"), or -1 when the note is not one of this
 * tag's. */
static long
loadgen_note_index(const char *note, const char *tag)
{
    size_t n = strlen(tag);
    if (!note || strncmp(note, tag, n) != 0 || strncmp(note + n, " #", 2) != 0)
        return -1;
    char *end = NULL;
    long v = strtol(note + n + 2, &end, 10);
    return ((*end && *end != ' ') || end == note + n + 2 || v < 0) ? -1 : v;
}

/* What one side's handoffs with a tag add up to. */
typedef struct {
    long count;      /* expected */
    long matched;    /* handoffs with the tag */
    long duplicates; /* an index seen again */
    long out_of_range;
    long delivered;    /* with delivered_at (sender side) */
    long order_breaks; /* created_at went down as the index went up (receiver side) */
    char **created;    /* created_at by index */
} loadgen_tally_t;

/* Reads one handoff and adds it to the tally. */
static int
loadgen_tally_one(refnet_client_t *c, const char *id, const char *tag, loadgen_tally_t *t)
{
    json_t *h = NULL;
    int rc = loadgen_call(c, "handoff.show", json_pack("{s:s}", "id", id), &h);
    if (rc != 0)
        return rc;
    json_t *person = json_object_get(h, "person");
    long idx = loadgen_note_index(json_string_value(json_object_get(person, "notes")), tag);
    if (idx >= 0) {
        t->matched++;
        if (idx >= t->count) {
            t->out_of_range++;
        } else if (t->created[idx]) {
            t->duplicates++;
        } else {
            const char *at = json_string_value(json_object_get(h, "created_at"));
            t->created[idx] = xstrdup(at ? at : "");
        }
        if (json_is_string(json_object_get(h, "delivered_at")))
            t->delivered++;
    }
    json_decref(h);
    return 0;
}

static int
loadgen_tally(
    refnet_client_t *c, const char *box, const char *peer, const char *tag, loadgen_tally_t *t)
{
    json_t *list = NULL;
    int rc = loadgen_call(c, "handoff.list", json_pack("{s:s}", "box", box), &list);
    if (rc != 0)
        return rc;
    const char *side = strcmp(box, "inbox") == 0 ? "from" : "to";
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(list, "handoffs"), i, h)
    {
        const char *who = json_string_value(json_object_get(h, side));
        const char *id = json_string_value(json_object_get(h, "id"));
        if (!who || !id || strcmp(who, peer) != 0)
            continue;
        rc = loadgen_tally_one(c, id, tag, t);
        if (rc != 0)
            break;
    }
    json_decref(list);
    return rc;
}

static void
loadgen_order(loadgen_tally_t *t)
{
    const char *last = "";
    for (long i = 0; i < t->count; i++) {
        if (!t->created[i])
            continue;
        if (strcmp(t->created[i], last) < 0)
            t->order_breaks++;
        last = t->created[i];
    }
}

/* check (receiver) and receipts (sender): argv = NODE PEER TAG COUNT. */
static int
loadgen_verify(refnet_client_t *c, char **argv, bool receiver)
{
    loadgen_tally_t t = { 0 };
    if (loadgen_count(argv[2], &t.count) != 0)
        return 2;
    t.created = xcalloc((size_t)t.count, sizeof *t.created);
    int rc = loadgen_tally(c, receiver ? "inbox" : "outbox", argv[0], argv[1], &t);
    long distinct = 0;
    for (long i = 0; i < t.count; i++)
        distinct += t.created[i] != NULL;
    loadgen_order(&t);
    json_t *out =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "peer", argv[0], "tag", argv[1],
                  "expected", (json_int_t)t.count, "matched", (json_int_t)t.matched, "distinct",
                  (json_int_t)distinct, "duplicates", (json_int_t)t.duplicates, "out_of_range",
                  (json_int_t)t.out_of_range, "delivered", (json_int_t)t.delivered, "order_breaks",
                  (json_int_t)t.order_breaks);
    json_dumpf(out, stdout, JSON_COMPACT);
    printf("\n");
    json_decref(out);
    bool good = rc == 0 && distinct == t.count && t.matched == t.count &&
                (receiver ? t.order_breaks == 0 : t.delivered == t.count);
    for (long i = 0; i < t.count; i++)
        free(t.created[i]);
    free(t.created);
    return good ? 0 : 1;
}

static int
loadgen_usage(void)
{
    fprintf(stderr, "usage: refnet-loadgen start NODE_DIR PERSON SERVICE COUNT TAG\n"
                    "       refnet-loadgen check NODE_DIR FROM TAG COUNT\n"
                    "       refnet-loadgen receipts NODE_DIR TO TAG COUNT\n");
    return 2;
}

int
main(int argc, char **argv)
{
    refnet_client_t *c = NULL;
    refnet_client_error_t err = { 0 };
    int rc = 2;
    if (argc < 2)
        return loadgen_usage();
    bool start = strcmp(argv[1], "start") == 0 && argc == 7;
    bool check = strcmp(argv[1], "check") == 0 && argc == 6;
    bool receipts = strcmp(argv[1], "receipts") == 0 && argc == 6;
    if (!start && !check && !receipts)
        return loadgen_usage();
    if (refnet_client_open(&c, argv[2], &err) != 0) {
        fprintf(stderr, "refnet-loadgen: %s\n", err.message);
        return 1;
    }
    refnet_client_set_timeout(c, 30000);
    rc = start ? loadgen_start(c, argv + 3) : loadgen_verify(c, argv + 3, check);
    if (rc == 2)
        loadgen_usage();
    refnet_client_destroy(&c);
    return rc;
}
