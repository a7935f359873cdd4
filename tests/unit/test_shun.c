/* Unit tests of broker/shun: an agency goes over the threshold only with more than
 * SHUN_BAD_FRAMES bad frames inside SHUN_WINDOW_MS; a shun lasts until its end (or until
 * cleared when it has none) and then starts the agency over; the Bye frame decodes through
 * wire_decode like any frame from the broker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker_limits.h"
#include "shun.h"
#include "wire.h"

static void
test_empty_table(void **state)
{
    (void)state;
    shun_t *s = shun_new();
    assert_false(shun_active(s, "a", 0));
    shun_clear(s, "a"); /* clearing an unknown agency is harmless */
    shun_destroy(&s);
    assert_null(s);
    shun_destroy(&s);
    shun_destroy(NULL);
}

/* Returns the 1-based number of the offence that first went over, or 0. */
static int
test_offences(shun_t *s, const char *agency, int n, uint64_t start, uint64_t step)
{
    for (int i = 0; i < n; i++)
        if (shun_offence(s, agency, start + (uint64_t)i * step))
            return i + 1;
    return 0;
}

static void
test_threshold_in_window(void **state)
{
    (void)state;
    shun_t *s = shun_new();
    /* SHUN_BAD_FRAMES are tolerated, the next one in the window is over. */
    assert_int_equal(test_offences(s, "a", SHUN_BAD_FRAMES, 1000, 1), 0);
    assert_true(shun_offence(s, "a", 1000 + SHUN_BAD_FRAMES));
    /* Others are not affected. */
    assert_false(shun_offence(s, "b", 1000 + SHUN_BAD_FRAMES));
    assert_false(shun_active(s, "a", 2000)); /* counting alone does not shun */
    shun_destroy(&s);
}

static void
test_slow_offender_never_over(void **state)
{
    (void)state;
    shun_t *s = shun_new();
    /* Spread so that no SHUN_BAD_FRAMES + 1 of them fall inside one window. */
    uint64_t step = SHUN_WINDOW_MS / SHUN_BAD_FRAMES + 1;
    assert_int_equal(test_offences(s, "a", 5 * SHUN_BAD_FRAMES, 1, step), 0);
    /* A burst after that is judged on its own times: over at the threshold exactly. */
    uint64_t later = 1 + 5 * SHUN_BAD_FRAMES * step + SHUN_WINDOW_MS;
    assert_int_equal(test_offences(s, "a", 2 * SHUN_BAD_FRAMES, later, 0), SHUN_BAD_FRAMES + 1);
    shun_destroy(&s);
}

static void
test_window_edge(void **state)
{
    (void)state;
    shun_t *s = shun_new();
    /* The first at t=0, the rest at the window's end: all SHUN_BAD_FRAMES + 1 are within it. */
    assert_false(shun_offence(s, "a", 0));
    assert_int_equal(test_offences(s, "a", SHUN_BAD_FRAMES, SHUN_WINDOW_MS, 0), SHUN_BAD_FRAMES);
    shun_destroy(&s);
    s = shun_new();
    /* One millisecond later the first has left the window. */
    assert_false(shun_offence(s, "a", 0));
    assert_int_equal(test_offences(s, "a", SHUN_BAD_FRAMES, SHUN_WINDOW_MS + 1, 0), 0);
    assert_true(shun_offence(s, "a", SHUN_WINDOW_MS + 1));
    shun_destroy(&s);
}

static void
test_shun_expires_and_starts_over(void **state)
{
    (void)state;
    shun_t *s = shun_new();
    assert_int_equal(test_offences(s, "a", SHUN_BAD_FRAMES + 1, 100, 1), SHUN_BAD_FRAMES + 1);
    shun_add(s, "a", 100 + SHUN_COOLDOWN_MS);
    assert_true(shun_active(s, "a", 101));
    assert_true(shun_active(s, "a", 100 + SHUN_COOLDOWN_MS - 1));
    assert_false(shun_active(s, "b", 101));
    assert_false(shun_active(s, "a", 100 + SHUN_COOLDOWN_MS));
    assert_false(shun_active(s, "a", 100 + SHUN_COOLDOWN_MS + 1));
    /* The record was wiped: a single offence right after is not over. */
    assert_false(shun_offence(s, "a", 100 + SHUN_COOLDOWN_MS + 2));
    shun_destroy(&s);
}

static void
test_until_cleared(void **state)
{
    (void)state;
    shun_t *s = shun_new();
    shun_add(s, "revoked", 0);
    assert_true(shun_active(s, "revoked", UINT64_MAX));
    shun_add(s, "revoked", 50); /* a later call replaces the end */
    assert_true(shun_active(s, "revoked", 49));
    assert_false(shun_active(s, "revoked", 50));
    shun_add(s, "revoked", 0);
    shun_clear(s, "revoked");
    assert_false(shun_active(s, "revoked", 1));
    shun_destroy(&s);
}

static void
test_many_agencies(void **state)
{
    (void)state;
    shun_t *s = shun_new();
    char id[16];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "ag%d", i);
        if (i % 2)
            shun_add(s, id, 1000);
        else
            assert_false(shun_offence(s, id, 1));
    }
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "ag%d", i);
        assert_int_equal(shun_active(s, id, 10), i % 2 == 1);
    }
    for (int i = 1; i < 100; i += 4) {
        snprintf(id, sizeof id, "ag%d", i);
        shun_clear(s, id);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "ag%d", i);
        assert_int_equal(shun_active(s, id, 10), i % 2 == 1 && i % 4 != 1);
    }
    /* An id no agency can have is never tracked. */
    char longid[WIRE_MAX_IDENT + 2];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    shun_add(s, longid, 0);
    assert_false(shun_active(s, longid, 1));
    assert_false(shun_offence(s, longid, 1));
    shun_destroy(&s);
}

static void
test_bye_frame(void **state)
{
    (void)state;
    uint8_t *frame = NULL;
    size_t len = 0;
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN];
    assert_int_equal(shun_bye_frame("too many bad frames", SHUN_COOLDOWN_MS, &frame, &len), 0);
    assert_int_equal(wire_decode(frame, len, &pb, why), 0);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_BYE);
    assert_string_equal(env->bye->reason, "too many bad frames");
    assert_int_equal(env->bye->retry_after_ms, SHUN_COOLDOWN_MS);
    assert_int_equal(env->msg_id.len, 16);
    pbuf_destroy(&pb);
    free(frame);

    /* An over-long reason is cut so the frame still passes the receiver's validation. */
    char reason[2 * WIRE_MAX_DETAIL];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    assert_int_equal(shun_bye_frame(reason, 0, &frame, &len), 0);
    assert_int_equal(wire_decode(frame, len, &pb, why), 0);
    env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(strlen(env->bye->reason), WIRE_MAX_DETAIL);
    assert_int_equal(env->bye->retry_after_ms, 0);
    pbuf_destroy(&pb);
    free(frame);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_table),
        cmocka_unit_test(test_threshold_in_window),
        cmocka_unit_test(test_slow_offender_never_over),
        cmocka_unit_test(test_window_edge),
        cmocka_unit_test(test_shun_expires_and_starts_over),
        cmocka_unit_test(test_until_cleared),
        cmocka_unit_test(test_many_agencies),
        cmocka_unit_test(test_bye_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
