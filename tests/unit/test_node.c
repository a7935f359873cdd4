/* Unit tests of node: creating a data folder, the folder lock, the local API served over
 * the real ipc socket by node_run() in a thread (no broker: it stays disconnected), and the
 * loop against a stand-in broker (a CURVE ROUTER in this process on a loopback port chosen at
 * run time) that sends Batch frames of deliveries. */
#include "test_node_fixture.h"

#include <czmq.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "keys.h"
#include "node.h"
#include "node_limits.h"
#include "refnet_error.h"
#include "wire.h"

/* Deliveries of the batch test: two Batch frames whose items together pass NODE_BATCH, so
 * that the rest of the second waits in the link after its frame was read. */
#define N_DELIVERIES (NODE_BATCH + PER_FRAME)
#define PER_FRAME    256

#define BROKER_KEY "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"

typedef struct {
    char dir[64];
    volatile sig_atomic_t stop;
    int open_rc;
    volatile int ready;
} t_t;

static int
setup(void **state)
{
    t_t *t = xcalloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/refnet-node-test-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    t_t *t = *state;
    nfx_rmrf(t->dir);
    free(t);
    return 0;
}

static void
test_create_refuses_overwrite(void **state)
{
    t_t *t = *state;
    char pub[KEYS_Z85_LEN], pub2[KEYS_Z85_LEN];
    char sub[128];
    snprintf(sub, sizeof sub, "%s/n", t->dir);
    assert_int_equal(node_create(sub, "harbor", "Harbor House", "tcp://127.0.0.1:1", BROKER_KEY,
                                 (size_t)16 << 20, pub),
                     0);
    assert_true(keys_z85_valid(pub));
    assert_int_equal(node_create(sub, "harbor", "Harbor House", "tcp://127.0.0.1:1", BROKER_KEY,
                                 (size_t)16 << 20, pub2),
                     REFNET_EEXIST);
    struct stat sb;
    assert_int_equal(stat(sub, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
    /* An uninitialised folder cannot be opened. */
    node_t *node = NULL;
    node_config_t cfg = { t->dir, 1000, (size_t)16 << 20 };
    assert_int_equal(node_open(&node, &cfg), REFNET_ENOTFOUND);
    assert_null(node);
}

static void *
run_node(void *arg)
{
    t_t *t = arg;
    node_t *node = NULL;
    node_config_t cfg = { t->dir, 1000, (size_t)16 << 20 };
    t->open_rc = node_open(&node, &cfg);
    t->ready = 1;
    if (t->open_rc == 0)
        node_run(node, &t->stop);
    node_destroy(&node);
    return NULL;
}

/* One request over the API socket; returns the parsed answer. */
static json_t *
request(const char *dir, const char *text)
{
    zsock_t *req = zsock_new(ZMQ_REQ);
    zsock_set_rcvtimeo(req, 5000);
    zsock_set_linger(req, 0);
    assert_int_equal(zsock_connect(req, "ipc://%s/api.sock", dir), 0);
    assert_int_equal(zstr_send(req, text), 0);
    char *answer = zstr_recv(req);
    zsock_destroy(&req);
    assert_non_null(answer);
    json_t *doc = json_loads(answer, 0, NULL);
    zstr_free(&answer);
    return doc;
}

static void
test_serves_the_api_socket(void **state)
{
    t_t *t = *state;
    char pub[KEYS_Z85_LEN], sock[128];
    pthread_t th;
    assert_int_equal(node_create(t->dir, "harbor", "Harbor House", "tcp://127.0.0.1:1", BROKER_KEY,
                                 (size_t)16 << 20, pub),
                     0);
    assert_int_equal(pthread_create(&th, NULL, run_node, t), 0);
    for (int i = 0; i < 500 && !t->ready; i++)
        usleep(10000);
    assert_int_equal(t->open_rc, 0);

    snprintf(sock, sizeof sock, "%s/api.sock", t->dir);
    struct stat sb;
    assert_int_equal(stat(sock, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* A second daemon on the same folder is refused by the lock. */
    node_t *other = NULL;
    node_config_t cfg = { t->dir, 1000, (size_t)16 << 20 };
    assert_int_equal(node_open(&other, &cfg), REFNET_EEXIST);

    json_t *doc = request(t->dir, "{\"v\":1,\"op\":\"status\"}");
    json_t *r = json_object_get(doc, "result");
    assert_string_equal(json_string_value(json_object_get(r, "agency")), "harbor");
    assert_string_equal(json_string_value(json_object_get(r, "name")), "Harbor House");
    assert_true(json_is_false(json_object_get(r, "connected")));
    json_decref(doc);
    doc = request(t->dir, "{\"op\":\"person.add\",\"args\":{\"name\":\"Sam\"}}");
    assert_true(json_is_true(json_object_get(doc, "ok")));
    json_decref(doc);
    doc = request(t->dir, "garbage");
    assert_true(json_is_false(json_object_get(doc, "ok")));
    json_decref(doc);

    t->stop = 1;
    assert_int_equal(pthread_join(th, NULL), 0);
    /* A clean stop removes the socket file. */
    assert_int_not_equal(stat(sock, &sb), 0);
}

/* The stand-in broker: receives the node's next frame (at most `ms`), keeping its routing
 * id in *rid. Returns the decoded envelope (caller destroys) or NULL. */
static pbuf_t *
stand_in_recv(zsock_t *router, zframe_t **rid, int ms)
{
    char why[WIRE_WHY_LEN];
    zmq_pollitem_t item = { zsock_resolve(router), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&item, 1, ms) <= 0)
        return NULL;
    zmsg_t *msg = zmsg_recv(router);
    assert_non_null(msg);
    zframe_destroy(rid);
    *rid = zmsg_pop(msg);
    zframe_t *body = zmsg_pop(msg);
    pbuf_t *env = NULL;
    assert_int_equal(wire_decode(zframe_data(body), zframe_size(body), &env, why), 0);
    zframe_destroy(&body);
    zmsg_destroy(&msg);
    return env;
}

static void
stand_in_send(zsock_t *router, zframe_t *rid, const uint8_t *bytes, size_t len)
{
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &(zframe_t *){ zframe_dup(rid) });
    zmsg_addmem(msg, bytes, len);
    assert_int_equal(zmsg_send(&msg, router), 0);
}

static void
stand_in_welcome(zsock_t *router, zframe_t *rid)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Welcome w = REFNET__WELCOME__INIT;
    uint8_t id[UID_MSGID_LEN], *bytes = NULL;
    size_t len = 0;
    w.agency_id = (char *)"harbor";
    w.heartbeat_ms = 1000;
    w.batches = true;
    env.body_case = REFNET__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    wire_stamp(&env, id);
    assert_int_equal(wire_encode(&env, &bytes, &len), 0);
    stand_in_send(router, rid, bytes, len);
    free(bytes);
}

/* Sends deliveries ids[0 .. n-1] (Mail{receipt} for a handoff the node does not know: applied
 * as a no-op, recorded as seen, acknowledged) in one Batch frame. */
static void
stand_in_deliver(zsock_t *router, zframe_t *rid, uint8_t (*ids)[UID_MSGID_LEN], size_t n)
{
    uint8_t *items[PER_FRAME], *frame = NULL, of[UID_MSGID_LEN];
    size_t lens[PER_FRAME], len = 0;
    wire_batch_t b;
    wire_batch_init(&b);
    uid_msgid(of);
    for (size_t i = 0; i < n; i++) {
        Refnet__Envelope env = REFNET__ENVELOPE__INIT;
        Refnet__Mail mail = REFNET__MAIL__INIT;
        Refnet__Receipt r = REFNET__RECEIPT__INIT;
        r.msg_id = (ProtobufCBinaryData){ UID_MSGID_LEN, of };
        r.recipient = (char *)"lighthouse";
        mail.to = (char *)"harbor";
        mail.content_case = REFNET__MAIL__CONTENT_RECEIPT;
        mail.receipt = &r;
        env.body_case = REFNET__ENVELOPE__BODY_MAIL;
        env.mail = &mail;
        wire_stamp(&env, ids[i]);
        assert_int_equal(wire_encode(&env, &items[i], &lens[i]), 0);
        assert_true(wire_batch_fits(&b, lens[i], WIRE_MAX_FRAME));
        wire_batch_add(&b, items[i], lens[i]);
    }
    assert_int_equal(wire_batch_encode(&b, NULL, &frame, &len), 0);
    stand_in_send(router, rid, frame, len);
    free(frame);
    for (size_t i = 0; i < n; i++)
        free(items[i]);
}

/* Marks the acknowledged ids; returns how many were new. */
static size_t
note_acks(const Refnet__Ack *ack, uint8_t (*ids)[UID_MSGID_LEN], bool *acked)
{
    size_t fresh = 0;
    assert_true(ack->n_msg_ids <= NODE_BATCH);
    for (size_t i = 0; i < ack->n_msg_ids; i++)
        for (size_t j = 0; j < N_DELIVERIES; j++)
            if (!acked[j] && memcmp(ack->msg_ids[i].data, ids[j], UID_MSGID_LEN) == 0) {
                acked[j] = true;
                fresh++;
            }
    return fresh;
}

/* The node says it takes batches, applies every item of the Batch frames it gets (the rest
 * of a batch left after a full transaction too, with nothing more arriving on the socket)
 * and acknowledges each delivery once it is committed. */
static void
test_applies_batches(void **state)
{
    t_t *t = *state;
    char pub[KEYS_Z85_LEN], ep[64], db[128];
    pthread_t th;
    zframe_t *rid = NULL;
    uint8_t(*ids)[UID_MSGID_LEN] = xcalloc(N_DELIVERIES, UID_MSGID_LEN);
    bool *acked = xcalloc(N_DELIVERIES, sizeof *acked);
    zcert_t *server = zcert_new();
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    zsock_set_curve_server(router, 1);
    zcert_apply(server, router);
    int port = zsock_bind(router, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    assert_int_equal(node_create(t->dir, "harbor", "Harbor", ep, zcert_public_txt(server),
                                 (size_t)16 << 20, pub),
                     0);
    assert_int_equal(pthread_create(&th, NULL, run_node, t), 0);

    pbuf_t *env = stand_in_recv(router, &rid, 5000);
    assert_non_null(env);
    assert_int_equal(((Refnet__Envelope *)pbuf_msg(env))->body_case, REFNET__ENVELOPE__BODY_HELLO);
    assert_true(((Refnet__Envelope *)pbuf_msg(env))->hello->batches);
    pbuf_destroy(&env);
    stand_in_welcome(router, rid);
    for (size_t off = 0; off < N_DELIVERIES; off += PER_FRAME)
        stand_in_deliver(router, rid, ids + off, PER_FRAME);

    size_t done = 0;
    uint64_t end = clock_mono_ms() + 5000;
    while (done < N_DELIVERIES && clock_mono_ms() < end) {
        env = stand_in_recv(router, &rid, 50);
        if (env && ((Refnet__Envelope *)pbuf_msg(env))->body_case == REFNET__ENVELOPE__BODY_ACK)
            done += note_acks(((Refnet__Envelope *)pbuf_msg(env))->ack, ids, acked);
        pbuf_destroy(&env);
    }
    assert_int_equal(done, N_DELIVERIES);
    t->stop = 1;
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t->open_rc, 0);

    /* Each delivery was recorded once. */
    store_t *st = NULL;
    MDB_txn *txn = NULL;
    size_t seen = 0;
    snprintf(db, sizeof db, "%s/db", t->dir);
    assert_int_equal(nodedb_open(&st, db, (size_t)16 << 20), 0);
    assert_int_equal(store_begin(st, true, &txn), 0);
    assert_int_equal(nodedb_count(txn, st, NODEDB_SEEN, &seen), 0);
    assert_int_equal(seen, N_DELIVERIES);
    store_abort(&txn);
    store_destroy(&st);
    zframe_destroy(&rid);
    zsock_destroy(&router);
    zcert_destroy(&server);
    free(acked);
    free(ids);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_refuses_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serves_the_api_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_applies_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
