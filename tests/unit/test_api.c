/* Unit tests of api: request checks and the operations end to end against a real store,
 * without a network (directory changes stop at "pending" with their outbox item). */
#include "test_node_fixture.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sodium.h>

#include "api.h"
#include "node_limits.h"
#include "outbox.h"

typedef struct {
    nfx_t *fx;
    api_t *api;
    api_outcome_t last;
} t_t;

static int
setup(void **state)
{
    t_t *t = xcalloc(1, sizeof *t);
    t->fx = nfx_new();
    assert_non_null(t->fx);
    t->api = api_new(t->fx->st, "harbor", "Harbor House", "tcp://127.0.0.1:7400");
    /* Sealing keys: ours, and lighthouse's as if the broker had vouched for it. */
    uint8_t pk[SEAL_KEY_LEN], sk[SEAL_KEY_LEN], peer_pk[SEAL_KEY_LEN], peer_sk[SEAL_KEY_LEN];
    assert_int_equal(seal_init(), 0);
    crypto_box_keypair(pk, sk);
    crypto_box_keypair(peer_pk, peer_sk);
    api_set_seal_key(t->api, sk);
    MDB_txn *ktxn = nfx_begin(t->fx, false);
    assert_int_equal(store_put(ktxn, store_db(t->fx->st, NODEDB_AGENCY_KEYS), "lighthouse", 10,
                               peer_pk, sizeof peer_pk, 0),
                     0);
    assert_int_equal(store_commit(&ktxn), 0);
    nfx_service_t beds = { .id = "beds-1",
                           .agency = "lighthouse",
                           .name = "Crisis beds",
                           .description = "Short stay beds",
                           .ntax = 2,
                           .has_location = true,
                           .lat = 40.7128,
                           .lon = -74.0060,
                           .available = 3,
                           .accepting = true };
    beds.taxonomy[0] = "housing-shelter";
    beds.taxonomy[1] = "crisis";
    nfx_service_t own = { .id = "peer-1",
                          .agency = "harbor",
                          .name = "Peer support",
                          .ntax = 1,
                          .has_location = true,
                          .lat = 40.73,
                          .lon = -73.99,
                          .available = 0,
                          .accepting = true };
    own.taxonomy[0] = "peer-support";
    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_int_equal(nfx_apply_service(txn, t->fx->st, 1, &beds, NULL), 0);
    assert_int_equal(nfx_apply_service(txn, t->fx->st, 2, &own, NULL), 0);
    assert_int_equal(store_commit(&txn), 0);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    t_t *t = *state;
    free(t->last.reply);
    api_destroy(&t->api);
    nfx_destroy(&t->fx);
    free(t);
    return 0;
}

/* Sends `text`; returns the parsed answer (NULL when pending). */
static json_t *
call_raw(t_t *t, const char *text, size_t len)
{
    free(t->last.reply);
    api_handle(t->api, text, len, false, &t->last);
    if (t->last.pending)
        return NULL;
    json_t *doc = json_loadb(t->last.reply, t->last.reply_len, 0, NULL);
    assert_non_null(doc);
    return doc;
}

/* Calls `op` with `args` (a JSON text); returns the whole answer. */
static json_t *
call(t_t *t, const char *op, const char *args)
{
    char text[8192];
    snprintf(text, sizeof text, "{\"v\":1,\"op\":\"%s\",\"args\":%s}", op, args);
    return call_raw(t, text, strlen(text));
}

/* The error code of an answer, or "ok". */
static const char *
code_of(json_t *doc)
{
    if (json_is_true(json_object_get(doc, "ok")))
        return "ok";
    return json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
}

static void
expect_code(t_t *t, const char *op, const char *args, const char *code)
{
    json_t *doc = call(t, op, args);
    assert_non_null(doc);
    assert_string_equal(code_of(doc), code);
    json_decref(doc);
}

/* Calls and returns a string member of the result. Caller frees. */
static char *
result_str(t_t *t, const char *op, const char *args, const char *key)
{
    json_t *doc = call(t, op, args);
    assert_non_null(doc);
    assert_string_equal(code_of(doc), "ok");
    const char *v = json_string_value(json_object_get(json_object_get(doc, "result"), key));
    assert_non_null(v);
    char *copy = xstrdup(v);
    json_decref(doc);
    return copy;
}

static void
test_malformed_requests(void **state)
{
    t_t *t = *state;
    const char *bad[] = { "not json",
                          "[1,2]",
                          "{\"op\":5}",
                          "{\"v\":2,\"op\":\"status\"}",
                          "{\"op\":\"nope\"}",
                          "{\"op\":\"status\",\"args\":[]}",
                          "{\"op\":\"status\",\"op\":\"search\"}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *doc = call_raw(t, bad[i], strlen(bad[i]));
        assert_string_equal(code_of(doc), "invalid");
        const char *msg =
            json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
        assert_true(msg && msg[0]);
        json_decref(doc);
    }
    size_t big = NODE_API_MAX_REQUEST + 10;
    char *huge = xmalloc(big);
    memset(huge, ' ', big);
    memcpy(huge, "{\"op\":\"status\"}", 15);
    json_t *doc = call_raw(t, huge, big);
    assert_string_equal(code_of(doc), "invalid");
    json_decref(doc);
    free(huge);
    assert_int_equal(api_stats(t->api)->invalid, 8);
}

static void
test_status_and_search(void **state)
{
    t_t *t = *state;
    json_t *doc = call(t, "status", "{}");
    json_t *r = json_object_get(doc, "result");
    assert_string_equal(json_string_value(json_object_get(r, "agency")), "harbor");
    assert_true(json_is_false(json_object_get(r, "connected")));
    assert_int_equal(json_integer_value(json_object_get(r, "directory_seq")), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "services")), 2);
    assert_null(json_object_get(r, "link")); /* no link counters were given */
    json_decref(doc);

    /* With the link's counters, status shows them as they are at the call. */
    link_stats_t ls = { .frames_in = 3, .batches_in = 1, .envelopes_in = 7, .bad_items = 2 };
    api_set_link_stats(t->api, &ls);
    ls.frames_out = 5;
    doc = call(t, "status", "{}");
    json_t *link = json_object_get(json_object_get(doc, "result"), "link");
    assert_int_equal(json_integer_value(json_object_get(link, "envelopes_in")), 7);
    assert_int_equal(json_integer_value(json_object_get(link, "batches_in")), 1);
    assert_int_equal(json_integer_value(json_object_get(link, "bad_frames")), 2);
    assert_int_equal(json_integer_value(json_object_get(link, "frames_out")), 5);
    api_set_link_stats(t->api, NULL);
    json_decref(doc);

    doc = call(t, "search", "{\"text\":\"BEDS\"}");
    json_t *list = json_object_get(json_object_get(doc, "result"), "services");
    assert_int_equal(json_array_size(list), 1);
    json_t *s = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(s, "agency")), "lighthouse");
    assert_int_equal(json_integer_value(json_object_get(s, "available")), 3);
    assert_true(json_is_true(json_object_get(s, "accepting")));
    assert_null(json_object_get(s, "distance_km"));
    json_decref(doc);

    doc = call(t, "search", "{\"near\":{\"lat\":40.7128,\"lon\":-74.006},\"radius_km\":50}");
    list = json_object_get(json_object_get(doc, "result"), "services");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")),
                        "beds-1");
    assert_true(json_real_value(json_object_get(json_array_get(list, 1), "distance_km")) > 1.0);
    json_decref(doc);

    doc = call(t, "search", "{\"available\":true,\"taxonomy\":\"housing\"}");
    list = json_object_get(json_object_get(doc, "result"), "services");
    assert_int_equal(json_array_size(list), 1);
    json_decref(doc);
    expect_code(t, "search", "{\"radius_km\":5}", "invalid");
    expect_code(t, "search", "{\"limit\":0}", "invalid");
    expect_code(t, "search", "{\"text\":7}", "invalid");
}

static void
test_persons_consents_and_handoff(void **state)
{
    t_t *t = *state;
    char args[1024];
    expect_code(t, "person.add", "{}", "invalid");
    expect_code(t, "person.add", "{\"name\":\"\"}", "invalid");
    expect_code(t, "person.add", "{\"name\":\"Sam\",\"preferred_contact\":\"fax\"}", "invalid");
    char *person = result_str(t, "person.add",
                              "{\"name\":\"Sam Doe\",\"contact\":\"555-0100\","
                              "\"preferred_contact\":\"phone\",\"language\":\"en\"}",
                              "id");
    assert_true(uid_is_uuid(person));

    snprintf(args, sizeof args,
             "{\"person\":\"%s\",\"to\":\"lighthouse\",\"purpose\":\"referral\","
             "\"share\":[\"contact\"]}",
             person);
    expect_code(t, "consent.grant", args, "invalid"); /* no end */
    snprintf(args, sizeof args,
             "{\"person\":\"%s\",\"to\":\"lighthouse\",\"purpose\":\"referral\","
             "\"share\":[\"contact\",\"gossip\"],\"expires\":\"2099-01-01\"}",
             person);
    expect_code(t, "consent.grant", args, "invalid");
    snprintf(args, sizeof args,
             "{\"person\":\"%s\",\"to\":\"lighthouse\",\"purpose\":\"referral\","
             "\"share\":[\"contact\"],\"expires\":\"2001-01-01\"}",
             person);
    expect_code(t, "consent.grant", args, "invalid"); /* already over */
    snprintf(args, sizeof args,
             "{\"person\":\"%s\",\"to\":\"lighthouse\",\"purpose\":\"referral\","
             "\"share\":[\"contact\"],\"expires\":\"2099-01-01\",\"obtained\":\"signed\"}",
             person);
    char *consent = result_str(t, "consent.grant", args, "id");

    /* The person's own words are not covered: refused, nothing queued or recorded. */
    snprintf(args, sizeof args,
             "{\"person\":\"%s\",\"service\":\"beds-1\",\"own_words\":\"somewhere quiet\"}",
             person);
    json_t *doc = call(t, "handoff.start", args);
    assert_string_equal(code_of(doc), "consent");
    json_decref(doc);
    assert_int_equal(nfx_count(t->fx, NODEDB_OUTBOX), 0);
    assert_int_equal(nfx_count(t->fx, NODEDB_HANDOFFS), 0);

    /* Without own words the contact-only consent suffices. */
    snprintf(args, sizeof args,
             "{\"person\":\"%s\",\"service\":\"beds-1\",\"mode\":\"video\",\"accompany\":true,"
             "\"proposed_at\":\"2030-05-01T14:30Z\",\"ttl_hours\":48}",
             person);
    char *handoff = result_str(t, "handoff.start", args, "id");
    assert_int_equal(nfx_count(t->fx, NODEDB_OUTBOX), 1);

    doc = call(t, "handoff.list", "{\"box\":\"outbox\"}");
    json_t *rows = json_object_get(json_object_get(doc, "result"), "handoffs");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "to")),
                        "lighthouse");
    assert_null(json_object_get(json_array_get(rows, 0), "person"));
    json_decref(doc);
    doc = call(t, "handoff.list", "{\"box\":\"inbox\"}");
    assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "result"), "handoffs")),
                     0);
    json_decref(doc);

    snprintf(args, sizeof args, "{\"id\":\"%s\"}", handoff);
    doc = call(t, "handoff.show", args);
    json_t *h = json_object_get(doc, "result");
    assert_string_equal(json_string_value(json_object_get(h, "status")), "requested");
    assert_string_equal(json_string_value(json_object_get(h, "mode")), "video");
    assert_string_equal(json_string_value(json_object_get(h, "proposed_at")),
                        "2030-05-01T14:30:00.000Z");
    json_t *p = json_object_get(h, "person");
    assert_string_equal(json_string_value(json_object_get(p, "name")), "Sam Doe");
    assert_string_equal(json_string_value(json_object_get(p, "contact")), "555-0100");
    assert_true(json_is_null(json_object_get(p, "own_words")));
    json_t *ev = json_array_get(json_object_get(h, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "by")), "harbor");
    json_decref(doc);

    snprintf(args, sizeof args, "{\"id\":\"%s\",\"action\":\"accept\"}", handoff);
    expect_code(t, "handoff.update", args, "transition");
    snprintf(args, sizeof args, "{\"id\":\"%s\",\"action\":\"cancel\"}", handoff);
    expect_code(t, "handoff.update", args, "transition"); /* a reason is required */
    snprintf(args, sizeof args, "{\"id\":\"%s\",\"action\":\"shrug\"}", handoff);
    expect_code(t, "handoff.update", args, "invalid");
    snprintf(args, sizeof args, "{\"id\":\"%s\",\"milestone\":\"introduced\"}", handoff);
    expect_code(t, "handoff.milestone", args, "ok");
    expect_code(t, "handoff.show", "{\"id\":\"00000000-0000-4000-8000-000000000000\"}",
                "not-found");

    snprintf(args, sizeof args, "{\"person\":\"%s\"}", person);
    doc = call(t, "consent.list", args);
    json_t *c0 = json_array_get(json_object_get(json_object_get(doc, "result"), "consents"), 0);
    assert_true(json_is_true(json_object_get(c0, "valid")));
    assert_string_equal(json_string_value(json_object_get(c0, "obtained")), "signed");
    json_decref(doc);
    snprintf(args, sizeof args, "{\"id\":\"%s\"}", consent);
    expect_code(t, "consent.revoke", args, "ok");
    expect_code(t, "consent.revoke", args, "invalid");
    doc = call(t, "consent.show", args);
    assert_true(json_is_false(json_object_get(json_object_get(doc, "result"), "valid")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "result"), "discloser")), "harbor");
    json_decref(doc);
    free(person);
    free(consent);
    free(handoff);
}

static void
test_directory_changes_wait_for_the_broker(void **state)
{
    t_t *t = *state;
    json_t *doc = call(t, "service.publish",
                       "{\"id\":\"food-1\",\"name\":\"Food bank\",\"taxonomy\":[\"food\"],"
                       "\"lat\":40.7,\"lon\":-74.0,\"capacity\":20,\"available\":5}");
    assert_null(doc);
    assert_true(t->last.pending);
    assert_string_equal(t->last.subject, "food-1");
    MDB_txn *txn = nfx_begin(t->fx, true);
    uint64_t key = 0;
    assert_int_equal(outbox_find(txn, t->fx->st, t->last.msg_id, UID_MSGID_LEN, &key), 0);
    store_abort(&txn);

    size_t len = 0;
    char *text = api_broker_answer("food-1", true, REFNET__STATUS__STATUS_OK, 7, "", &len);
    doc = json_loadb(text, len, 0, NULL);
    json_t *r = json_object_get(doc, "result");
    assert_int_equal(json_integer_value(json_object_get(r, "seq")), 7);
    assert_true(json_is_false(json_object_get(r, "queued")));
    json_decref(doc);
    free(text);
    text = api_broker_answer("food-1", false, 0, 0, "", &len);
    doc = json_loadb(text, len, 0, NULL);
    assert_true(json_is_true(json_object_get(json_object_get(doc, "result"), "queued")));
    json_decref(doc);
    free(text);
    text = api_broker_answer("beds-1", true, REFNET__STATUS__STATUS_FORBIDDEN, 0,
                             "service beds-1 belongs to lighthouse", &len);
    doc = json_loadb(text, len, 0, NULL);
    assert_string_equal(code_of(doc), "forbidden");
    json_decref(doc);
    free(text);

    expect_code(t, "service.availability", "{\"id\":\"beds-1\",\"available\":1}", "forbidden");
    expect_code(t, "service.availability", "{\"id\":\"zzz\",\"available\":1}", "not-found");
    expect_code(t, "service.availability", "{\"id\":\"peer-1\"}", "invalid");
    assert_null(call(t, "service.availability", "{\"id\":\"peer-1\",\"available\":4}"));
    assert_null(call(t, "service.withdraw", "{\"id\":\"beds-1\"}")); /* the broker judges */
    expect_code(t, "service.publish",
                "{\"id\":\"x\",\"name\":\"X\",\"taxonomy\":[\"a\"],"
                "\"lat\":91,\"lon\":0}",
                "invalid");
    expect_code(t, "service.publish",
                "{\"id\":\"x\",\"name\":\"X\",\"taxonomy\":[\"a\"],"
                "\"lat\":40}",
                "invalid");
    expect_code(t, "service.publish", "{\"id\":\"bad id\",\"name\":\"X\",\"taxonomy\":[\"a\"]}",
                "invalid");
    assert_int_equal(nfx_count(t->fx, NODEDB_OUTBOX), 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_malformed_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_and_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persons_consents_and_handoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_changes_wait_for_the_broker, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
