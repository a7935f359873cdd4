/* broker_int: what the files of the broker module share (broker.c, intake.c); private.
 *
 * broker.c owns the context (struct broker), the group-commit loop and housekeeping; intake.c
 * turns the frames drained for one group commit into decoded requests in the slots
 * (authentication, decoding, Batch expansion, bad-frame accounting). Only the loop thread
 * touches any of it. */
#ifndef REFNET_BROKER_INT_H
#define REFNET_BROKER_INT_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admin.h"
#include "agencies.h"
#include "batch.h"
#include "broker.h"
#include "broker_limits.h"
#include "bsock.h"
#include "mailbox.h"
#include "packer.h"
#include "path.h"
#include "presence.h"
#include "pump.h"
#include "seal.h"
#include "shun.h"
#include "store.h"
#include "wire.h"

/* One request of a group commit: received, authenticated and decoded once (broker_frame), then
 * applied; applied a second time only when the batch is replayed (broker_batch). A frame holds
 * one request, or a Batch of several: its items take the slots after the frame's own, and
 * their `rid` points at the carrying slot's routing id. */
typedef struct {
    bsock_msg_t m;
    bool open;                       /* `m` holds a received message */
    const zmq_msg_t *rid;            /* routing id of the sender: &m.rid or the carrier's */
    pbuf_t *pb;                      /* the decoded request; NULL when the frame was refused */
    char agency[WIRE_MAX_IDENT + 1]; /* its sender */
} broker_slot_t;

/* Slots: a group commit stops reading at BROKER_BATCH requests, and the last frame read may be
 * a Batch of up to WIRE_MAX_BATCH. */
#define BROKER_SLOTS (BROKER_BATCH + WIRE_MAX_BATCH)

struct broker {
    broker_config_t cfg;
    char dir[PATH_MAX_LEN];
    char certs_dir[PATH_MAX_LEN];
    char endpoint[BROKER_MAX_ENDPOINT];
    int lock_fd;
    zcert_t *cert;
    uint8_t sign_pk[SEAL_KEY_LEN], sign_sk[SEAL_SIGN_SECRET_LEN]; /* vouches for agency keys */
    store_t *store;
    agencies_t *agencies;
    presence_t *presence;
    mailbox_t *mailbox;
    batch_t *batch;
    packer_t *packer;       /* the batch's replies packed per peer that takes Batch frames */
    pump_pack_t *pump_pack; /* room for packing deliveries (pump.h) */
    broker_slot_t *slots;   /* BROKER_SLOTS requests of the group commit under way */
    shun_t *shun;           /* agencies told Bye: their frames are dropped unanswered */
    zactor_t *auth;
    zsock_t *router;
    admin_t *admin;
    counters_t counters;
    uint64_t refreshed_mono;   /* when the agency table was last checked against LMDB */
    uint64_t full_logged_mono; /* when "storage full" was last logged for one request */
};

/* Queues a refusal of the request `ref` (may be empty) for routing id `rid`; counts it. */
void broker_refuse(broker_t *self,
                   const zmq_msg_t *rid,
                   const ProtobufCBinaryData *ref,
                   Refnet__Status status,
                   const char *why);
/* The enrolled agency of CURVE key `key` (Z85), checking the table against LMDB when it does
 * not know the key (at most every BROKER_RETRY_MS); NULL when none. */
const agencies_entry_t *broker_sender(broker_t *self, const char *key, uint64_t mono);

/* intake.c: receives frames until BROKER_BATCH requests are in the slots (a Batch frame's
 * items count one each), authenticating and decoding each; refused frames are answered through
 * the batch and take no slot. Returns how many slots it filled. */
size_t broker_receive(broker_t *self, uint64_t now_ms, uint64_t mono);
/* intake.c: frees the decoded requests and received messages of the first `n` slots. */
void broker_release(broker_t *self, size_t n);

#endif
