/* test_packer: replies packed into Batch frames per peer (broker/packer.c).
 *
 * Replies to a peer allowed in this flush are packed within WIRE_MAX_BATCH items (a full pack
 * goes out on the way), every frame sent decodes, a lone reply is sent as itself, replies to
 * other peers are left to the caller, and a flush forgets the peers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packer.h"
#include "wire.h"

#define ENV(pb) ((Refnet__Envelope *)pbuf_msg(pb))

static void
encode_ping(uint8_t **frame, size_t *len)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ping ping = REFNET__PING__INIT;
    uint8_t id[16];
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    wire_stamp(&env, id);
    assert_int_equal(wire_encode(&env, frame, len), 0);
}

typedef struct {
    size_t frames, items;
    uint8_t last_rid[8];
} sent_t;

static void
count_sent(
    void *arg, const uint8_t *rid, size_t rid_len, const uint8_t *frame, size_t len, size_t items)
{
    sent_t *s = arg;
    pbuf_t *pb = NULL;
    assert_int_equal(wire_decode(frame, len, &pb, NULL), 0);
    assert_int_equal(ENV(pb)->body_case == REFNET__ENVELOPE__BODY_BATCH, items > 1);
    pbuf_destroy(&pb);
    s->frames++;
    s->items += items;
    memcpy(s->last_rid, rid, rid_len < 8 ? rid_len : 8);
}

/* Replies to an allowed peer are packed within the frame limit; others are left to the
 * caller; a flush sends what is left and forgets the peers. */
static void
test_packer_packs_allowed_peers_only(void **state)
{
    (void)state;
    packer_t *p = packer_new();
    sent_t sent = { 0 };
    uint8_t rid_a[5] = { 0, 1, 2, 3, 4 }, rid_b[5] = { 0, 9, 9, 9, 9 }, *frame = NULL;
    size_t len = 0;
    encode_ping(&frame, &len);
    packer_allow(p, rid_a, sizeof rid_a);
    assert_false(packer_add(p, rid_b, sizeof rid_b, frame, len, count_sent, &sent));
    size_t n = 0;
    while (n < 3 * WIRE_MAX_BATCH)
        n += packer_add(p, rid_a, sizeof rid_a, frame, len, count_sent, &sent);
    assert_int_equal(sent.items, 2 * WIRE_MAX_BATCH); /* two full packs went out on the way */
    packer_flush(p, count_sent, &sent);
    assert_int_equal(sent.items, n);
    assert_int_equal(sent.frames, 3);
    assert_memory_equal(sent.last_rid, rid_a, 5);
    /* Forgotten after the flush. */
    assert_false(packer_add(p, rid_a, sizeof rid_a, frame, len, count_sent, &sent));
    free(frame);
    packer_destroy(&p);
    assert_null(p);
}

/* One reply alone is sent as itself, not wrapped. */
static void
test_packer_lone_reply_is_itself(void **state)
{
    (void)state;
    packer_t *p = packer_new();
    sent_t sent = { 0 };
    uint8_t rid[5] = { 0, 1, 2, 3, 4 }, *frame = NULL;
    size_t len = 0;
    encode_ping(&frame, &len);
    packer_allow(p, rid, sizeof rid);
    packer_allow(p, rid, sizeof rid); /* noted once */
    assert_true(packer_add(p, rid, sizeof rid, frame, len, count_sent, &sent));
    packer_flush(p, count_sent, &sent);
    assert_int_equal(sent.frames, 1);
    assert_int_equal(sent.items, 1);
    packer_flush(p, count_sent, &sent); /* nothing left */
    assert_int_equal(sent.frames, 1);
    free(frame);
    packer_destroy(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packer_packs_allowed_peers_only),
        cmocka_unit_test(test_packer_lone_reply_is_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
