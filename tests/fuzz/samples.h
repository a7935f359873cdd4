/* samples: one valid Envelope of every body type, for tests and the fuzz seed corpus.
 *
 * A samples_t holds a whole Envelope and every sub-message it points to, so a test can build a
 * valid message, break exactly one field and check that the decoder names it. The corpus
 * generator (make_corpus.c) encodes every sample as a seed, so the fuzzers start from messages
 * that pass every gate of wire_decode().
 *
 * A samples_t points into itself: initialise it in place and do not copy or move it. It owns
 * no heap memory. Single-threaded use per samples_t. */
#ifndef REFNET_SAMPLES_H
#define REFNET_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "records.pb-c.h"
#include "refnet.pb-c.h"

typedef enum {
    SAMPLES_HELLO = 0,
    SAMPLES_WELCOME,
    SAMPLES_PING,
    SAMPLES_PONG,
    SAMPLES_PUBLISH,
    SAMPLES_AVAILABILITY,
    SAMPLES_WITHDRAW,
    SAMPLES_SYNC,
    SAMPLES_UPDATE,
    SAMPLES_UPDATE_WITHDRAWN,
    SAMPLES_SYNC_DONE,
    SAMPLES_MAIL_HANDOFF,
    SAMPLES_MAIL_STATUS,
    SAMPLES_MAIL_RECEIPT,
    SAMPLES_ACK,
    SAMPLES_RESULT,
    SAMPLES_ADMIN_REQUEST,
    SAMPLES_ADMIN_REPLY,
    SAMPLES_BYE,
    SAMPLES_AGENCY_KEY,
    SAMPLES_AGENCY_KEY_REVOKED,
    SAMPLES_KEY_ROTATE,
    SAMPLES_MAIL_SEALED,        /* REQUESTED with a sealed packet (seal_version 1) */
    SAMPLES_MAIL_SEALED_REASON, /* a later step with a sealed_reason */
    SAMPLES_MAIL_REVOCATION,
    SAMPLES_MAIL_REVOCATION_ACK,
    SAMPLES_SNAPSHOT_BEGIN, /* snapshot replication and the directory digest */
    SAMPLES_SNAPSHOT_CHUNK,
    SAMPLES_SNAPSHOT_END,
    SAMPLES_DIGEST_REQUEST,
    SAMPLES_DIGEST,
    SAMPLES_MAIL_RECEIPTS, /* several receipts in one mail */
    SAMPLES_BATCH,         /* a handoff mail and an ack, encoded, in one Batch frame */
    SAMPLES_COUNT
} samples_kind_t;

/* Fixed values the samples use, so tests can compare decoded fields against them. */
#define SAMPLES_HANDOFF_ID "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b"
#define SAMPLES_CONSENT_ID "0b9e4c1d-2a3f-4b5c-9d6e-8f7a6b5c4d3e"
#define SAMPLES_SERVICE_ID "harbor-shelter-beds"
#define SAMPLES_AGENCY     "harbor"
#define SAMPLES_PEER       "peerlink"
#define SAMPLES_TIME_MS    1790000000000ULL /* 2026-09-21, inside the protocol's time window */

typedef struct {
    Refnet__Envelope env;
    uint8_t msg_id[16];
    uint8_t ref_id[16];
    uint8_t ack_ids[3][16];
    ProtobufCBinaryData ack_bins[3];

    Refnet__Hello hello;
    Refnet__Welcome welcome;
    Refnet__Ping ping;
    Refnet__Pong pong;
    Refnet__DirPublish publish;
    Refnet__DirAvailability availability;
    Refnet__DirWithdraw withdraw;
    Refnet__DirSync sync;
    Refnet__DirUpdate update;
    Refnet__DirSyncDone sync_done;
    Refnet__Mail mail;
    Refnet__Ack ack;
    Refnet__Result result;
    Refnet__AdminRequest admin_request;
    Refnet__AdminReply admin_reply;

    Refnet__Service service;
    Refnet__Capacity capacity;
    Refnet__Intake intake;
    char *taxonomy[2];
    char *languages[2];

    Refnet__HandoffUpdate handoff;
    Refnet__Category categories[3];
    Refnet__PersonPacket person;
    uint8_t packet[1024]; /* the encoded person, referenced by handoff.person_packet */
    Refnet__Receipt receipt;
    Refnet__Receipts receipts;
    Refnet__Receipt receipt_items[2];
    Refnet__Receipt *receipt_ptrs[2];

    Refnet__Bye bye;
    Refnet__AgencyKey agency_key;
    Refnet__KeyRotate key_rotate;
    Refnet__Revocation revocation;
    Refnet__RevocationAck revocation_ack;
    char *handoff_ids[2];
    uint8_t box_key[32];
    uint8_t signature[64];
    uint8_t sealed[120]; /* stand-in ciphertext: nonce, sealed bytes, MAC */

    Refnet__AgencyInfo agency_info[2];
    Refnet__AgencyInfo *agency_ptrs[2];
    Refnet__FlowRow flow_row;
    Refnet__FlowRow *flow_ptrs[1];

    Refnet__DirSnapshotBegin snapshot_begin;
    Refnet__DirSnapshotChunk snapshot_chunk;
    Refnet__DirUpdate *chunk_ptrs[1];
    Refnet__DirSnapshotEnd snapshot_end;
    Refnet__DirDigestRequest digest_request;
    Refnet__DirDigest digest;
    uint8_t digest_bytes[32];

    Refnet__Batch batch;
    ProtobufCBinaryData batch_bins[2];
    uint8_t batch_items[2][2048]; /* the encoded items, referenced by batch_bins */
} samples_t;

/* Fills `s` with a valid Envelope of the given kind (version 1, a fixed msg_id). The Envelope
 * is &s->env. */
void samples_init(samples_t *s, samples_kind_t kind);
/* Re-encodes s->person into s->packet and points s->handoff.person_packet at it; call after
 * changing s->person. */
void samples_pack_person(samples_t *s);
/* Short name of a kind, for file names: "hello", "mail_handoff"... */
const char *samples_name(samples_kind_t kind);

#endif
