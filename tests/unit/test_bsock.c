/* test_bsock: the broker's ROUTER socket layer on a real CURVE socket over loopback.
 *
 * A ROUTER set up by bsock_setup_router, with a zauth actor that accepts the keys in a
 * folder as the broker's does for enrolled agencies, and a CURVE DEALER client: a received message carries
 * the client's authenticated key and its routing id; a message of more than one frame is
 * marked and its extra frames dropped, so the next message reads cleanly; sends reach the
 * client, an unknown routing id is "unavailable", and a client that stops reading makes sends
 * "busy" instead of blocking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <czmq.h>

#include "broker_limits.h"
#include "bsock.h"
#include "clock.h"
#include "refnet_error.h"
#include "wire.h"

#define WAIT_MS 3000
/* Sends tried before a client that reads nothing must have filled its pipe. */
#define FILL_MAX 400000

typedef struct {
    char dir[64]; /* the accepted public keys */
    zactor_t *auth;
    zcert_t *server, *client;
    zsock_t *router, *dealer;
} fx_t;

static int
setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char ep[64];
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/refnet-bsock-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->server = zcert_new();
    f->client = zcert_new();
    char path[128];
    snprintf(path, sizeof path, "%s/client.txt", f->dir);
    if (zcert_save_public(f->client, path) != 0)
        return -1;
    f->auth = zactor_new(zauth, NULL);
    zstr_sendx(f->auth, "CURVE", f->dir, NULL);
    zsock_wait(f->auth);
    f->router = zsock_new(ZMQ_ROUTER);
    if (bsock_setup_router(f->router, f->server, 1000) != 0)
        return -1;
    int port = zsock_bind(f->router, "tcp://127.0.0.1:*");
    if (port < 0)
        return -1;
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    f->dealer = zsock_new(ZMQ_DEALER);
    zcert_apply(f->client, f->dealer);
    zsock_set_curve_serverkey(f->dealer, zcert_public_txt(f->server));
    zsock_set_linger(f->dealer, 0);
    if (zsock_connect(f->dealer, "%s", ep) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx_t *f = *state;
    zsock_destroy(&f->dealer);
    zsock_destroy(&f->router);
    zcert_destroy(&f->client);
    zcert_destroy(&f->server);
    zactor_destroy(&f->auth);
    char path[128];
    snprintf(path, sizeof path, "%s/client.txt", f->dir);
    remove(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Polls bsock_recv until a message arrives (0) or WAIT_MS pass. */
static int
t_recv(fx_t *f, bsock_msg_t *m)
{
    uint64_t deadline = clock_mono_ms() + WAIT_MS;
    for (;;) {
        int rc = bsock_recv(zsock_resolve(f->router), m);
        if (rc != BSOCK_BUSY || clock_mono_ms() >= deadline)
            return rc;
        bsock_msg_close(m);
        zmq_pollitem_t item = { zsock_resolve(f->router), 0, ZMQ_POLLIN, 0 };
        zmq_poll(&item, 1, 50);
    }
}

static void
test_options(void **state)
{
    fx_t *f = *state;
    int enforce = 0;
    int64_t max = 0;
    size_t len = sizeof enforce;
    assert_int_equal(
        zmq_getsockopt(zsock_resolve(f->router), 93 /* ZMQ_ZAP_ENFORCE_DOMAIN */, &enforce, &len),
        0);
    assert_int_equal(enforce, 1);
    len = sizeof max;
    assert_int_equal(zmq_getsockopt(zsock_resolve(f->router), ZMQ_MAXMSGSIZE, &max, &len), 0);
    assert_int_equal(max, WIRE_MAX_FRAME);
    assert_int_equal(zsock_sndhwm(f->router), BROKER_SNDHWM);
    assert_int_equal(zsock_curve_server(f->router), 1);
    char *domain = zsock_zap_domain(f->router); /* a copy, the caller's to free */
    assert_string_equal(domain, BSOCK_ZAP_DOMAIN);
    zstr_free(&domain);
}

/* A one-frame message carries the client's key; nothing waiting is "busy". */
static void
test_recv_names_the_sender(void **state)
{
    fx_t *f = *state;
    bsock_msg_t m;
    assert_int_equal(bsock_recv(zsock_resolve(f->router), &m), BSOCK_BUSY);
    bsock_msg_close(&m);
    assert_int_equal(zstr_send(f->dealer, "hello"), 0);
    assert_int_equal(t_recv(f, &m), 0);
    assert_true(m.well_formed);
    assert_string_equal(m.user_id, zcert_public_txt(f->client));
    assert_true(zmq_msg_size(&m.rid) > 0);
    assert_int_equal(zmq_msg_size(&m.body), 5);
    assert_memory_equal(zmq_msg_data(&m.body), "hello", 5);

    /* The answer goes back by routing id. */
    assert_int_equal(
        bsock_send(zsock_resolve(f->router), zmq_msg_data(&m.rid), zmq_msg_size(&m.rid), "back", 4),
        0);
    bsock_msg_close(&m);
    zsock_set_rcvtimeo(f->dealer, WAIT_MS);
    char *got = zstr_recv(f->dealer);
    assert_non_null(got);
    assert_string_equal(got, "back");
    zstr_free(&got);
}

/* Two frames are not a message the broker answers: marked, drained, and the next is clean. */
static void
test_extra_frames_are_dropped(void **state)
{
    fx_t *f = *state;
    bsock_msg_t m;
    assert_int_equal(zstr_sendx(f->dealer, "one", "two", "three", NULL), 0);
    assert_int_equal(zstr_send(f->dealer, "next"), 0);
    assert_int_equal(t_recv(f, &m), 0);
    assert_false(m.well_formed);
    assert_memory_equal(zmq_msg_data(&m.body), "one", 3);
    bsock_msg_close(&m);
    assert_int_equal(t_recv(f, &m), 0);
    assert_true(m.well_formed);
    assert_int_equal(zmq_msg_size(&m.body), 4);
    assert_memory_equal(zmq_msg_data(&m.body), "next", 4);
    bsock_msg_close(&m);
}

/* No peer with that routing id: "unavailable" at once, never a silent drop. */
static void
test_unknown_peer_is_unavailable(void **state)
{
    fx_t *f = *state;
    static const uint8_t nobody[] = { 0, 1, 2, 3, 4 };
    assert_int_equal(bsock_send(zsock_resolve(f->router), nobody, sizeof nobody, "x", 1),
                     REFNET_EUNAVAIL);
}

/* A client that reads nothing fills its pipe: sends answer "busy" and never block. */
static void
test_full_pipe_is_busy(void **state)
{
    fx_t *f = *state;
    bsock_msg_t m;
    uint8_t body[200] = { 0 };
    zsock_set_rcvhwm(f->dealer, 1);
    assert_int_equal(zstr_send(f->dealer, "hi"), 0);
    assert_int_equal(t_recv(f, &m), 0);
    int rc = 0;
    size_t sent = 0;
    uint64_t deadline = clock_mono_ms() + 20000;
    while (sent < FILL_MAX && clock_mono_ms() < deadline) {
        rc = bsock_send(zsock_resolve(f->router), zmq_msg_data(&m.rid), zmq_msg_size(&m.rid), body,
                        sizeof body);
        if (rc != 0)
            break;
        sent++;
    }
    bsock_msg_close(&m);
    print_message("busy after %zu sends\n", sent);
    assert_int_equal(rc, BSOCK_BUSY);
    assert_true(sent >= BROKER_SNDHWM);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_names_the_sender, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extra_frames_are_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_peer_is_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_pipe_is_busy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
