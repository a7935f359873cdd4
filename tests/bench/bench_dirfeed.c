/* bench_dirfeed: a stream of availability changes for the replication benchmark (dirsync.sh).
 *
 *   bench_dirfeed NODE_DIR ENDPOINT SERVER_KEY PREFIX SERVICES COUNT WINDOW
 *
 * Speaks the node protocol to a running refnet-broker as the agency whose keypair is in
 * NODE_DIR (a folder made by `refnet-node init` and enrolled, whose node is not running): says
 * Hello until the Welcome, then sends COUNT DirAvailability changes to its services
 * PREFIX-000000, PREFIX-000002, ... (the even ones of SERVICES, which refnet-dirseed gives the
 * first of two agencies), keeping WINDOW unanswered. The broker answers each after its synced
 * commit with Result{OK, seq} and fans the change out to every connected node. Prints one JSON
 * object: {"updates", "ok", "refused", "seconds", "per_second", "last_seq"}. Exit 0 when every
 * change was answered OK within BENCH_FEED_SECONDS, 1 otherwise, 2 usage. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "keys.h"
#include "refnet_error.h"
#include "wire.h"

/* Hello is repeated this often until the Welcome; the whole run is bounded by this long. */
#define BENCH_FEED_HELLO_US (250 * 1000ULL)
#define BENCH_FEED_SECONDS  300

typedef struct {
    zsock_t *sock;
    const char *prefix;
    long services, count, window;
    long sent, ok, refused, inflight;
    uint64_t last_seq;
    bool welcomed;
} feed_t;

static int
feed_send(feed_t *f, Refnet__Envelope *env)
{
    uint8_t msg_id[16], *frame = NULL;
    size_t len = 0;
    wire_stamp(env, msg_id);
    int rc = wire_encode(env, &frame, &len);
    if (rc == 0 && zmq_send(zsock_resolve(f->sock), frame, len, 0) < 0)
        rc = REFNET_EIO;
    free(frame);
    return rc;
}

static int
feed_hello(feed_t *f)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    hello.software = (char *)"refnet-bench-dirfeed";
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    return feed_send(f, &env);
}

/* Change number `n`: the next even service in turn, with numbers that differ each time. */
static int
feed_change(feed_t *f, long n)
{
    char id[WIRE_MAX_IDENT + 1];
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirAvailability av = REFNET__DIR_AVAILABILITY__INIT;
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    long half = f->services / 2 > 0 ? f->services / 2 : 1;
    snprintf(id, sizeof id, "%s-%06ld", f->prefix, 2 * (n % half));
    cap.available = (int32_t)(n % 17);
    cap.maximum = 20;
    cap.unit = (char *)"bed";
    in.accepting = n % 2 == 0;
    av.service_id = id;
    av.capacity = &cap;
    av.intake = &in;
    env.body_case = REFNET__ENVELOPE__BODY_AVAILABILITY;
    env.availability = &av;
    return feed_send(f, &env);
}

static void
feed_drain(feed_t *f)
{
    for (int i = 0; i < 1024; i++) {
        zmsg_t *msg = zmsg_recv_nowait(f->sock);
        if (!msg)
            return;
        zframe_t *fr = zmsg_first(msg);
        pbuf_t *pb = NULL;
        if (fr && wire_decode(zframe_data(fr), zframe_size(fr), &pb, NULL) == 0) {
            const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
            if (env->body_case == REFNET__ENVELOPE__BODY_WELCOME)
                f->welcomed = true;
            if (env->body_case == REFNET__ENVELOPE__BODY_RESULT && f->inflight > 0) {
                f->inflight--;
                if (env->result->status == REFNET__STATUS__STATUS_OK) {
                    f->ok++;
                    if (env->result->seq > f->last_seq)
                        f->last_seq = env->result->seq;
                } else {
                    f->refused++;
                }
            }
        }
        pbuf_destroy(&pb);
        zmsg_destroy(&msg);
    }
}

static int
feed_run(feed_t *f)
{
    uint64_t start = bench_stats_now_us(), last_hello = 0, t0 = 0;
    uint64_t limit = start + BENCH_FEED_SECONDS * 1000000ULL;
    while (f->ok + f->refused < f->count && bench_stats_now_us() < limit) {
        uint64_t now = bench_stats_now_us();
        if (!f->welcomed && now - last_hello >= BENCH_FEED_HELLO_US) {
            if (feed_hello(f) != 0)
                return 1;
            last_hello = now;
        }
        if (f->welcomed && t0 == 0)
            t0 = now;
        while (f->welcomed && f->sent < f->count && f->inflight < f->window) {
            if (feed_change(f, f->sent) != 0)
                return 1;
            f->sent++;
            f->inflight++;
        }
        zmq_pollitem_t item = { zsock_resolve(f->sock), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 50) > 0)
            feed_drain(f);
    }
    double secs = t0 ? (double)(bench_stats_now_us() - t0) / 1e6 : 0;
    printf("{\"updates\": %ld, \"ok\": %ld, \"refused\": %ld, \"seconds\": %.3f, "
           "\"per_second\": %.0f, \"last_seq\": %llu}\n",
           f->count, f->ok, f->refused, secs, secs > 0 ? (double)f->ok / secs : 0.0,
           (unsigned long long)f->last_seq);
    return f->ok == f->count ? 0 : 1;
}

int
main(int argc, char **argv)
{
    zcert_t *cert = NULL;
    feed_t f = { 0 };
    if (argc != 8) {
        fprintf(stderr, "usage: bench_dirfeed NODE_DIR ENDPOINT SERVER_KEY PREFIX SERVICES COUNT "
                        "WINDOW\n");
        return 2;
    }
    f.prefix = argv[4];
    f.services = strtol(argv[5], NULL, 10);
    f.count = strtol(argv[6], NULL, 10);
    f.window = strtol(argv[7], NULL, 10);
    if (f.services < 2 || f.count < 1 || f.window < 1 || f.window > 10000) {
        fprintf(stderr, "bench_dirfeed: SERVICES >= 2, COUNT >= 1, WINDOW 1-10000\n");
        return 2;
    }
    zsys_init();
    zsys_handler_set(NULL);
    if (keys_load(argv[1], "agency", &cert) != 0) {
        fprintf(stderr, "bench_dirfeed: cannot load the agency keypair in %s\n", argv[1]);
        return 1;
    }
    f.sock = zsock_new(ZMQ_DEALER);
    zcert_apply(cert, f.sock);
    zsock_set_curve_serverkey(f.sock, argv[3]);
    zsock_set_sndhwm(f.sock, (int)f.window + 100);
    zsock_set_rcvhwm(f.sock, 100000);
    zsock_set_maxmsgsize(f.sock, WIRE_MAX_FRAME);
    zsock_set_linger(f.sock, 0);
    int rc = 1;
    if (zsock_connect(f.sock, "%s", argv[2]) == 0)
        rc = feed_run(&f);
    else
        fprintf(stderr, "bench_dirfeed: cannot connect to %s\n", argv[2]);
    zsock_destroy(&f.sock);
    zcert_destroy(&cert);
    return rc;
}
