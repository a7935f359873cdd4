/* Unit tests of librefnet's admin client (clients/lib/admin.h).
 *
 * The conversion of AdminReply to JSON is tested directly. The socket path is tested against a
 * small CURVE ROUTER in a thread that stands in for the broker's admin socket: it holds the
 * broker keypair made by keys_create in a mkdtemp folder, decodes the request with
 * wire_decode and answers one canned Envelope. The real broker is covered by the integration
 * tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "admin.h"
#include "keys.h"
#include "refnet_error.h"
#include "wire.h"
#include "xmalloc.h"

#define FAKE_MAX_MS  30000
#define FAKE_POLL_MS 20

/* What the fake broker answers. */
enum { FAKE_REPLY, FAKE_RESULT, FAKE_REFUSE, FAKE_SILENT };

typedef struct {
    char dir[64];
    void *ctx;
    void *router;
    pthread_t thread;
    atomic_int stop;
    atomic_int mode;
    atomic_int last_op;
} fake_broker_t;

static void
fake_fill_nodes(Refnet__AdminReply *r, Refnet__AgencyInfo *a, Refnet__AgencyInfo **list)
{
    refnet__agency_info__init(&a[0]);
    refnet__agency_info__init(&a[1]);
    a[0].id = (char *)"harbor";
    a[0].name = (char *)"Harbor House";
    a[0].online = true;
    a[0].last_seen_ms = 1795000000000ULL;
    a[0].queued = 2;
    a[1].id = (char *)"bridge";
    a[1].name = (char *)"Bridge";
    a[1].revoked = true;
    list[0] = &a[0];
    list[1] = &a[1];
    r->n_agencies = 2;
    r->agencies = list;
}

static void
fake_fill_flow(Refnet__AdminReply *r, Refnet__FlowRow *row, Refnet__FlowRow **list)
{
    refnet__flow_row__init(row);
    row->from = (char *)"harbor";
    row->to = (char *)"bridge";
    row->status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_COMPLETED;
    row->count = 3;
    list[0] = row;
    r->n_flow = 1;
    r->flow = list;
    r->handoffs = 3;
    r->accepted_samples = 3;
    r->median_accept_ms = 192400;
}

static void
fake_answer(fake_broker_t *f, zmq_msg_t *id, Refnet__AdminOp op)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__AdminReply reply = REFNET__ADMIN_REPLY__INIT;
    Refnet__Result result = REFNET__RESULT__INIT;
    Refnet__AgencyInfo agencies[2], *alist[2];
    Refnet__FlowRow row, *rlist[1];
    uint8_t msg_id[16], *buf = NULL;
    size_t len = 0;
    int mode = atomic_load(&f->mode);
    if (mode == FAKE_SILENT)
        return;
    wire_stamp(&env, msg_id);
    if (mode == FAKE_RESULT) {
        result.status = REFNET__STATUS__STATUS_FORBIDDEN;
        result.detail = (char *)"only the admin key may ask";
        env.body_case = REFNET__ENVELOPE__BODY_RESULT;
        env.result = &result;
    } else {
        if (mode == FAKE_REFUSE) {
            reply.status = REFNET__STATUS__STATUS_INTERNAL;
            reply.detail = (char *)"flow statistics unavailable";
        } else if (op == REFNET__ADMIN_OP__ADMIN_OP_FLOW) {
            fake_fill_flow(&reply, &row, rlist);
        } else {
            fake_fill_nodes(&reply, agencies, alist);
        }
        env.body_case = REFNET__ENVELOPE__BODY_ADMIN_REPLY;
        env.admin_reply = &reply;
    }
    assert_int_equal(wire_encode(&env, &buf, &len), 0);
    zmq_msg_send(id, f->router, ZMQ_SNDMORE);
    zmq_send(f->router, buf, len, 0);
    free(buf);
}

static void
fake_serve_one(fake_broker_t *f)
{
    zmq_msg_t id, frame;
    pbuf_t *decoded = NULL;
    zmq_msg_init(&id);
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&id, f->router, 0) >= 0 && zmq_msg_recv(&frame, f->router, 0) >= 0 &&
        wire_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), &decoded, NULL) == 0) {
        const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(decoded);
        if (env->body_case == REFNET__ENVELOPE__BODY_ADMIN_REQUEST) {
            atomic_store(&f->last_op, (int)env->admin_request->op);
            fake_answer(f, &id, env->admin_request->op);
        }
    }
    pbuf_destroy(&decoded);
    zmq_msg_close(&id);
    zmq_msg_close(&frame);
}

static void *
fake_run(void *arg)
{
    fake_broker_t *f = arg;
    for (int i = 0; i < FAKE_MAX_MS / FAKE_POLL_MS && !atomic_load(&f->stop); i++) {
        zmq_pollitem_t item = { f->router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, FAKE_POLL_MS) > 0)
            fake_serve_one(f);
    }
    return NULL;
}

static fake_broker_t *
fake_start(void)
{
    fake_broker_t *f = xcalloc(1, sizeof *f);
    char pub[KEYS_Z85_LEN], endpoint[160];
    zcert_t *cert = NULL;
    int linger = 0, one = 1;
    snprintf(f->dir, sizeof f->dir, "/tmp/refnet-admin-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(keys_create(f->dir, "broker", pub), 0);
    assert_int_equal(keys_create(f->dir, "admin", pub), 0);
    assert_int_equal(keys_load(f->dir, "broker", &cert), 0);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/admin.sock", f->dir);
    f->ctx = zmq_ctx_new();
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    zmq_setsockopt(f->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(f->router, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(f->router, ZMQ_CURVE_SECRETKEY, zcert_secret_txt(cert), 40);
    zcert_destroy(&cert);
    assert_int_equal(zmq_bind(f->router, endpoint), 0);
    atomic_store(&f->last_op, -1);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
    return f;
}

static void
fake_remove(const char *dir, const char *file)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    unlink(path);
}

static void
fake_stop(fake_broker_t **fp)
{
    fake_broker_t *f = *fp;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    static const char *const files[] = { "admin.sock", "broker.cert", "broker.cert_secret",
                                         "admin.cert", "admin.cert_secret" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        fake_remove(f->dir, files[i]);
    rmdir(f->dir);
    free(f);
    *fp = NULL;
}

static void
test_nodes_reply_to_json(void **state)
{
    (void)state;
    Refnet__AdminReply reply = REFNET__ADMIN_REPLY__INIT;
    Refnet__AgencyInfo agencies[2], *list[2];
    fake_fill_nodes(&reply, agencies, list);
    json_t *j = refnet_admin_reply_json(&reply, REFNET__ADMIN_OP__ADMIN_OP_NODES);
    json_t *a = json_object_get(j, "agencies");
    assert_int_equal(json_array_size(a), 2);
    json_t *h = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(h, "id")), "harbor");
    assert_string_equal(json_string_value(json_object_get(h, "name")), "Harbor House");
    assert_true(json_is_true(json_object_get(h, "online")));
    assert_string_equal(json_string_value(json_object_get(h, "last_seen")),
                        "2026-11-18T11:06:40.000Z");
    assert_int_equal(json_integer_value(json_object_get(h, "queued")), 2);
    json_t *b = json_array_get(a, 1);
    assert_true(json_is_false(json_object_get(b, "online")));
    /* Never seen is null, not 1970. */
    assert_true(json_is_null(json_object_get(b, "last_seen")));
    assert_true(json_is_false(json_object_get(h, "revoked")));
    assert_true(json_is_true(json_object_get(b, "revoked")));
    json_decref(j);
}

static void
test_flow_reply_to_json(void **state)
{
    (void)state;
    Refnet__AdminReply reply = REFNET__ADMIN_REPLY__INIT;
    Refnet__FlowRow row, *list[1];
    fake_fill_flow(&reply, &row, list);
    json_t *j = refnet_admin_reply_json(&reply, REFNET__ADMIN_OP__ADMIN_OP_FLOW);
    json_t *r = json_array_get(json_object_get(j, "flow"), 0);
    assert_string_equal(json_string_value(json_object_get(r, "from")), "harbor");
    assert_string_equal(json_string_value(json_object_get(r, "to")), "bridge");
    assert_string_equal(json_string_value(json_object_get(r, "status")), "completed");
    assert_int_equal(json_integer_value(json_object_get(r, "count")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "handoffs")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "accepted_samples")), 3);
    double median = json_number_value(json_object_get(j, "median_accept_seconds"));
    assert_true(median > 192.39 && median < 192.41);
    assert_true(json_is_null(json_object_get(j, "median_first_contact_seconds")));
    json_decref(j);

    /* No accepted handoff: no median, rather than a median of zero. */
    Refnet__AdminReply empty = REFNET__ADMIN_REPLY__INIT;
    j = refnet_admin_reply_json(&empty, REFNET__ADMIN_OP__ADMIN_OP_FLOW);
    assert_int_equal(json_array_size(json_object_get(j, "flow")), 0);
    assert_true(json_is_null(json_object_get(j, "median_accept_seconds")));
    json_decref(j);
}

static void
test_dead_letters_reply_to_json(void **state)
{
    (void)state;
    Refnet__AdminReply reply = REFNET__ADMIN_REPLY__INIT;
    Refnet__DeadLetter d = REFNET__DEAD_LETTER__INIT, *list[1] = { &d };
    uint8_t id[16];
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)(0xa0 + i);
    d.msg_id.data = id;
    d.msg_id.len = sizeof id;
    d.from = (char *)"harbor";
    d.to = (char *)"bridge";
    d.stored_at_ms = 1000;
    d.expired_at_ms = 3000;
    d.handoff_id = (char *)"";
    reply.dead_letters = list;
    reply.n_dead_letters = 1;
    json_t *j = refnet_admin_reply_json(&reply, REFNET__ADMIN_OP__ADMIN_OP_DEAD_LETTERS);
    json_t *r = json_array_get(json_object_get(j, "dead_letters"), 0);
    assert_string_equal(json_string_value(json_object_get(r, "id")),
                        "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    assert_string_equal(json_string_value(json_object_get(r, "from")), "harbor");
    assert_string_equal(json_string_value(json_object_get(r, "to")), "bridge");
    assert_string_equal(json_string_value(json_object_get(r, "stored_at")),
                        "1970-01-01T00:00:01.000Z");
    assert_string_equal(json_string_value(json_object_get(r, "expired_at")),
                        "1970-01-01T00:00:03.000Z");
    assert_true(json_is_null(json_object_get(r, "handoff_id")));
    json_decref(j);
}

static void
test_status_codes(void **state)
{
    (void)state;
    assert_int_equal(refnet_admin_status_code(REFNET__STATUS__STATUS_OK), 0);
    assert_int_equal(refnet_admin_status_code(REFNET__STATUS__STATUS_FORBIDDEN), REFNET_EFORBIDDEN);
    assert_int_equal(refnet_admin_status_code(REFNET__STATUS__STATUS_BAD_REQUEST), REFNET_EINVAL);
    assert_int_equal(refnet_admin_status_code(REFNET__STATUS__STATUS_INTERNAL), REFNET_ESTORAGE);
    assert_int_equal(refnet_admin_status_code((Refnet__Status)99), REFNET_ESTORAGE);
}

static void
test_open_without_keys_or_broker(void **state)
{
    (void)state;
    char dir[] = "/tmp/refnet-admin-XXXXXX";
    char pub[KEYS_Z85_LEN];
    refnet_admin_t *a = NULL;
    refnet_client_error_t err;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(refnet_admin_open(&a, dir, &err), REFNET_ENOTFOUND);
    assert_non_null(strstr(err.message, "admin.cert_secret"));
    assert_int_equal(keys_create(dir, "admin", pub), 0);
    assert_int_equal(refnet_admin_open(&a, dir, &err), REFNET_ENOTFOUND);
    assert_non_null(strstr(err.message, "broker.cert"));
    assert_int_equal(keys_create(dir, "broker", pub), 0);
    /* Keys present, no broker listening. */
    assert_int_equal(refnet_admin_open(&a, dir, &err), REFNET_EUNAVAIL);
    assert_non_null(strstr(err.message, "is refnet-broker running?"));
    assert_null(a);
    fake_remove(dir, "admin.cert");
    fake_remove(dir, "admin.cert_secret");
    fake_remove(dir, "broker.cert");
    fake_remove(dir, "broker.cert_secret");
    rmdir(dir);
}

static void
test_round_trip_over_curve(void **state)
{
    (void)state;
    fake_broker_t *f = fake_start();
    refnet_admin_t *a = NULL;
    refnet_client_error_t err;
    json_t *result = NULL;
    assert_int_equal(refnet_admin_open(&a, f->dir, &err), 0);
    assert_int_equal(refnet_admin_nodes(a, &result, &err), 0);
    assert_int_equal(atomic_load(&f->last_op), REFNET__ADMIN_OP__ADMIN_OP_NODES);
    assert_int_equal(json_array_size(json_object_get(result, "agencies")), 2);
    json_decref(result);
    assert_int_equal(refnet_admin_flow(a, &result, &err), 0);
    assert_int_equal(atomic_load(&f->last_op), REFNET__ADMIN_OP__ADMIN_OP_FLOW);
    assert_int_equal(json_integer_value(json_object_get(result, "handoffs")), 3);
    json_decref(result);
    refnet_admin_destroy(&a);
    assert_null(a);
    refnet_admin_destroy(&a);
    fake_stop(&f);
}

static void
test_refusals_and_timeouts(void **state)
{
    (void)state;
    fake_broker_t *f = fake_start();
    refnet_admin_t *a = NULL;
    refnet_client_error_t err;
    json_t *result = NULL;
    assert_int_equal(refnet_admin_open(&a, f->dir, &err), 0);
    atomic_store(&f->mode, FAKE_RESULT);
    assert_int_equal(refnet_admin_nodes(a, &result, &err), REFNET_EFORBIDDEN);
    assert_non_null(strstr(err.message, "only the admin key may ask"));
    assert_null(result);
    atomic_store(&f->mode, FAKE_REFUSE);
    assert_int_equal(refnet_admin_flow(a, &result, &err), REFNET_ESTORAGE);
    assert_non_null(strstr(err.message, "flow statistics unavailable"));
    atomic_store(&f->mode, FAKE_SILENT);
    refnet_admin_set_timeout(a, 150);
    assert_int_equal(refnet_admin_nodes(a, &result, &err), REFNET_ETIMEOUT);
    assert_non_null(strstr(err.message, "did not answer"));
    /* A fresh socket after the timeout; the broker answers again. */
    atomic_store(&f->mode, FAKE_REPLY);
    refnet_admin_set_timeout(a, 3000);
    assert_int_equal(refnet_admin_nodes(a, &result, &err), 0);
    assert_int_equal(json_array_size(json_object_get(result, "agencies")), 2);
    json_decref(result);
    refnet_admin_destroy(&a);
    fake_stop(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodes_reply_to_json),
        cmocka_unit_test(test_flow_reply_to_json),
        cmocka_unit_test(test_dead_letters_reply_to_json),
        cmocka_unit_test(test_status_codes),
        cmocka_unit_test(test_open_without_keys_or_broker),
        cmocka_unit_test(test_round_trip_over_curve),
        cmocka_unit_test(test_refusals_and_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
