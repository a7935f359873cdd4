/* bench_hop: the ceiling of the delivery benchmark, a bare ZeroMQ hop.
 *
 *   bench_hop [--clients N] [--inflight N] [--size BYTES] [--count N] [--seconds S]
 *             [--client router|dealer] [--server process|thread] [--io-threads N]
 *             [--curve] [--commit DIR]
 *
 * An echo ROUTER server (bench_echo.h) and N client sockets, each in its own thread, over
 * tcp://127.0.0.1 on a port the kernel picks. The server runs in a child process by default,
 * as a broker runs apart from its agencies, or in a thread of this process. Each client keeps
 * --inflight messages of --size bytes on the wire and sends the next one when an echo comes
 * back, until it has had --count echoes (or --seconds have passed). Clients are ROUTER sockets
 * addressing the server by its routing id (ROUTER to ROUTER), or DEALERs. Each client checks
 * that the echoes come back in the order it sent them.
 *
 * Bare, it is what refnet's throughput is measured against (tests/bench/delivery.sh). --curve
 * (encryption, as on the broker's socket) and --commit DIR (a synced LMDB group commit of each
 * batch before its echoes) put back one of refnet's costs at a time, to show what each costs.
 *
 * Prints one line "RESULT bench=hop ... rate=R cpu_per_msg_us=C complete=1" on stdout: round
 * trips per second, and CPU time per round trip of both processes. Exit 0 when every client
 * got all its echoes in order, 1 when not (or on a ZeroMQ or storage error), 2 on a usage
 * error.
 *
 * Threads: the server and every client thread own their socket; main creates the server
 * before its thread starts, then waits on them. The stop flag is the only shared state
 * besides the start barrier. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_echo.h"
#include "bench_stats.h"
#include "xmalloc.h"

#define HOP_EXIT_USAGE 2
/* How long a client may take to reach the server before the run is given up. */
#define HOP_CONNECT_US (5 * 1000000ULL)
/* Poll and receive timeout: how often threads look at the stop flag and their deadline. */
#define HOP_WAKE_MS 100
/* Bounds of the arguments: enough for any plausible run, small enough to stay in memory. */
#define HOP_MAX_CLIENTS  64
#define HOP_MAX_INFLIGHT 10000
#define HOP_MAX_SIZE     (64 * 1024)
#define HOP_MIN_SIZE     8 /* the sequence number rides in the first 8 bytes */

typedef struct {
    int clients;
    int inflight;
    size_t size;
    uint64_t count;
    int seconds;
    bool router;
    int io_threads;
    bool fork_server;       /* the echo server runs in a child process */
    bool curve;             /* CURVE on every socket */
    const char *commit_dir; /* the server commits each batch into a new store here */
    char server_public[41]; /* Z85 keys made for --curve */
    char server_secret[41];
    char client_public[41];
    char client_secret[41];
} hop_args_t;

typedef struct {
    void *ctx;
    const char *endpoint;
    const hop_args_t *args;
    int index;
    pthread_barrier_t *start;
    uint64_t received;
    int failed; /* 0, or why: 1 timeout, 2 out of order, 3 ZeroMQ error */
} hop_client_t;

/* ---- client ------------------------------------------------------------------------------- */

static int
hop_send(void *sock, bool router, uint64_t seq, uint8_t *buf, size_t size)
{
    memcpy(buf, &seq, sizeof seq);
    if (router && zmq_send(sock, BENCH_ECHO_ID, strlen(BENCH_ECHO_ID), ZMQ_SNDMORE) < 0)
        return -zmq_errno();
    return zmq_send(sock, buf, size, 0) < 0 ? -zmq_errno() : 0;
}

/* Receives one echo and its sequence number. Returns 0, -EAGAIN on timeout, or -errno. */
static int
hop_recv(void *sock, bool router, uint8_t *buf, size_t size, uint64_t *seq)
{
    char id[256];
    if (router && zmq_recv(sock, id, sizeof id, 0) < 0)
        return -zmq_errno();
    int n = zmq_recv(sock, buf, size, 0);
    if (n < 0)
        return -zmq_errno();
    if ((size_t)n < sizeof *seq)
        return -EPROTO;
    memcpy(seq, buf, sizeof *seq);
    return 0;
}

static void *
hop_client_socket(hop_client_t *c)
{
    char id[32];
    int timeout = HOP_WAKE_MS, one = 1, unlimited = 0;
    void *sock = zmq_socket(c->ctx, c->args->router ? ZMQ_ROUTER : ZMQ_DEALER);
    if (!sock)
        return NULL;
    snprintf(id, sizeof id, "hop-client-%d", c->index);
    zmq_setsockopt(sock, ZMQ_ROUTING_ID, id, strlen(id));
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    /* The window bounds what is queued; a full pipe must not drop an echo (ROUTER) either. */
    zmq_setsockopt(sock, ZMQ_SNDHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    if (c->args->router)
        zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (c->args->curve) {
        zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, c->args->server_public, 40);
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, c->args->client_public, 40);
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->args->client_secret, 40);
    }
    if (zmq_connect(sock, c->endpoint) != 0) {
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

/* One round trip before the clock starts, so that every client is connected when it does.
 * A ROUTER cannot route to the server until the handshake is done (EHOSTUNREACH). */
static int
hop_client_connect(void *sock, bool router, uint8_t *buf, size_t size)
{
    uint64_t deadline = bench_stats_now_us() + HOP_CONNECT_US, seq = 0;
    int rc;
    while ((rc = hop_send(sock, router, UINT64_MAX, buf, size)) == -EHOSTUNREACH) {
        if (bench_stats_now_us() > deadline)
            return rc;
        usleep(1000);
    }
    while (rc == 0 && (rc = hop_recv(sock, router, buf, size, &seq)) == -EAGAIN) {
        if (bench_stats_now_us() > deadline)
            return rc;
    }
    return rc == 0 && seq != UINT64_MAX ? -EPROTO : rc;
}

/* Keeps `inflight` messages on the wire until `count` echoes came back in order. */
static void
hop_client_run(hop_client_t *c, void *sock, uint8_t *buf)
{
    const hop_args_t *a = c->args;
    uint64_t deadline = bench_stats_now_us() + (uint64_t)a->seconds * 1000000u, sent = 0;
    while (sent < a->count && sent < (uint64_t)a->inflight)
        if (hop_send(sock, a->router, sent++, buf, a->size) != 0)
            c->failed = 3;
    while (!c->failed && c->received < a->count) {
        uint64_t seq = 0;
        int rc = hop_recv(sock, a->router, buf, a->size, &seq);
        if (rc == -EAGAIN || rc == -EINTR) {
            c->failed = bench_stats_now_us() > deadline ? 1 : 0;
            continue;
        }
        if (rc != 0)
            c->failed = 3;
        else if (seq != c->received++)
            c->failed = 2;
        else if (sent < a->count && hop_send(sock, a->router, sent++, buf, a->size) != 0)
            c->failed = 3;
    }
}

static void *
hop_client_main(void *arg)
{
    hop_client_t *c = arg;
    uint8_t *buf = xcalloc(1, c->args->size);
    void *sock = hop_client_socket(c);
    if (!sock || hop_client_connect(sock, c->args->router, buf, c->args->size) != 0)
        c->failed = 3;
    pthread_barrier_wait(c->start);
    if (!c->failed)
        hop_client_run(c, sock, buf);
    if (sock) {
        int linger = 0;
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(sock);
    }
    free(buf);
    return NULL;
}

/* ---- main --------------------------------------------------------------------------------- */

static const char HOP_USAGE[] =
    "usage: bench_hop [--clients N] [--inflight N] [--size BYTES] [--count N]\n"
    "                 [--seconds S] [--client router|dealer] [--io-threads N]\n"
    "                 [--server process|thread] [--curve] [--commit DIR]\n"
    "\n"
    "A bare ZeroMQ ROUTER echo hop over tcp://127.0.0.1: the ceiling of the delivery\n"
    "benchmark. Prints 'RESULT bench=hop ... rate=ROUND_TRIPS_PER_S complete=0|1'.\n"
    "\n"
    "  --clients N       client sockets, one thread each (default 8)\n"
    "  --inflight N      messages each client keeps on the wire (default 50)\n"
    "  --size BYTES      message size (default 200)\n"
    "  --count N         echoes each client waits for (default 100000)\n"
    "  --seconds S       give up after S seconds (default 60)\n"
    "  --client KIND     router (default) or dealer\n"
    "  --io-threads N    ZeroMQ I/O threads per process (default 1)\n"
    "  --server WHERE    process (default: a child process, as a broker is) or thread\n"
    "  --curve           encrypt with CURVE, as refnet does\n"
    "  --commit DIR      the server commits each batch to a new LMDB store in DIR (synced)\n"
    "                    before echoing it\n";

static bool
hop_parse_long(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* The bounds of each numeric option, by its getopt code. */
static bool
hop_bounds(int opt, long *min, long *max)
{
    switch (opt) {
    case 'n':
        *min = 1, *max = HOP_MAX_CLIENTS;
        return true;
    case 'w':
        *min = 1, *max = HOP_MAX_INFLIGHT;
        return true;
    case 's':
        *min = HOP_MIN_SIZE, *max = HOP_MAX_SIZE;
        return true;
    case 'c':
        *min = 1, *max = 1000000000L;
        return true;
    case 't':
        *min = 1, *max = 3600;
        return true;
    case 'i':
        *min = 1, *max = 16;
        return true;
    default:
        return false;
    }
}

static int
hop_parse_option(hop_args_t *a, int opt, const char *val)
{
    long v = 0, min = 0, max = 0;
    if (opt == 'k') {
        a->router = strcmp(val, "router") == 0;
        return a->router || strcmp(val, "dealer") == 0 ? 0 : -1;
    }
    if (opt == 'C') {
        a->curve = true;
        return 0;
    }
    if (opt == 'D') {
        a->commit_dir = val;
        return 0;
    }
    if (opt == 'p') {
        a->fork_server = strcmp(val, "process") == 0;
        return a->fork_server || strcmp(val, "thread") == 0 ? 0 : -1;
    }
    if (!hop_bounds(opt, &min, &max) || !hop_parse_long(val, min, max, &v))
        return -1;
    if (opt == 'n')
        a->clients = (int)v;
    else if (opt == 'w')
        a->inflight = (int)v;
    else if (opt == 's')
        a->size = (size_t)v;
    else if (opt == 'c')
        a->count = (uint64_t)v;
    else if (opt == 't')
        a->seconds = (int)v;
    else
        a->io_threads = (int)v;
    return 0;
}

static int
hop_parse(int argc, char **argv, hop_args_t *a)
{
    static const struct option opts[] = { { "clients", required_argument, NULL, 'n' },
                                          { "inflight", required_argument, NULL, 'w' },
                                          { "size", required_argument, NULL, 's' },
                                          { "count", required_argument, NULL, 'c' },
                                          { "seconds", required_argument, NULL, 't' },
                                          { "client", required_argument, NULL, 'k' },
                                          { "io-threads", required_argument, NULL, 'i' },
                                          { "server", required_argument, NULL, 'p' },
                                          { "curve", no_argument, NULL, 'C' },
                                          { "commit", required_argument, NULL, 'D' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    memset(a, 0, sizeof *a);
    a->clients = 8;
    a->inflight = 50;
    a->size = 200;
    a->count = 100000;
    a->seconds = 60;
    a->router = true;
    a->io_threads = 1;
    a->fork_server = true;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(HOP_USAGE, stdout);
            exit(0);
        }
        if (hop_parse_option(a, opt, optarg) != 0) {
            fprintf(stderr, "bench_hop: bad option or value (see --help)\n");
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

static bench_echo_config_t
hop_echo_config(const hop_args_t *a)
{
    bench_echo_config_t cfg = { a->curve ? a->server_secret : NULL, a->commit_dir };
    return cfg;
}

/* The child process of --server process: opens the server, tells the parent its endpoint
 * through `ep_fd`, and echoes until the parent closes `stop_fd`'s other end. Never returns. */
static void
hop_child(const hop_args_t *a, int ep_fd, int stop_fd)
{
    char ep[BENCH_ECHO_EP_LEN] = "";
    bench_echo_t *echo = NULL;
    const bench_echo_config_t cfg = hop_echo_config(a);
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_IO_THREADS, a->io_threads);
    int rc = bench_echo_open(&echo, ctx, &cfg, ep);
    ssize_t w = write(ep_fd, ep, sizeof ep);
    close(ep_fd);
    if (!rc && w == (ssize_t)sizeof ep)
        rc = bench_echo_run(echo, NULL, stop_fd);
    bench_echo_destroy(&echo);
    zmq_ctx_term(ctx);
    _exit(rc ? 1 : 0);
}

/* Starts the server process; sets *pid and *stop_fd (close it to stop the child). */
static int
hop_fork(const hop_args_t *a, char ep[BENCH_ECHO_EP_LEN], pid_t *pid, int *stop_fd)
{
    int ep_pipe[2], stop_pipe[2];
    if (pipe(ep_pipe) != 0)
        return -1;
    if (pipe(stop_pipe) != 0) {
        close(ep_pipe[0]);
        close(ep_pipe[1]);
        return -1;
    }
    fflush(NULL);
    *pid = fork();
    if (*pid == 0) {
        close(ep_pipe[0]);
        close(stop_pipe[1]);
        hop_child(a, ep_pipe[1], stop_pipe[0]);
    }
    close(ep_pipe[1]);
    close(stop_pipe[0]);
    *stop_fd = stop_pipe[1];
    ssize_t n = *pid > 0 ? read(ep_pipe[0], ep, BENCH_ECHO_EP_LEN) : -1;
    close(ep_pipe[0]);
    return n == BENCH_ECHO_EP_LEN && ep[0] ? 0 : -1;
}

/* Starts the clients and times them from the common start to the last echo. Returns the
 * first client failure (0 when none); sets *total and *secs. */
static int
hop_run(void *ctx, const char *endpoint, const hop_args_t *a, uint64_t *total, double *secs)
{
    pthread_barrier_t start;
    hop_client_t *clients = xcalloc((size_t)a->clients, sizeof *clients);
    pthread_t *threads = xcalloc((size_t)a->clients, sizeof *threads);
    int failed = 0;
    *total = 0;
    pthread_barrier_init(&start, NULL, (unsigned)a->clients + 1);
    for (int i = 0; i < a->clients; i++) {
        clients[i] = (hop_client_t){ ctx, endpoint, a, i, &start, 0, 0 };
        pthread_create(&threads[i], NULL, hop_client_main, &clients[i]);
    }
    pthread_barrier_wait(&start);
    uint64_t t0 = bench_stats_now_us();
    for (int i = 0; i < a->clients; i++) {
        pthread_join(threads[i], NULL);
        *total += clients[i].received;
        failed = failed ? failed : clients[i].failed;
    }
    *secs = (double)(bench_stats_now_us() - t0) / 1e6;
    if (failed)
        fprintf(stderr, "bench_hop: a client failed (%s)\n",
                failed == 1   ? "timed out"
                : failed == 2 ? "echo out of order"
                              : "ZeroMQ error");
    pthread_barrier_destroy(&start);
    free(threads);
    free(clients);
    return failed;
}

/* Prints the RESULT line. `cpu_us` is the CPU time of the whole run, server included. */
static void
hop_report(const hop_args_t *a, uint64_t total, double secs, uint64_t cpu_us, bool complete)
{
    printf("RESULT bench=hop clients=%d inflight=%d size=%zu client=%s server=%s curve=%d "
           "commit=%d roundtrips=%llu secs=%.3f rate=%.0f cpu_us=%llu cpu_per_msg_us=%.2f "
           "complete=%d\n",
           a->clients, a->inflight, a->size, a->router ? "router" : "dealer",
           a->fork_server ? "process" : "thread", a->curve, a->commit_dir != NULL,
           (unsigned long long)total, secs, secs > 0 ? (double)total / secs : 0.0,
           (unsigned long long)cpu_us, total ? (double)cpu_us / (double)total : 0.0, complete);
}

/* --server process: the clients run here against the child; the child is stopped by closing
 * its pipe and reaped by its pid. */
static int
hop_main_process(const hop_args_t *a)
{
    char endpoint[BENCH_ECHO_EP_LEN] = "";
    pid_t pid = -1;
    int stop_fd = -1, status = 0, rc = 1;
    uint64_t total = 0, cpu0 = bench_stats_cpu_us(false);
    double secs = 0;
    if (hop_fork(a, endpoint, &pid, &stop_fd) != 0) {
        fprintf(stderr, "bench_hop: the echo server process did not start\n");
    } else {
        void *ctx = zmq_ctx_new();
        zmq_ctx_set(ctx, ZMQ_IO_THREADS, a->io_threads);
        rc = hop_run(ctx, endpoint, a, &total, &secs) ? 1 : 0;
        zmq_ctx_term(ctx);
    }
    if (stop_fd >= 0)
        close(stop_fd);
    if (pid > 0 && waitpid(pid, &status, 0) == pid && !(WIFEXITED(status) && !WEXITSTATUS(status)))
        rc = 1;
    if (pid > 0)
        hop_report(a, total, secs, bench_stats_cpu_us(false) - cpu0 + bench_stats_cpu_us(true),
                   rc == 0);
    return rc;
}

typedef struct {
    bench_echo_t *echo;
    const atomic_int *stop;
    int rc;
} hop_thread_t;

static void *
hop_thread_main(void *arg)
{
    hop_thread_t *t = arg;
    t->rc = bench_echo_run(t->echo, t->stop, -1);
    return NULL;
}

/* --server thread: server and clients share one process and one ZeroMQ context. */
static int
hop_main_thread(const hop_args_t *a)
{
    char endpoint[BENCH_ECHO_EP_LEN];
    atomic_int stop = 0;
    pthread_t server_thread;
    hop_thread_t t = { NULL, &stop, 0 };
    const bench_echo_config_t cfg = hop_echo_config(a);
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_IO_THREADS, a->io_threads);
    if (bench_echo_open(&t.echo, ctx, &cfg, endpoint) != 0) {
        zmq_ctx_term(ctx);
        return 1;
    }
    uint64_t total = 0, cpu0 = bench_stats_cpu_us(false);
    double secs = 0;
    pthread_create(&server_thread, NULL, hop_thread_main, &t);
    int rc = hop_run(ctx, endpoint, a, &total, &secs) || t.rc ? 1 : 0;
    atomic_store(&stop, 1);
    pthread_join(server_thread, NULL);
    bench_echo_destroy(&t.echo);
    zmq_ctx_term(ctx);
    hop_report(a, total, secs, bench_stats_cpu_us(false) - cpu0, rc == 0);
    return rc;
}

int
main(int argc, char **argv)
{
    hop_args_t a;
    if (hop_parse(argc, argv, &a) != 0) {
        fputs(HOP_USAGE, stderr);
        return HOP_EXIT_USAGE;
    }
    if (a.curve && (zmq_curve_keypair(a.server_public, a.server_secret) != 0 ||
                    zmq_curve_keypair(a.client_public, a.client_secret) != 0)) {
        fprintf(stderr, "bench_hop: this libzmq has no CURVE\n");
        return 1;
    }
    return a.fork_server ? hop_main_process(&a) : hop_main_thread(&a);
}
