/* bench_mail: sending agencies that drive a real refnet-broker, for the delivery benchmark.
 *
 *   bench_mail --broker EP --broker-key KEY --from DIR... --to AGENCY=SERVICE...
 *              [--count N] [--window N] [--size BYTES] [--seconds S] [--warmup N]
 *              [--io-threads N] [--label TEXT] [--ordered-handoffs] [--no-batch]
 *
 * Each --from names a node folder made by `refnet-node init` and enrolled at the broker; this
 * program becomes that agency (bench_agent.h) without running its node. The agencies take turns
 * in one zmq_poll loop: each keeps --window handoff requests in flight, addressed to the --to
 * targets in turn (real refnet-nodes that published those services), until --count of its
 * messages have come back as receipts, i.e. were committed by the broker, delivered, committed
 * by the receiving node and acknowledged (the broker sends a receipt as it applies the ack,
 * before its own commit of the ack). Each handoff carries a person packet sealed for its
 * receiving agency with the sending folder's sealing key, which the receiving node opens. The
 * clock starts once every agency has its Welcome and the verified sealing keys of the targets.
 * Mail goes out in Batch frames when the broker takes them, unless --no-batch.
 *
 * Prints one line "RESULT bench=mail ... rate=R p50_us=A p99_us=B complete=1": rate is
 * receipts per second from the start to the last receipt; p50/p99 are send-to-receipt
 * latencies, store_p50/p99 send-to-STORED; batched=1 when the mail went in Batch frames,
 * frames_out the frames sent. Exit 0 when every message was receipted, 1 when
 * not (refusals, time limit, setup error), 2 on a usage error.
 *
 * Single-threaded; main owns every agent and the two latency collections. */
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_agent.h"
#include "bench_stats.h"
#include "log.h"
#include "uid.h"
#include "wire.h"
#include "xmalloc.h"

#define MAIL_EXIT_USAGE 2
/* Agencies and targets one run may name: far more than the benchmark's 8 and 8. */
#define MAIL_MAX_AGENTS  64
#define MAIL_MAX_TARGETS 64
/* Messages per agency: the per-message arrays stay under 100 MB for the whole run. */
#define MAIL_MAX_COUNT 1000000
/* Messages in flight per agency: far above what the broker's own window (1000) can use. */
#define MAIL_MAX_WINDOW 100000
/* How long the agencies may take to connect and be welcomed. */
#define MAIL_CONNECT_US (15 * 1000000ULL)
/* Frames read from one agency's socket per turn, so that every agency is served in turn. */
#define MAIL_DRAIN 256
/* Poll timeout: how often the loop looks at its deadline and heartbeats when all is quiet. */
#define MAIL_POLL_MS 10

typedef struct {
    const char *broker;
    const char *broker_key;
    const char *from[MAIL_MAX_AGENTS];
    size_t nfrom;
    bench_target_t to[MAIL_MAX_TARGETS];
    size_t nto;
    char *to_text[MAIL_MAX_TARGETS]; /* owned copies of AGENCY=SERVICE, split in place */
    uint64_t count;
    uint32_t window;
    size_t size;
    uint64_t seconds;
    uint64_t warmup;
    bool ordered_handoffs;
    bool no_batch;
    int io_threads;
    const char *label;
} mail_args_t;

typedef struct {
    bench_agent_t *agents[MAIL_MAX_AGENTS];
    zmq_pollitem_t items[MAIL_MAX_AGENTS];
    size_t n;
    bench_stats_t *receipt_lat;
    bench_stats_t *stored_lat;
} mail_run_t;

static const char MAIL_USAGE[] =
    "usage: bench_mail --broker EP --broker-key KEY --from DIR... --to AGENCY=SERVICE...\n"
    "                  [--count N] [--window N] [--size BYTES] [--seconds S] [--warmup N]\n"
    "                  [--io-threads N] [--label TEXT] [--ordered-handoffs] [--no-batch]\n"
    "\n"
    "Sends handoff requests through a running refnet-broker as the agencies of the node\n"
    "folders given with --from, to the services given with --to, and counts each message\n"
    "once its delivery receipt is back. Prints 'RESULT bench=mail ... rate=MSG_PER_S ...'.\n"
    "\n"
    "  --broker EP          the broker's agency endpoint, e.g. tcp://127.0.0.1:7400\n"
    "  --broker-key KEY     the broker's public key (Z85)\n"
    "  --from DIR           a node folder made by 'refnet-node init', enrolled (repeat)\n"
    "  --to AGENCY=SERVICE  a receiving agency and one of its services (repeat)\n"
    "  --count N            messages per sending agency (default 10000)\n"
    "  --window N           messages in flight per sending agency (default 500)\n"
    "  --size BYTES         size each envelope is padded to (default 200)\n"
    "  --seconds S          give up after S seconds (default 60)\n"
    "  --warmup N           leave each agency's first N messages out of the latencies\n"
    "  --ordered-handoffs   time-ordered (UUID v7) handoff ids instead of random v4 ones\n"
    "  --no-batch           one envelope per frame, even when the broker takes batches\n"
    "  --io-threads N       ZeroMQ I/O threads (default 1)\n"
    "  --label TEXT         a name for the run, repeated in the RESULT line\n";

/* ---- arguments ---------------------------------------------------------------------------- */

static bool
mail_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool
mail_parse_target(mail_args_t *a, const char *text)
{
    if (a->nto == MAIL_MAX_TARGETS)
        return false;
    char *copy = xstrdup(text), *eq = strchr(copy, '=');
    a->to_text[a->nto] = copy;
    if (!eq || eq == copy || !eq[1])
        return false;
    *eq = '\0';
    a->to[a->nto++] = (bench_target_t){ copy, eq + 1 };
    return true;
}

/* --count, --seconds and --warmup are stored as parsed; the others narrowed once checked. */
static bool
mail_parse_number(mail_args_t *a, int opt, const char *val)
{
    uint64_t v = 0;
    switch (opt) {
    case 'c':
        return mail_parse_u64(val, 1, MAIL_MAX_COUNT, &a->count);
    case 't':
        return mail_parse_u64(val, 1, 3600, &a->seconds);
    case 'u':
        return mail_parse_u64(val, 0, MAIL_MAX_COUNT, &a->warmup);
    case 'w':
        if (!mail_parse_u64(val, 1, MAIL_MAX_WINDOW, &v))
            return false;
        a->window = (uint32_t)v;
        return true;
    case 'z':
        if (!mail_parse_u64(val, 1, WIRE_MAX_FRAME / 2, &v))
            return false;
        a->size = (size_t)v;
        return true;
    case 'i':
        if (!mail_parse_u64(val, 1, 16, &v))
            return false;
        a->io_threads = (int)v;
        return true;
    default:
        return false;
    }
}

static bool
mail_parse_option(mail_args_t *a, int opt, const char *val)
{
    switch (opt) {
    case 'b':
        a->broker = val;
        return true;
    case 'k':
        a->broker_key = val;
        return true;
    case 'f':
        if (a->nfrom == MAIL_MAX_AGENTS)
            return false;
        a->from[a->nfrom++] = val;
        return true;
    case 'o':
        return mail_parse_target(a, val);
    case 'l':
        a->label = val;
        return true;
    case 'O':
        a->ordered_handoffs = true;
        return true;
    case 'N':
        a->no_batch = true;
        return true;
    default:
        return mail_parse_number(a, opt, val);
    }
}

static int
mail_parse(int argc, char **argv, mail_args_t *a)
{
    static const struct option opts[] = { { "broker", required_argument, NULL, 'b' },
                                          { "broker-key", required_argument, NULL, 'k' },
                                          { "from", required_argument, NULL, 'f' },
                                          { "to", required_argument, NULL, 'o' },
                                          { "count", required_argument, NULL, 'c' },
                                          { "window", required_argument, NULL, 'w' },
                                          { "size", required_argument, NULL, 'z' },
                                          { "seconds", required_argument, NULL, 't' },
                                          { "warmup", required_argument, NULL, 'u' },
                                          { "io-threads", required_argument, NULL, 'i' },
                                          { "ordered-handoffs", no_argument, NULL, 'O' },
                                          { "no-batch", no_argument, NULL, 'N' },
                                          { "label", required_argument, NULL, 'l' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    int opt;
    a->count = 10000;
    a->window = 500;
    a->size = 200;
    a->seconds = 60;
    a->io_threads = 1;
    a->label = "mail";
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(MAIL_USAGE, stdout);
            exit(0);
        }
        if (!mail_parse_option(a, opt, optarg)) {
            fprintf(stderr, "bench_mail: bad option or value (see --help)\n");
            return -1;
        }
    }
    if (optind != argc || !a->broker || !a->broker_key || !a->nfrom || !a->nto) {
        fprintf(stderr, "bench_mail: --broker, --broker-key, --from and --to are required\n");
        return -1;
    }
    return 0;
}

static void
mail_args_free(mail_args_t *a)
{
    for (size_t i = 0; i < MAIL_MAX_TARGETS; i++)
        free(a->to_text[i]);
}

/* ---- the run ------------------------------------------------------------------------------ */

static int
mail_open(mail_run_t *run, const mail_args_t *a)
{
    uint8_t nonce[UID_MSGID_LEN];
    uid_msgid(nonce);
    run->receipt_lat = bench_stats_new(a->count * a->nfrom);
    run->stored_lat = bench_stats_new(a->count * a->nfrom);
    for (size_t i = 0; i < a->nfrom; i++) {
        bench_agent_config_t cfg = { .dir = a->from[i],
                                     .endpoint = a->broker,
                                     .server_key = a->broker_key,
                                     .index = (uint32_t)i,
                                     .nonce = (uint32_t)nonce[0] << 24 | (uint32_t)nonce[1] << 16 |
                                              (uint32_t)nonce[2] << 8 | nonce[3],
                                     .count = a->count,
                                     .window = a->window,
                                     .size = a->size,
                                     .warmup = a->warmup,
                                     .ordered_handoffs = a->ordered_handoffs,
                                     .no_batch = a->no_batch,
                                     .targets = a->to,
                                     .ntargets = a->nto };
        int rc = bench_agent_open(&run->agents[i], &cfg, run->receipt_lat, run->stored_lat);
        if (rc)
            return rc;
        run->items[i] = (zmq_pollitem_t){ bench_agent_socket(run->agents[i]), 0, ZMQ_POLLIN, 0 };
        run->n++;
    }
    return 0;
}

static void
mail_close(mail_run_t *run)
{
    for (size_t i = 0; i < run->n; i++)
        bench_agent_destroy(&run->agents[i], 500); /* lets the last acks out */
    bench_stats_destroy(&run->receipt_lat);
    bench_stats_destroy(&run->stored_lat);
}

/* One turn of the loop: heartbeats, new mail, a poll, and what came in. */
static int
mail_turn(mail_run_t *run, bool send)
{
    uint64_t now = bench_stats_now_us();
    for (size_t i = 0; i < run->n; i++) {
        bench_agent_tick(run->agents[i], now);
        int rc = send ? bench_agent_fill(run->agents[i], now) : 0;
        if (rc)
            return rc;
    }
    if (zmq_poll(run->items, (int)run->n, MAIL_POLL_MS) < 0 && zmq_errno() != EINTR)
        return -zmq_errno();
    for (size_t i = 0; i < run->n; i++)
        if (run->items[i].revents & ZMQ_POLLIN)
            bench_agent_drain(run->agents[i], MAIL_DRAIN);
    return 0;
}

static bool
mail_all(const mail_run_t *run, bool (*pred)(const bench_agent_t *))
{
    for (size_t i = 0; i < run->n; i++)
        if (!pred(run->agents[i]))
            return false;
    return true;
}

/* Turns until `pred` holds for every agent or `deadline` passes. Returns 0 or an error. */
static int
mail_until(mail_run_t *run, bool (*pred)(const bench_agent_t *), bool send, uint64_t deadline)
{
    while (!mail_all(run, pred) && bench_stats_now_us() < deadline) {
        int rc = mail_turn(run, send);
        if (rc)
            return rc;
    }
    return 0;
}

static void
mail_report(mail_run_t *run, const mail_args_t *a, uint64_t t0, uint64_t cpu0, bool complete)
{
    bench_agent_counts_t sum = { 0 };
    for (size_t i = 0; i < run->n; i++) {
        const bench_agent_counts_t *c = bench_agent_counts(run->agents[i]);
        sum.sent += c->sent;
        sum.stored += c->stored;
        sum.receipts += c->receipts;
        sum.refused += c->refused;
        sum.duplicates += c->duplicates;
        sum.stale += c->stale;
        sum.frames_out += c->frames_out;
        sum.bad_frames += c->bad_frames;
        if (c->last_receipt_us > sum.last_receipt_us)
            sum.last_receipt_us = c->last_receipt_us;
    }
    uint64_t end = sum.last_receipt_us > t0 ? sum.last_receipt_us : bench_stats_now_us();
    double secs = (double)(end - t0) / 1e6;
    printf("RESULT bench=mail label=%s agents=%zu targets=%zu window=%u count=%llu sent=%llu "
           "stored=%llu receipts=%llu refused=%llu duplicates=%llu stale=%llu secs=%.3f "
           "rate=%.0f stored_rate=%.0f p50_us=%llu p99_us=%llu store_p50_us=%llu "
           "store_p99_us=%llu cpu_us=%llu batched=%d frames_out=%llu bad_frames=%llu complete=%d\n",
           a->label, run->n, a->nto, a->window, (unsigned long long)a->count,
           (unsigned long long)sum.sent, (unsigned long long)sum.stored,
           (unsigned long long)sum.receipts, (unsigned long long)sum.refused,
           (unsigned long long)sum.duplicates, (unsigned long long)sum.stale, secs,
           secs > 0 ? (double)sum.receipts / secs : 0.0, secs > 0 ? (double)sum.stored / secs : 0.0,
           (unsigned long long)bench_stats_percentile(run->receipt_lat, 50),
           (unsigned long long)bench_stats_percentile(run->receipt_lat, 99),
           (unsigned long long)bench_stats_percentile(run->stored_lat, 50),
           (unsigned long long)bench_stats_percentile(run->stored_lat, 99),
           (unsigned long long)(bench_stats_cpu_us(false) - cpu0),
           run->n ? bench_agent_batching(run->agents[0]) : 0, (unsigned long long)sum.frames_out,
           (unsigned long long)sum.bad_frames, complete);
    fflush(stdout);
}

static int
mail_main(mail_run_t *run, const mail_args_t *a)
{
    int rc = mail_open(run, a);
    if (!rc)
        rc = mail_until(run, bench_agent_welcomed, false, bench_stats_now_us() + MAIL_CONNECT_US);
    if (!rc && !mail_all(run, bench_agent_welcomed)) {
        log_error("bench: not every agency was welcomed by the broker with the verified sealing "
                  "keys of its targets within %llu s",
                  MAIL_CONNECT_US / 1000000ULL);
        rc = -ETIMEDOUT;
    }
    if (rc)
        return rc;
    uint64_t t0 = bench_stats_now_us(), cpu0 = bench_stats_cpu_us(false);
    rc = mail_until(run, bench_agent_done, true, t0 + a->seconds * 1000000u);
    bool complete = rc == 0 && mail_all(run, bench_agent_done);
    mail_report(run, a, t0, cpu0, complete);
    for (size_t i = 0; complete && i < run->n; i++)
        complete = bench_agent_counts(run->agents[i])->receipts == a->count;
    return complete ? 0 : -EIO;
}

int
main(int argc, char **argv)
{
    mail_args_t a;
    mail_run_t run;
    memset(&a, 0, sizeof a);
    memset(&run, 0, sizeof run);
    log_init("bench_mail", LOG_LEVEL_WARN);
    if (mail_parse(argc, argv, &a) != 0) {
        mail_args_free(&a);
        fputs(MAIL_USAGE, stderr);
        return MAIL_EXIT_USAGE;
    }
    zsys_init();
    zsys_set_io_threads((size_t)a.io_threads);
    int rc = mail_main(&run, &a);
    if (rc)
        fprintf(stderr, "bench_mail: the run did not complete\n");
    mail_close(&run);
    mail_args_free(&a);
    return rc ? 1 : 0;
}
