/* bench_amqp: the delivery benchmark's durable workload against a RabbitMQ broker (peers.sh).
 *
 *   bench_amqp --port N [--host H] [--publishers N] [--queues N] [--count N] [--window N]
 *              [--size BYTES] [--seconds S] [--warmup N] [--label TEXT]
 *
 * The same shape as bench_mail against refnet: --publishers threads (8), each with its own
 * AMQP connection in publisher-confirm mode, publish --count persistent messages
 * (delivery_mode 2) of --size bytes each to durable queues, keeping at most --window
 * unconfirmed; the queues (1 for 8->1, 8 for 8->8, addressed in turn as bench_mail addresses
 * its targets) each have one consumer thread on its own connection that acknowledges every
 * message it receives (manual acks). A message counts once its publisher holds the broker's
 * confirm (RabbitMQ confirms a persistent message on a durable queue once it is written to disk
 * and fsynced, or already consumed and acknowledged) AND its consumer has acknowledged it.
 *
 * With --window 1 and one publisher, one message is in flight at a time: publish, wait for the
 * confirm and for the consumer's delivery, acknowledge it, then the next (single thread, two
 * connections).
 *
 * Prints one line "RESULT bench=amqp label=... rate=R p50_us=A p99_us=B cpu_us=C complete=1":
 * rate is counted messages per second from the start to the last one; p50/p99 are from publish
 * to the later of confirm and consumer ack. Exit 0 when every message counted, 1 when not
 * (broker error, time limit), 2 on a usage error.
 *
 * Threads: main declares the queues, starts one thread per publisher and per queue and joins
 * them. Per-message state is shared through atomics only (a flag byte and a time per message);
 * each thread owns its connection. Every wait is bounded by the run's deadline. This file's
 * names start with bamqp_: amqp_ is librabbitmq's. */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "bench_stats.h"
#include "xmalloc.h"

#define BAMQP_EXIT_USAGE     2
#define BAMQP_MAX_PUBLISHERS 64
#define BAMQP_MAX_QUEUES     64
/* Messages per publisher: the per-message arrays stay under 100 MB for the whole run. */
#define BAMQP_MAX_COUNT  1000000
#define BAMQP_MAX_WINDOW 100000
#define BAMQP_MAX_SIZE   65536
/* The header every message body starts with: publisher index, sequence number. */
#define BAMQP_HEADER 8
/* How long one wait for a frame may block before the deadline is looked at again. */
#define BAMQP_WAIT_US 100000
/* Per-message flags. */
#define BAMQP_CONFIRMED 1u
#define BAMQP_ACKED     2u

typedef struct {
    const char *host;
    int port;
    unsigned publishers;
    unsigned queues;
    uint64_t count;
    uint64_t window;
    size_t size;
    uint64_t seconds;
    uint64_t warmup;
    const char *label;
} bamqp_args_t;

/* The run's shared state: message i of publisher p is at index p * count + i. */
typedef struct {
    const bamqp_args_t *args;
    uint64_t start_us;
    uint64_t deadline_us;
    uint64_t *sent_us;         /* written by the publisher before publishing */
    _Atomic uint64_t *done_us; /* when both flags were set */
    _Atomic uint8_t *flags;    /* BAMQP_CONFIRMED | BAMQP_ACKED */
    _Atomic uint64_t done;     /* messages with both flags */
    _Atomic uint64_t last_us;  /* the latest done_us */
    _Atomic bool failed;
} bamqp_run_t;

typedef struct {
    bamqp_run_t *run;
    unsigned index;
} bamqp_task_t;

static const char BAMQP_USAGE[] =
    "usage: bench_amqp --port N [--host H] [--publishers N] [--queues N] [--count N]\n"
    "                  [--window N] [--size BYTES] [--seconds S] [--warmup N] [--label TEXT]\n"
    "\n"
    "Publishes persistent messages with publisher confirms to durable RabbitMQ queues and\n"
    "consumes them with manual acks. Prints 'RESULT bench=amqp ... rate=MSG_PER_S ...'.\n"
    "\n"
    "  --host H          broker address (default 127.0.0.1)\n"
    "  --port N          broker AMQP port\n"
    "  --publishers N    publishing connections, one thread each (default 8)\n"
    "  --queues N        durable queues, one consumer each (default 1)\n"
    "  --count N         messages per publisher (default 10000)\n"
    "  --window N        unconfirmed messages per publisher (default 500)\n"
    "  --size BYTES      message body size (default 200)\n"
    "  --seconds S       give up after S seconds (default 60)\n"
    "  --warmup N        leave each publisher's first N messages out of the latencies\n"
    "  --label TEXT      a name for the run, repeated in the RESULT line\n";

/* ---- arguments ---------------------------------------------------------------------------- */

static bool
bamqp_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int
bamqp_parse_args(int argc, char **argv, bamqp_args_t *a)
{
    static const struct option opts[] = { { "host", required_argument, NULL, 'h' },
                                          { "port", required_argument, NULL, 'p' },
                                          { "publishers", required_argument, NULL, 'P' },
                                          { "queues", required_argument, NULL, 'q' },
                                          { "count", required_argument, NULL, 'c' },
                                          { "window", required_argument, NULL, 'w' },
                                          { "size", required_argument, NULL, 's' },
                                          { "seconds", required_argument, NULL, 't' },
                                          { "warmup", required_argument, NULL, 'W' },
                                          { "label", required_argument, NULL, 'l' },
                                          { "help", no_argument, NULL, 'H' },
                                          { NULL, 0, NULL, 0 } };
    *a = (bamqp_args_t){ .host = "127.0.0.1",
                         .publishers = 8,
                         .queues = 1,
                         .count = 10000,
                         .window = 500,
                         .size = 200,
                         .seconds = 60,
                         .label = "run" };
    uint64_t v = 0, port = 0;
    bool ok = true;
    int c;
    while (ok && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            a->host = optarg;
            break;
        case 'p':
            ok = bamqp_parse_u64(optarg, 1, 65535, &port);
            break;
        case 'P':
            ok = bamqp_parse_u64(optarg, 1, BAMQP_MAX_PUBLISHERS, &v);
            a->publishers = (unsigned)v;
            break;
        case 'q':
            ok = bamqp_parse_u64(optarg, 1, BAMQP_MAX_QUEUES, &v);
            a->queues = (unsigned)v;
            break;
        case 'c':
            ok = bamqp_parse_u64(optarg, 1, BAMQP_MAX_COUNT, &a->count);
            break;
        case 'w':
            ok = bamqp_parse_u64(optarg, 1, BAMQP_MAX_WINDOW, &a->window);
            break;
        case 's':
            ok = bamqp_parse_u64(optarg, BAMQP_HEADER, BAMQP_MAX_SIZE, &v);
            a->size = (size_t)v;
            break;
        case 't':
            ok = bamqp_parse_u64(optarg, 1, 3600, &a->seconds);
            break;
        case 'W':
            ok = bamqp_parse_u64(optarg, 0, BAMQP_MAX_COUNT, &a->warmup);
            break;
        case 'l':
            a->label = optarg;
            break;
        case 'H':
            fputs(BAMQP_USAGE, stdout);
            exit(0);
        default:
            ok = false;
            break;
        }
    }
    if (!ok || optind != argc || port == 0 || a->warmup >= a->count) {
        fputs(BAMQP_USAGE, stderr);
        return -1;
    }
    a->port = (int)port;
    return 0;
}

/* ---- connections -------------------------------------------------------------------------- */

static void
bamqp_queue_name(unsigned q, char *buf, size_t len)
{
    snprintf(buf, len, "refnet-bench-%u", q);
}

/* Returns false (and prints why) when an RPC failed. */
static bool
bamqp_reply_ok(amqp_rpc_reply_t r, const char *what)
{
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return true;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        fprintf(stderr, "bench_amqp: %s: %s\n", what, amqp_error_string2(r.library_error));
    else
        fprintf(stderr, "bench_amqp: %s: broker refused (method 0x%08x)\n", what,
                (unsigned)r.reply.id);
    return false;
}

/* Opens a connection with channel 1; NULL (after a message) on failure. */
static amqp_connection_state_t
bamqp_connect(const bamqp_args_t *a)
{
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *sock = conn ? amqp_tcp_socket_new(conn) : NULL;
    struct timeval tv = { .tv_sec = 10 };
    if (!sock || amqp_socket_open_noblock(sock, a->host, a->port, &tv) != AMQP_STATUS_OK) {
        fprintf(stderr, "bench_amqp: cannot connect to %s:%d\n", a->host, a->port);
        goto fail;
    }
    if (!bamqp_reply_ok(
            amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login"))
        goto fail;
    amqp_channel_open(conn, 1);
    if (!bamqp_reply_ok(amqp_get_rpc_reply(conn), "channel.open"))
        goto fail;
    return conn;
fail:
    if (conn)
        amqp_destroy_connection(conn);
    return NULL;
}

static void
bamqp_close(amqp_connection_state_t conn)
{
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
}

/* Declares the durable queues and empties them (a previous run's leftovers). */
static bool
bamqp_declare(const bamqp_args_t *a)
{
    amqp_connection_state_t conn = bamqp_connect(a);
    bool ok = conn != NULL;
    char name[64];
    for (unsigned q = 0; ok && q < a->queues; q++) {
        bamqp_queue_name(q, name, sizeof name);
        amqp_queue_declare(conn, 1, amqp_cstring_bytes(name), 0, 1, 0, 0, amqp_empty_table);
        ok = bamqp_reply_ok(amqp_get_rpc_reply(conn), "queue.declare");
        if (ok) {
            amqp_queue_purge(conn, 1, amqp_cstring_bytes(name));
            ok = bamqp_reply_ok(amqp_get_rpc_reply(conn), "queue.purge");
        }
    }
    if (conn)
        bamqp_close(conn);
    return ok;
}

/* ---- shared per-message state --------------------------------------------------------------- */

/* Sets `flag` on message `idx`; when that completes it, records the time and counts it.
 * Returns false when the flag was already set (a second confirm of the same message). */
static bool
bamqp_mark(bamqp_run_t *run, uint64_t idx, uint8_t flag)
{
    uint8_t before = atomic_fetch_or(&run->flags[idx], flag);
    if (before & flag)
        return false;
    if ((before | flag) != (BAMQP_CONFIRMED | BAMQP_ACKED))
        return true;
    uint64_t now = bench_stats_now_us();
    atomic_store(&run->done_us[idx], now);
    uint64_t last = atomic_load(&run->last_us);
    while (last < now && !atomic_compare_exchange_weak(&run->last_us, &last, now)) {
    }
    atomic_fetch_add(&run->done, 1);
    return true;
}

static bool
bamqp_timed_out(bamqp_run_t *run)
{
    return atomic_load(&run->failed) || bench_stats_now_us() > run->deadline_us;
}

/* ---- publishers ----------------------------------------------------------------------------- */

/* A publisher's view of its confirms. Confirms of messages routed to different queues may come
 * out of order, one by one or "all up to tag": `low` is the lowest tag not yet confirmed, and
 * the message flags tell which ones above it are. */
typedef struct {
    uint64_t low;       /* every tag below it is confirmed */
    uint64_t confirmed; /* how many are */
} bamqp_confirms_t;

/* Waits (bounded) for one frame on channel 1 and applies it when it is a confirm. Returns 0,
 * or -1 on a connection error, a nack or anything else than a confirm. */
static int
bamqp_wait_confirm(bamqp_run_t *run, amqp_connection_state_t conn, unsigned p, bamqp_confirms_t *c)
{
    amqp_frame_t frame;
    struct timeval tv = { .tv_sec = 0, .tv_usec = BAMQP_WAIT_US };
    int rc = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
    if (rc == AMQP_STATUS_TIMEOUT)
        return 0;
    if (rc != AMQP_STATUS_OK) {
        fprintf(stderr, "bench_amqp: publisher %u: %s\n", p, amqp_error_string2(rc));
        return -1;
    }
    if (frame.frame_type != AMQP_FRAME_METHOD)
        return 0;
    if (frame.payload.method.id != AMQP_BASIC_ACK_METHOD) {
        /* A nack (the broker could not store it) or a channel close: the run has failed. */
        fprintf(stderr, "bench_amqp: publisher %u: method 0x%08x instead of a confirm\n", p,
                (unsigned)frame.payload.method.id);
        return -1;
    }
    const amqp_basic_ack_t *ack = frame.payload.method.decoded;
    uint64_t count = run->args->count, base = (uint64_t)p * count;
    uint64_t top = ack->delivery_tag < count ? ack->delivery_tag : count;
    uint64_t from = ack->multiple ? c->low : ack->delivery_tag;
    for (uint64_t tag = from < 1 ? 1 : from; tag <= top; tag++)
        c->confirmed += bamqp_mark(run, base + tag - 1, BAMQP_CONFIRMED);
    while (c->low <= count && (atomic_load(&run->flags[base + c->low - 1]) & BAMQP_CONFIRMED))
        c->low++;
    return 0;
}

static bool
bamqp_publish_one(
    bamqp_run_t *run, amqp_connection_state_t conn, unsigned p, uint64_t seq, uint8_t *body)
{
    const bamqp_args_t *a = run->args;
    char name[64];
    bamqp_queue_name((unsigned)(seq % a->queues), name, sizeof name);
    uint32_t hdr[2] = { p, (uint32_t)seq };
    memcpy(body, hdr, sizeof hdr);
    amqp_basic_properties_t props = { ._flags = AMQP_BASIC_DELIVERY_MODE_FLAG,
                                      .delivery_mode = AMQP_DELIVERY_PERSISTENT };
    amqp_bytes_t bytes = { .len = a->size, .bytes = body };
    run->sent_us[(uint64_t)p * a->count + seq] = bench_stats_now_us();
    int rc = amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(name), 0, 0, &props,
                                bytes);
    if (rc != AMQP_STATUS_OK) {
        fprintf(stderr, "bench_amqp: publish: %s\n", amqp_error_string2(rc));
        return false;
    }
    return true;
}

static void *
bamqp_publisher(void *arg)
{
    bamqp_task_t *task = arg;
    bamqp_run_t *run = task->run;
    const bamqp_args_t *a = run->args;
    uint8_t *body = xcalloc(1, a->size);
    uint64_t sent = 0;
    bamqp_confirms_t c = { .low = 1 };
    amqp_connection_state_t conn = bamqp_connect(a);
    if (!conn)
        goto fail;
    amqp_confirm_select(conn, 1);
    if (!bamqp_reply_ok(amqp_get_rpc_reply(conn), "confirm.select"))
        goto fail;
    while (c.confirmed < a->count && !bamqp_timed_out(run)) {
        while (sent < a->count && sent - c.confirmed < a->window) {
            if (!bamqp_publish_one(run, conn, task->index, sent, body))
                goto fail;
            sent++;
        }
        if (bamqp_wait_confirm(run, conn, task->index, &c) < 0)
            goto fail;
    }
    bamqp_close(conn);
    free(body);
    return NULL;
fail:
    atomic_store(&run->failed, true);
    if (conn)
        amqp_destroy_connection(conn);
    free(body);
    return NULL;
}

/* ---- consumers ------------------------------------------------------------------------------ */

static amqp_connection_state_t
bamqp_consumer_open(const bamqp_args_t *a, unsigned q)
{
    char name[64];
    bamqp_queue_name(q, name, sizeof name);
    amqp_connection_state_t conn = bamqp_connect(a);
    if (!conn)
        return NULL;
    /* A prefetch as large as every publisher's window: the consumer is never starved. */
    uint64_t prefetch = a->window * a->publishers;
    amqp_basic_qos(conn, 1, 0, (uint16_t)(prefetch > 65535 ? 65535 : prefetch), 0);
    if (bamqp_reply_ok(amqp_get_rpc_reply(conn), "basic.qos")) {
        amqp_basic_consume(conn, 1, amqp_cstring_bytes(name), amqp_empty_bytes, 0, 0, 0,
                           amqp_empty_table);
        if (bamqp_reply_ok(amqp_get_rpc_reply(conn), "basic.consume"))
            return conn;
    }
    amqp_destroy_connection(conn);
    return NULL;
}

/* Receives one message (bounded wait) and acknowledges it. 1 = one message, 0 = none yet,
 * -1 = error. */
static int
bamqp_consume_one(bamqp_run_t *run, amqp_connection_state_t conn, uint64_t *p_idx)
{
    amqp_envelope_t env;
    struct timeval tv = { .tv_sec = 0, .tv_usec = BAMQP_WAIT_US };
    amqp_maybe_release_buffers(conn);
    amqp_rpc_reply_t r = amqp_consume_message(conn, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        return 0;
    if (!bamqp_reply_ok(r, "consume"))
        return -1;
    uint32_t hdr[2] = { UINT32_MAX, UINT32_MAX };
    if (env.message.body.len >= sizeof hdr)
        memcpy(hdr, env.message.body.bytes, sizeof hdr);
    int rc = amqp_basic_ack(conn, 1, env.delivery_tag, 0);
    amqp_destroy_envelope(&env);
    if (rc != AMQP_STATUS_OK || hdr[0] >= run->args->publishers || hdr[1] >= run->args->count) {
        fprintf(stderr, "bench_amqp: consumer: bad message or ack failed\n");
        return -1;
    }
    *p_idx = (uint64_t)hdr[0] * run->args->count + hdr[1];
    return 1;
}

static void *
bamqp_consumer(void *arg)
{
    bamqp_task_t *task = arg;
    bamqp_run_t *run = task->run;
    const bamqp_args_t *a = run->args;
    uint64_t total = a->count * a->publishers;
    /* Messages are addressed to the queues in turn: this queue's share. */
    uint64_t expect = 0;
    for (uint64_t s = 0; s < a->count; s++)
        expect += (s % a->queues) == task->index;
    expect *= a->publishers;
    amqp_connection_state_t conn = bamqp_consumer_open(a, task->index);
    if (!conn) {
        atomic_store(&run->failed, true);
        return NULL;
    }
    uint64_t got = 0, idx = 0;
    while (got < expect && got < total && !bamqp_timed_out(run)) {
        int rc = bamqp_consume_one(run, conn, &idx);
        if (rc < 0) {
            atomic_store(&run->failed, true);
            break;
        }
        if (rc == 1) {
            bamqp_mark(run, idx, BAMQP_ACKED);
            got++;
        }
    }
    bamqp_close(conn);
    return NULL;
}

/* ---- one in flight -------------------------------------------------------------------------- */

/* Publishes one message at a time on one connection and consumes it on another. */
static bool
bamqp_run_serial(bamqp_run_t *run)
{
    const bamqp_args_t *a = run->args;
    uint8_t *body = xcalloc(1, a->size);
    amqp_connection_state_t pub = bamqp_connect(a);
    amqp_connection_state_t sub = bamqp_consumer_open(a, 0);
    bool ok = pub && sub;
    if (ok) {
        amqp_confirm_select(pub, 1);
        ok = bamqp_reply_ok(amqp_get_rpc_reply(pub), "confirm.select");
    }
    bamqp_confirms_t c = { .low = 1 };
    for (uint64_t seq = 0; ok && seq < a->count && !bamqp_timed_out(run); seq++) {
        ok = bamqp_publish_one(run, pub, 0, seq, body);
        while (ok && c.confirmed <= seq && !bamqp_timed_out(run))
            ok = bamqp_wait_confirm(run, pub, 0, &c) >= 0;
        uint64_t idx = UINT64_MAX;
        while (ok && idx != seq && !bamqp_timed_out(run)) {
            int rc = bamqp_consume_one(run, sub, &idx);
            ok = rc >= 0;
            if (rc == 1)
                bamqp_mark(run, idx, BAMQP_ACKED);
        }
    }
    if (pub)
        bamqp_close(pub);
    if (sub)
        bamqp_close(sub);
    free(body);
    return ok;
}

/* ---- main ----------------------------------------------------------------------------------- */

static void
bamqp_run_threads(bamqp_run_t *run)
{
    const bamqp_args_t *a = run->args;
    pthread_t pubs[BAMQP_MAX_PUBLISHERS], subs[BAMQP_MAX_QUEUES];
    bamqp_task_t ptask[BAMQP_MAX_PUBLISHERS], stask[BAMQP_MAX_QUEUES];
    unsigned np = 0, ns = 0;
    for (; ns < a->queues; ns++) {
        stask[ns] = (bamqp_task_t){ run, ns };
        if (pthread_create(&subs[ns], NULL, bamqp_consumer, &stask[ns]) != 0)
            break;
    }
    for (; ns == a->queues && np < a->publishers; np++) {
        ptask[np] = (bamqp_task_t){ run, np };
        if (pthread_create(&pubs[np], NULL, bamqp_publisher, &ptask[np]) != 0)
            break;
    }
    if (ns < a->queues || np < a->publishers) {
        fprintf(stderr, "bench_amqp: cannot start threads\n");
        atomic_store(&run->failed, true);
    }
    for (unsigned i = 0; i < np; i++)
        pthread_join(pubs[i], NULL);
    for (unsigned i = 0; i < ns; i++)
        pthread_join(subs[i], NULL);
}

static void
bamqp_report(bamqp_run_t *run, uint64_t cpu_us)
{
    const bamqp_args_t *a = run->args;
    uint64_t n = a->count * a->publishers, done = atomic_load(&run->done);
    bench_stats_t *lat = bench_stats_new((size_t)n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t end = atomic_load(&run->done_us[i]);
        if (end && i % a->count >= a->warmup)
            bench_stats_add(lat, end - run->sent_us[i]);
    }
    uint64_t last = atomic_load(&run->last_us);
    double secs = last > run->start_us ? (double)(last - run->start_us) / 1e6 : 0.0;
    printf("RESULT bench=amqp label=%s publishers=%u queues=%u window=%llu count=%llu "
           "done=%llu secs=%.3f rate=%.0f p50_us=%llu p99_us=%llu cpu_us=%llu complete=%d\n",
           a->label, a->publishers, a->queues, (unsigned long long)a->window,
           (unsigned long long)a->count, (unsigned long long)done, secs,
           secs > 0 ? (double)done / secs : 0.0,
           (unsigned long long)bench_stats_percentile(lat, 50),
           (unsigned long long)bench_stats_percentile(lat, 99), (unsigned long long)cpu_us,
           done == n && !atomic_load(&run->failed));
    bench_stats_destroy(&lat);
}

int
main(int argc, char **argv)
{
    bamqp_args_t a;
    if (bamqp_parse_args(argc, argv, &a) != 0)
        return BAMQP_EXIT_USAGE;
    if (!bamqp_declare(&a))
        return 1;
    uint64_t n = a.count * a.publishers;
    bamqp_run_t run = { .args = &a };
    run.sent_us = xcalloc((size_t)n, sizeof *run.sent_us);
    run.done_us = xcalloc((size_t)n, sizeof *run.done_us);
    run.flags = xcalloc((size_t)n, sizeof *run.flags);
    uint64_t cpu0 = bench_stats_cpu_us(false);
    run.start_us = bench_stats_now_us();
    run.deadline_us = run.start_us + a.seconds * 1000000ULL;
    if (a.window == 1 && a.publishers == 1)
        bamqp_run_serial(&run);
    else
        bamqp_run_threads(&run);
    bamqp_report(&run, bench_stats_cpu_us(false) - cpu0);
    bool complete = atomic_load(&run.done) == n && !atomic_load(&run.failed);
    free(run.sent_us);
    free((void *)run.done_us);
    free((void *)run.flags);
    return complete ? 0 : 1;
}
