/* Unit tests of broker/presence: sessions by routing id, liveness within three heartbeats,
 * delivery restarts and in-flight accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "presence.h"

static const uint8_t RID1[5] = { 0, 1, 2, 3, 4 };
static const uint8_t RID2[5] = { 0, 9, 9, 9, 9 };

static void
test_online_within_three_heartbeats(void **state)
{
    (void)state;
    presence_t *p = presence_new(100);
    presence_seed(p, "a", 5);
    presence_peer_t *peer = presence_get(p, "a");
    assert_non_null(peer);
    assert_false(presence_online(p, peer, 1000)); /* seeded: never connected in this run */
    assert_int_equal(peer->last_seen_ms, 5);
    peer = presence_touch(p, "a", RID1, sizeof RID1, 77, 1000);
    assert_int_equal(peer->last_seen_ms, 77);
    assert_true(presence_online(p, peer, 1000));
    assert_true(presence_online(p, peer, 1300));
    assert_false(presence_online(p, peer, 1301));
    presence_touch(p, "a", RID1, sizeof RID1, 78, 1301);
    assert_true(presence_online(p, peer, 1301));
    presence_gone(peer);
    assert_false(presence_online(p, peer, 1301));
    assert_null(presence_get(p, "b"));
    presence_destroy(&p);
    assert_null(p);
}

static void
test_new_routing_id_starts_a_new_session(void **state)
{
    (void)state;
    presence_t *p = presence_new(1000);
    presence_peer_t *peer = presence_touch(p, "a", RID1, sizeof RID1, 1, 10);
    peer->pending = false;
    peer->cursor = 9;
    peer->inflight = 4;
    peer->syncing = true;
    /* Same routing id: same session, nothing reset. */
    assert_ptr_equal(presence_touch(p, "a", RID1, sizeof RID1, 2, 20), peer);
    assert_int_equal(peer->cursor, 9);
    assert_true(peer->syncing);
    /* New routing id: delivery starts over and the catch-up is abandoned. */
    presence_touch(p, "a", RID2, sizeof RID2, 3, 30);
    assert_int_equal(peer->cursor, 0);
    assert_int_equal(peer->inflight, 0);
    assert_false(peer->syncing);
    assert_true(peer->pending);
    assert_memory_equal(peer->rid, RID2, sizeof RID2);
    presence_destroy(&p);
}

static void
test_acks_free_the_window(void **state)
{
    (void)state;
    presence_t *p = presence_new(1000);
    presence_peer_t *peer = presence_touch(p, "a", RID1, sizeof RID1, 1, 10);
    peer->inflight = 3;
    peer->pending = false;
    presence_acked(peer, 2, 50);
    assert_int_equal(peer->inflight, 1);
    assert_int_equal(peer->progress_mono, 50);
    assert_true(peer->pending);
    presence_acked(peer, 5, 60); /* never below zero */
    assert_int_equal(peer->inflight, 0);
    peer->cursor = 12;
    presence_restart(peer, 70);
    assert_int_equal(peer->cursor, 0);
    assert_int_equal(presence_size(p), 1);
    assert_ptr_equal(presence_at(p, 0), peer);
    assert_null(presence_at(p, 1));
    presence_destroy(&p);
}

static void
test_many_peers(void **state)
{
    (void)state;
    presence_t *p = presence_new(1000);
    char id[16];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "ag-%d", i);
        presence_touch(p, id, RID1, sizeof RID1, 1, 1);
    }
    assert_int_equal(presence_size(p), 100);
    assert_string_equal(presence_get(p, "ag-57")->agency, "ag-57");
    presence_destroy(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_online_within_three_heartbeats),
        cmocka_unit_test(test_new_routing_id_starts_a_new_session),
        cmocka_unit_test(test_acks_free_the_window),
        cmocka_unit_test(test_many_peers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
