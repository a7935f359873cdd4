/* test_admin: the broker's administration socket (broker/admin.c) on a running broker.
 *
 * A real broker in a thread (test_broker_session.h); the admin connects over ipc with the key
 * `refnet-broker init` made. Covers the reports (nodes, flow, dead letters), refusals (an
 * agency's key, a frame that is not an admin request, the admin key on the agency socket),
 * revocation (the agency is told Bye and mail to it is refused; an unknown agency is "not
 * found"), and the socket file's mode. */
#include "test_broker_session.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "broker.h"
#include "keys.h"
#include "path.h"
#include "refnet_error.h"

/* The admin socket's endpoint and file. */
static void
admin_paths(ctx_t *c, char sock[PATH_MAX_LEN], char ep[PATH_MAX_LEN + 8])
{
    assert_int_equal(path_join(sock, PATH_MAX_LEN, c->dir, "admin.sock"), 0);
    snprintf(ep, PATH_MAX_LEN + 8, "ipc://%s", sock);
}

/* Sends `frame` on the admin socket as `cert`; returns the AdminReply (or NULL). */
static pbuf_t *
admin_send_raw(ctx_t *c, zcert_t *cert, const uint8_t *frame, size_t len)
{
    char sock[PATH_MAX_LEN], ep[PATH_MAX_LEN + 8];
    admin_paths(c, sock, ep);
    zsock_t *s = connect_as(c, cert, ep);
    assert_int_equal(zmq_send(zsock_resolve(s), frame, len, 0), (int)len);
    pbuf_t *pb = recv_body(s, REFNET__ENVELOPE__BODY_ADMIN_REPLY, WAIT_MS);
    zsock_destroy(&s);
    return pb;
}

/* Asks `op` (for agency `agency`, or NULL) as `cert`; returns the AdminReply (or NULL). */
static pbuf_t *
admin_request(ctx_t *c, zcert_t *cert, Refnet__AdminOp op, const char *agency)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__AdminRequest req = REFNET__ADMIN_REQUEST__INIT;
    uint8_t id[16], *frame = NULL;
    size_t len = 0;
    req.op = op;
    req.agency_id = (char *)(agency ? agency : "");
    env.body_case = REFNET__ENVELOPE__BODY_ADMIN_REQUEST;
    env.admin_request = &req;
    encode_env(&env, id, &frame, &len);
    pbuf_t *pb = admin_send_raw(c, cert, frame, len);
    free(frame);
    return pb;
}

static pbuf_t *
admin_ask(ctx_t *c, zcert_t *cert, Refnet__AdminOp op)
{
    return admin_request(c, cert, op, NULL);
}

static void
test_reports_and_who_may_ask(void **state)
{
    ctx_t *c = *state;
    zcert_t *admin = NULL;
    uint8_t id[16];
    assert_int_equal(keys_load(c->dir, "admin", &admin), 0);
    zsock_t *s1 = session(c, c->a1, "a1");
    zsock_t *s2 = session(c, c->a2, "a2");
    assert_int_equal(publish(s2, "beds", NULL), REFNET__STATUS__STATUS_OK);
    send_handoff(s1, "a2", NULL, REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED, NULL, id);
    assert_int_equal(result_for(s1, id, NULL, NULL), REFNET__STATUS__STATUS_OK);
    zsock_destroy(&s2);

    pbuf_t *pb = admin_ask(c, admin, REFNET__ADMIN_OP__ADMIN_OP_NODES);
    assert_non_null(pb);
    const Refnet__AdminReply *r = ENV(pb)->admin_reply;
    assert_int_equal(r->status, REFNET__STATUS__STATUS_OK);
    assert_int_equal(r->n_agencies, 2);
    assert_string_equal(r->agencies[0]->id, "a1");
    assert_true(r->agencies[0]->online);
    assert_true(r->agencies[0]->last_seen_ms > 0);
    assert_string_equal(r->agencies[1]->id, "a2");
    assert_int_equal(r->agencies[1]->queued, 1);
    pbuf_destroy(&pb);

    pb = admin_ask(c, admin, REFNET__ADMIN_OP__ADMIN_OP_FLOW);
    assert_non_null(pb);
    r = ENV(pb)->admin_reply;
    assert_int_equal(r->status, REFNET__STATUS__STATUS_OK);
    assert_int_equal(r->handoffs, 1);
    assert_int_equal(r->n_flow, 1);
    assert_string_equal(r->flow[0]->from, "a1");
    assert_string_equal(r->flow[0]->to, "a2");
    assert_int_equal(r->flow[0]->status, REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED);
    pbuf_destroy(&pb);

    /* An agency's key on the admin socket, and the admin key on the agency socket. */
    pb = admin_ask(c, c->a1, REFNET__ADMIN_OP__ADMIN_OP_NODES);
    assert_non_null(pb);
    assert_int_equal(ENV(pb)->admin_reply->status, REFNET__STATUS__STATUS_FORBIDDEN);
    assert_int_equal(ENV(pb)->admin_reply->n_agencies, 0);
    pbuf_destroy(&pb);
    zsock_t *as = connect_as(c, admin, c->endpoint);
    send_hello(as);
    pb = recv_body(as, REFNET__ENVELOPE__BODY_RESULT, WAIT_MS);
    assert_non_null(pb);
    assert_int_equal(ENV(pb)->result->status, REFNET__STATUS__STATUS_FORBIDDEN);
    pbuf_destroy(&pb);
    zsock_destroy(&as);
    zsock_destroy(&s1);
    zcert_destroy(&admin);
}

/* The socket file is the operator's alone; the dead-letter list of a fresh broker is empty. */
static void
test_socket_file_and_dead_letters(void **state)
{
    ctx_t *c = *state;
    zcert_t *admin = NULL;
    char sock[PATH_MAX_LEN], ep[PATH_MAX_LEN + 8];
    struct stat st;
    admin_paths(c, sock, ep);
    assert_int_equal(stat(sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(keys_load(c->dir, "admin", &admin), 0);
    pbuf_t *pb = admin_ask(c, admin, REFNET__ADMIN_OP__ADMIN_OP_DEAD_LETTERS);
    assert_non_null(pb);
    assert_int_equal(ENV(pb)->admin_reply->status, REFNET__STATUS__STATUS_OK);
    assert_int_equal(ENV(pb)->admin_reply->n_dead_letters, 0);
    pbuf_destroy(&pb);
    zcert_destroy(&admin);
}

/* Garbage and envelopes that are not admin requests are refused and counted, never applied. */
static void
test_bad_requests_are_refused(void **state)
{
    ctx_t *c = *state;
    zcert_t *admin = NULL;
    static const uint8_t junk[] = { 0xff, 0x00, 0x13, 0x37 };
    assert_int_equal(keys_load(c->dir, "admin", &admin), 0);
    uint64_t refused = broker_counters(c->broker)->admin_refused;
    pbuf_t *pb = admin_send_raw(c, admin, junk, sizeof junk);
    assert_non_null(pb);
    assert_int_equal(ENV(pb)->admin_reply->status, REFNET__STATUS__STATUS_BAD_REQUEST);
    pbuf_destroy(&pb);

    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ping ping = REFNET__PING__INIT;
    uint8_t id[16], *frame = NULL;
    size_t len = 0;
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    encode_env(&env, id, &frame, &len);
    pb = admin_send_raw(c, admin, frame, len);
    free(frame);
    assert_non_null(pb);
    assert_int_equal(ENV(pb)->admin_reply->status, REFNET__STATUS__STATUS_BAD_REQUEST);
    assert_non_null(strstr(ENV(pb)->admin_reply->detail, "admin requests only"));
    pbuf_destroy(&pb);
    assert_int_equal(broker_counters(c->broker)->admin_refused, refused + 2);
    zcert_destroy(&admin);
}

/* Revoking: the agency's session is told Bye and mail to it is refused from then on; an
 * unknown agency is "not found", and revoking twice says so. */
static void
test_revoke_agency(void **state)
{
    ctx_t *c = *state;
    zcert_t *admin = NULL;
    uint8_t id[16];
    assert_int_equal(keys_load(c->dir, "admin", &admin), 0);
    zsock_t *s2 = session(c, c->a2, "a2");
    assert_int_equal(publish(s2, "beds", NULL), REFNET__STATUS__STATUS_OK);
    zsock_t *s1 = session(c, c->a1, "a1");

    pbuf_t *pb = admin_request(c, admin, REFNET__ADMIN_OP__ADMIN_OP_REVOKE_AGENCY, "nobody");
    assert_non_null(pb);
    assert_int_equal(ENV(pb)->admin_reply->status, REFNET__STATUS__STATUS_NOT_FOUND);
    pbuf_destroy(&pb);

    pb = admin_request(c, admin, REFNET__ADMIN_OP__ADMIN_OP_REVOKE_AGENCY, "a2");
    assert_non_null(pb);
    assert_int_equal(ENV(pb)->admin_reply->status, REFNET__STATUS__STATUS_OK);
    pbuf_destroy(&pb);
    pb = recv_body(s2, REFNET__ENVELOPE__BODY_BYE, WAIT_MS);
    assert_non_null(pb);
    pbuf_destroy(&pb);

    send_handoff(s1, "a2", NULL, REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED, NULL, id);
    assert_int_equal(result_for(s1, id, NULL, NULL), REFNET__STATUS__STATUS_UNKNOWN_RECIPIENT);

    pb = admin_request(c, admin, REFNET__ADMIN_OP__ADMIN_OP_REVOKE_AGENCY, "a2");
    assert_non_null(pb);
    assert_int_equal(ENV(pb)->admin_reply->status, REFNET__STATUS__STATUS_OK);
    assert_non_null(strstr(ENV(pb)->admin_reply->detail, "already"));
    pbuf_destroy(&pb);
    assert_int_equal(broker_counters(c->broker)->revocations, 1);
    zsock_destroy(&s1);
    zsock_destroy(&s2);
    zcert_destroy(&admin);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reports_and_who_may_ask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_file_and_dead_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_agency, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
