/* Unit tests of cli_print: local API and admin results rendered as readable text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_print.h"

/* Runs a printer over a JSON text and returns what it wrote (caller frees). */
static char *
render(void (*print)(FILE *, const json_t *), const char *json_text)
{
    json_error_t jerr;
    json_t *doc = json_loads(json_text, 0, &jerr);
    if (!doc)
        fail_msg("bad test JSON: %s", jerr.text);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    print(f, doc);
    fclose(f);
    json_decref(doc);
    return buf;
}

static void
assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("expected \"%s\" in:\n%s", needle, text);
}

static void
test_services_table(void **state)
{
    (void)state;
    const char *services =
        "{\"services\":[{\"id\":\"detox-1\",\"name\":\"Detox beds\",\"agency\":\"bridge\","
        "\"available\":3,\"capacity\":10,\"accepting\":true},"
        "{\"id\":\"food\",\"name\":\"Pantry\",\"agency\":\"harbor\",\"available\":null,"
        "\"capacity\":null,\"accepting\":false}]}";
    char *t = render(cli_print_services, services);
    assert_string_equal(t, "ID       NAME        AGENCY  AVAILABLE  ACCEPTING\n"
                           "detox-1  Detox beds  bridge  3/10       yes\n"
                           "food     Pantry      harbor  -          no\n");
    free(t);

    t = render(cli_print_services,
               "{\"services\":[{\"id\":\"a\",\"name\":\"A\",\"agency\":\"x\",\"available\":1,"
               "\"capacity\":null,\"accepting\":true,\"distance_km\":2.345}]}");
    assert_contains(t, "DISTANCE");
    assert_contains(t, "2.3 km");
    assert_contains(t, "1/-");
    free(t);

    t = render(cli_print_services, "{\"services\":[]}");
    assert_string_equal(t, "no services found\n");
    free(t);
}

static void
test_ids_and_changes(void **state)
{
    (void)state;
    char *t = render(cli_print_id, "{\"id\":\"3f1c0f7e-0000-4000-8000-000000000001\"}");
    /* Bare id and newline: scripts capture it with $(...). */
    assert_string_equal(t, "3f1c0f7e-0000-4000-8000-000000000001\n");
    free(t);
    t = render(cli_print_dir_change, "{\"id\":\"detox-1\",\"seq\":12,\"queued\":false}");
    assert_contains(t, "detox-1");
    assert_contains(t, "12");
    free(t);
    t = render(cli_print_dir_change, "{\"id\":\"detox-1\",\"queued\":true}");
    assert_contains(t, "queued");
    free(t);
    t = render(cli_print_handoff_status, "{\"id\":\"h1\",\"status\":\"accepted\"}");
    assert_string_equal(t, "handoff h1 is now accepted\n");
    free(t);
}

static void
test_consents_show_their_state(void **state)
{
    (void)state;
    char *t = render(cli_print_consents,
                     "{\"consents\":[{\"id\":\"c1\",\"person\":\"p1\",\"to\":\"bridge\","
                     "\"purpose\":\"referral\",\"share\":[\"contact\",\"own-words\"],"
                     "\"expires_at\":\"2027-01-01T00:00:00.000Z\",\"revoked_at\":null,"
                     "\"valid\":true},"
                     "{\"id\":\"c2\",\"person\":\"p1\",\"to\":\"*\",\"purpose\":\"referral\","
                     "\"share\":[\"needs\"],\"expires_at\":null,\"expires_on_event\":\"discharge\","
                     "\"revoked_at\":\"2026-11-22T07:00:00.000Z\",\"valid\":false}]}");
    assert_contains(t, "contact, own-words");
    assert_contains(t, "2026-12-31");
    assert_contains(t, "discharge");
    assert_contains(t, "valid\n");
    assert_contains(t, "revoked\n");
    free(t);
}

static const char *HANDOFF =
    "{\"id\":\"h1\",\"status\":\"completed\",\"outcome\":\"got-help\",\"reason\":\"\","
    "\"from\":\"harbor\",\"to\":\"bridge\",\"service\":\"detox-1\",\"service_name\":\"Detox beds\","
    "\"direction\":\"inbox\",\"mode\":\"in-person\",\"accompany\":true,\"proposed_at\":null,"
    "\"created_at\":\"2026-11-22T07:00:00.000Z\",\"updated_at\":\"2026-11-22T09:00:00.000Z\","
    "\"sent_at\":\"2026-11-22T07:00:00.100Z\",\"stored_at\":\"2026-11-22T07:00:00.200Z\","
    "\"delivered_at\":\"2026-11-22T07:00:00.300Z\",\"consent\":\"c1\","
    "\"categories\":[\"contact\",\"own-words\"],"
    "\"person\":{\"name\":\"Ana\",\"contact\":\"555-0100\",\"own_words\":\"I want a bed\\n"
    "tonight\"},"
    "\"events\":[{\"status\":\"requested\",\"at\":\"2026-11-22T07:00:00.000Z\",\"by\":\"harbor\"},"
    "{\"milestone\":\"introduced\",\"at\":\"2026-11-22T07:05:00.000Z\",\"by\":\"harbor\","
    "\"mode\":\"phone\"},"
    "{\"status\":\"cancelled\",\"at\":\"2026-11-22T08:00:00.000Z\",\"by\":\"bridge\","
    "\"reason\":\"line1\\nline2\"}]}";

static void
test_handoff_view(void **state)
{
    (void)state;
    char *t = render(cli_print_handoff, HANDOFF);
    assert_contains(t, "status:    completed (outcome got-help)\n");
    assert_contains(t, "from:      harbor\n");
    assert_contains(t, "to:        bridge\n");
    assert_contains(t, "service:   detox-1 (Detox beds)\n");
    assert_contains(t, "mode:      in-person, peer supporter accompanies\n");
    assert_contains(t, "sent:      2026-11-22T07:00:00.100Z\n");
    assert_contains(t, "stored:    2026-11-22T07:00:00.200Z\n");
    assert_contains(t, "delivered: 2026-11-22T07:00:00.300Z\n");
    assert_contains(t, "consent:   c1 (shares contact, own-words)\n");
    assert_contains(t, "person:\n  name:      Ana\n");
    /* Multi-line text keeps its lines, indented under the value column. */
    assert_contains(t, "  own words: I want a bed\n             tonight\n");
    assert_contains(t, "events:\n  2026-11-22T07:00:00.000Z  requested  by harbor\n");
    assert_contains(t,
                    "  2026-11-22T07:05:00.000Z  milestone introduced  by harbor; mode: phone\n");
    /* An event is one line even when its reason is not. */
    assert_contains(t, "cancelled  by bridge; reason: line1 line2\n");
    /* Empty and null members are left out. */
    assert_null(strstr(t, "reason:    \n"));
    assert_null(strstr(t, "proposed"));
    free(t);

    t = render(cli_print_handoff, "{\"id\":\"h2\"}");
    assert_contains(t, "handoff:   h2\n");
    assert_contains(t, "events:\n  (none)\n");
    free(t);
}

static void
test_consent_show_and_revocations(void **state)
{
    (void)state;
    char *t = render(cli_print_consent,
                     "{\"id\":\"c1\",\"revoked_at\":\"2026-11-22T08:00:00.000Z\",\"revocations\":["
                     "{\"agency\":\"harbor\",\"handoffs\":[\"h1\",\"h2\"],\"acknowledged\":true,"
                     "\"acknowledged_at\":\"2026-11-22T08:00:01.000Z\"},"
                     "{\"agency\":\"bridge\",\"handoffs\":[\"h3\"],\"acknowledged\":false,"
                     "\"sent_at\":\"2026-11-22T08:00:00.000Z\"}]}");
    assert_contains(t, "id:         c1\n");
    assert_contains(t, "revocation acknowledged by harbor at 2026-11-22T08:00:01.000Z (handoffs "
                       "h1, h2)\n");
    assert_contains(t,
                    "revocation pending at bridge (sent 2026-11-22T08:00:00.000Z; handoffs h3)\n");
    assert_null(strstr(t, "revocations"));
    free(t);
    t = render(
        cli_print_revoked,
        "{\"id\":\"c1\",\"revoked_at\":\"2026-11-22T08:00:00.000Z\",\"revocations_sent\":2}");
    assert_contains(t, "consent c1 revoked at 2026-11-22T08:00:00.000Z\n"
                       "revocation sent to 2 agencies that received data under it\n");
    free(t);
}

static void
test_handoff_restricted_and_notice(void **state)
{
    (void)state;
    char *t =
        render(cli_print_handoff,
               "{\"id\":\"h9\",\"status\":\"accepted\",\"person\":{\"name\":\"[restricted]\","
               "\"restricted\":true},\"restricted\":true,\"restricted_at\":"
               "\"2026-11-22T08:00:00.000Z\",\"redisclosure_notice\":\"42 CFR part 2 says\"}");
    assert_contains(t, "person:\n  name:      [restricted]\n");
    assert_contains(t, "restricted: 2026-11-22T08:00:00.000Z\n");
    assert_contains(t, "notice:    42 CFR part 2 says\n");
    free(t);
}

static void
test_handoffs_table(void **state)
{
    (void)state;
    char *t = render(cli_print_handoffs,
                     "{\"handoffs\":[{\"id\":\"h1\",\"status\":\"requested\",\"from\":\"harbor\","
                     "\"to\":\"bridge\",\"service\":\"detox-1\",\"service_name\":\"Detox beds\","
                     "\"direction\":\"outbox\",\"updated_at\":\"2026-11-22T07:01:02.123Z\","
                     "\"outcome\":null},{\"id\":\"h2\",\"status\":\"requested\",\"from\":"
                     "\"bridge\",\"to\":\"harbor\",\"service\":\"s\",\"direction\":\"inbox\","
                     "\"updated_at\":null,\"outcome\":null,\"restricted\":true}]}");
    assert_string_equal(
        t,
        "ID  DIR  STATUS     FROM    TO      SERVICE     UPDATED           OUTCOME  DATA\n"
        "h1  out  requested  harbor  bridge  Detox beds  2026-11-22 07:01  -        -\n"
        "h2  in   requested  bridge  harbor  s           -                 -        restricted\n");
    free(t);
}

static void
test_admin_views(void **state)
{
    (void)state;
    char *t = render(cli_print_admin,
                     "{\"agencies\":[{\"id\":\"harbor\",\"name\":\"Harbor House\",\"online\":true,"
                     "\"last_seen\":\"2026-11-22T07:01:02.123Z\",\"queued\":0},"
                     "{\"id\":\"bridge\",\"name\":\"Bridge\",\"online\":false,\"last_seen\":null,"
                     "\"queued\":2}]}");
    assert_string_equal(t, "AGENCY  NAME          ONLINE  LAST SEEN         QUEUED\n"
                           "harbor  Harbor House  yes     2026-11-22 07:01  0\n"
                           "bridge  Bridge        no      -                 2\n");
    free(t);

    t = render(cli_print_admin,
               "{\"flow\":[{\"from\":\"harbor\",\"to\":\"bridge\",\"status\":\"completed\","
               "\"count\":3}],\"handoffs\":3,\"median_accept_seconds\":192.4,"
               "\"median_first_contact_seconds\":null,\"accepted_samples\":3}");
    assert_contains(t, "FROM    TO      STATUS     COUNT\nharbor  bridge  completed  3\n");
    assert_contains(t, "handoffs: 3\n");
    assert_contains(t, "median time to accept: 3 min 12 s (over 3 accepted)\n");
    assert_contains(t, "median time to first contact: - (none yet)\n");
    free(t);

    t = render(cli_print_admin, "{\"flow\":[],\"handoffs\":0,\"median_accept_seconds\":null,"
                                "\"median_first_contact_seconds\":null,\"accepted_samples\":0}");
    assert_contains(t, "no handoffs yet\n");
    assert_contains(t, "median time to accept: - (none yet)\n");
    free(t);
}

static void
test_status_as_key_value(void **state)
{
    (void)state;
    char *t = render(cli_print_kv, "{\"agency\":\"harbor\",\"connected\":false,"
                                   "\"directory_seq\":7}");
    assert_contains(t, "agency:        harbor\n");
    assert_contains(t, "connected:     false\n");
    assert_contains(t, "directory_seq: 7\n");
    free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_services_table),
        cmocka_unit_test(test_ids_and_changes),
        cmocka_unit_test(test_consents_show_their_state),
        cmocka_unit_test(test_handoff_view),
        cmocka_unit_test(test_handoffs_table),
        cmocka_unit_test(test_consent_show_and_revocations),
        cmocka_unit_test(test_handoff_restricted_and_notice),
        cmocka_unit_test(test_admin_views),
        cmocka_unit_test(test_status_as_key_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
