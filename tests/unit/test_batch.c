/* Unit tests of broker/batch: entries keep their order and data, rollback drops exactly what
 * came after a mark (and frees it), and the batch grows past its first allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"
#include "xmalloc.h"

static uint8_t *
frame_of(const char *text, size_t *len)
{
    *len = strlen(text);
    uint8_t *f = xmalloc(*len);
    memcpy(f, text, *len);
    return f;
}

static void
test_entries_keep_order_and_data(void **state)
{
    (void)state;
    batch_t *b = batch_new();
    size_t len;
    uint8_t rid[5] = { 0, 1, 2, 3, 4 }, ref[16] = { 9 };
    uint8_t *f = frame_of("reply", &len);
    batch_reply(b, rid, sizeof rid, &f, len, ref, sizeof ref, true);
    assert_null(f); /* ownership moved */
    f = frame_of("update", &len);
    batch_fanout(b, &f, len, 42);
    batch_kick(b, "agency-1", 3);
    batch_stored(b, "agency-2", "agency-3", ref);
    assert_int_equal(batch_mark(b), 4);

    batch_entry_t *e = batch_at(b, 0);
    assert_int_equal(e->kind, BATCH_REPLY);
    assert_int_equal(e->rid_len, 5);
    assert_memory_equal(e->rid, rid, 5);
    assert_memory_equal(e->frame, "reply", 5);
    assert_true(e->durable);
    assert_int_equal(e->ref_len, 16);
    assert_int_equal(e->ref[0], 9);
    e = batch_at(b, 1);
    assert_int_equal(e->kind, BATCH_FANOUT);
    assert_int_equal(e->seq, 42);
    e = batch_at(b, 2);
    assert_int_equal(e->kind, BATCH_KICK);
    assert_string_equal(e->agency, "agency-1");
    assert_int_equal(e->acked, 3);
    e = batch_at(b, 3);
    assert_int_equal(e->kind, BATCH_STORED);
    assert_string_equal(e->agency, "agency-2");
    assert_string_equal(e->to, "agency-3");
    assert_memory_equal(e->ref, ref, 16);
    assert_null(batch_at(b, 4));
    batch_destroy(&b);
    assert_null(b);
    batch_destroy(&b); /* twice is fine */
}

static void
test_rollback_and_growth(void **state)
{
    (void)state;
    batch_t *b = batch_new();
    size_t len;
    uint8_t rid[1] = { 7 };
    for (int i = 0; i < 3000; i++) {
        uint8_t *f = frame_of("x", &len);
        batch_reply(b, rid, 1, &f, len, NULL, 0, false);
    }
    size_t mark = batch_mark(b);
    assert_int_equal(mark, 3000);
    batch_kick(b, "a", 0);
    uint8_t *f = frame_of("y", &len);
    batch_fanout(b, &f, len, 1);
    batch_rollback(b, mark);
    assert_int_equal(batch_mark(b), 3000);
    assert_int_equal(batch_at(b, 2999)->kind, BATCH_REPLY);
    batch_clear(b);
    assert_int_equal(batch_mark(b), 0);
    batch_destroy(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries_keep_order_and_data),
        cmocka_unit_test(test_rollback_and_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
