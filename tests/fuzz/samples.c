/* samples: valid Envelopes of every body type (see samples.h).
 *
 * The data is made up but realistic: a shelter ("harbor") with beds, a peer-run organisation
 * ("peerlink") sending it a warm handoff. Person data here is fictional. */
#include "samples.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const SAMPLES_NAMES[SAMPLES_COUNT] = {
    [SAMPLES_HELLO] = "hello",
    [SAMPLES_WELCOME] = "welcome",
    [SAMPLES_PING] = "ping",
    [SAMPLES_PONG] = "pong",
    [SAMPLES_PUBLISH] = "publish",
    [SAMPLES_AVAILABILITY] = "availability",
    [SAMPLES_WITHDRAW] = "withdraw",
    [SAMPLES_SYNC] = "sync",
    [SAMPLES_UPDATE] = "update",
    [SAMPLES_UPDATE_WITHDRAWN] = "update_withdrawn",
    [SAMPLES_SYNC_DONE] = "sync_done",
    [SAMPLES_MAIL_HANDOFF] = "mail_handoff",
    [SAMPLES_MAIL_STATUS] = "mail_status",
    [SAMPLES_MAIL_RECEIPT] = "mail_receipt",
    [SAMPLES_ACK] = "ack",
    [SAMPLES_RESULT] = "result",
    [SAMPLES_ADMIN_REQUEST] = "admin_request",
    [SAMPLES_ADMIN_REPLY] = "admin_reply",
    [SAMPLES_BYE] = "bye",
    [SAMPLES_AGENCY_KEY] = "agency_key",
    [SAMPLES_AGENCY_KEY_REVOKED] = "agency_key_revoked",
    [SAMPLES_KEY_ROTATE] = "key_rotate",
    [SAMPLES_MAIL_SEALED] = "mail_sealed",
    [SAMPLES_MAIL_SEALED_REASON] = "mail_sealed_reason",
    [SAMPLES_MAIL_REVOCATION] = "mail_revocation",
    [SAMPLES_MAIL_REVOCATION_ACK] = "mail_revocation_ack",
    [SAMPLES_SNAPSHOT_BEGIN] = "snapshot_begin",
    [SAMPLES_SNAPSHOT_CHUNK] = "snapshot_chunk",
    [SAMPLES_SNAPSHOT_END] = "snapshot_end",
    [SAMPLES_DIGEST_REQUEST] = "digest_request",
    [SAMPLES_DIGEST] = "digest",
    [SAMPLES_MAIL_RECEIPTS] = "mail_receipts",
    [SAMPLES_BATCH] = "batch",
};

const char *
samples_name(samples_kind_t kind)
{
    if ((int)kind < 0 || kind >= SAMPLES_COUNT)
        return "unknown";
    return SAMPLES_NAMES[kind];
}

static void
samples_service(samples_t *s)
{
    refnet__capacity__init(&s->capacity);
    s->capacity.available = 3;
    s->capacity.maximum = 24;
    s->capacity.unit = (char *)"bed";
    s->capacity.updated_at_ms = SAMPLES_TIME_MS;

    refnet__intake__init(&s->intake);
    s->intake.accepting = 1;
    s->intake.waitlist = 2;
    s->intake.status = REFNET__CAPACITY_STATUS__CAPACITY_STATUS_CAPACITY;

    s->taxonomy[0] = (char *)"BH-1800.8500";
    s->taxonomy[1] = (char *)"shelter";
    s->languages[0] = (char *)"en";
    s->languages[1] = (char *)"es";

    refnet__service__init(&s->service);
    s->service.id = (char *)SAMPLES_SERVICE_ID;
    s->service.agency = (char *)SAMPLES_AGENCY;
    s->service.name = (char *)"Harbor House emergency beds";
    s->service.description = (char *)"Overnight shelter for adults; meals included. Café open.";
    s->service.n_taxonomy = 2;
    s->service.taxonomy = s->taxonomy;
    s->service.n_languages = 2;
    s->service.languages = s->languages;
    s->service.has_location = 1;
    s->service.lat = 47.6062;
    s->service.lon = -122.3321;
    s->service.capacity = &s->capacity;
    s->service.intake = &s->intake;
    s->service.updated_at_ms = SAMPLES_TIME_MS;
}

void
samples_pack_person(samples_t *s)
{
    size_t len = refnet__person_packet__get_packed_size(&s->person);
    if (len > sizeof s->packet)
        len = 0; /* a test that grows the person past the buffer gets an empty packet */
    else
        refnet__person_packet__pack(&s->person, s->packet);
    s->handoff.person_packet.data = s->packet;
    s->handoff.person_packet.len = len;
}

static void
samples_handoff(samples_t *s, bool requested)
{
    refnet__person_packet__init(&s->person);
    s->person.name = (char *)"Alex Example";
    s->person.contact = (char *)"555-0100, evenings";
    s->person.preferred_contact = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE;
    s->person.language = (char *)"en";
    s->person.own_words = (char *)"I want a safe place to sleep and help finding work.";

    s->categories[0] = REFNET__CATEGORY__CATEGORY_CONTACT;
    s->categories[1] = REFNET__CATEGORY__CATEGORY_OWN_WORDS;
    s->categories[2] = REFNET__CATEGORY__CATEGORY_NEEDS;

    refnet__handoff_update__init(&s->handoff);
    s->handoff.handoff_id = (char *)SAMPLES_HANDOFF_ID;
    s->handoff.at_ms = SAMPLES_TIME_MS;
    if (requested) {
        s->handoff.service_id = (char *)SAMPLES_SERVICE_ID;
        s->handoff.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
        s->handoff.mode = REFNET__CONTACT_MODE__CONTACT_MODE_IN_PERSON;
        s->handoff.accompany = 1;
        s->handoff.proposed_at_ms = SAMPLES_TIME_MS + 86400000ULL;
        s->handoff.n_categories = 3;
        s->handoff.categories = s->categories;
        s->handoff.consent_id = (char *)SAMPLES_CONSENT_ID;
        samples_pack_person(s);
    } else {
        s->handoff.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD;
        s->handoff.milestone = REFNET__MILESTONE__MILESTONE_FIRST_CONTACT_CONFIRMED;
        s->handoff.reason = (char *)"waitlist: a bed frees up on Friday";
        s->handoff.outcome = REFNET__OUTCOME__OUTCOME_UNSPECIFIED;
    }
}

static void
samples_admin_reply(samples_t *s)
{
    refnet__admin_reply__init(&s->admin_reply);
    for (size_t i = 0; i < 2; i++) {
        refnet__agency_info__init(&s->agency_info[i]);
        s->agency_ptrs[i] = &s->agency_info[i];
    }
    s->agency_info[0].id = (char *)SAMPLES_AGENCY;
    s->agency_info[0].name = (char *)"Harbor House";
    s->agency_info[0].online = 1;
    s->agency_info[0].last_seen_ms = SAMPLES_TIME_MS;
    s->agency_info[0].queued = 4;
    s->agency_info[1].id = (char *)SAMPLES_PEER;
    s->agency_info[1].name = (char *)"PeerLink Recovery";
    refnet__flow_row__init(&s->flow_row);
    s->flow_row.from = (char *)SAMPLES_PEER;
    s->flow_row.to = (char *)SAMPLES_AGENCY;
    s->flow_row.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED;
    s->flow_row.count = 7;
    s->flow_ptrs[0] = &s->flow_row;
    s->admin_reply.n_agencies = 2;
    s->admin_reply.agencies = s->agency_ptrs;
    s->admin_reply.n_flow = 1;
    s->admin_reply.flow = s->flow_ptrs;
    s->admin_reply.handoffs = 9;
    s->admin_reply.accepted_samples = 7;
    s->admin_reply.median_accept_ms = 3600000;
    s->admin_reply.median_first_contact_ms = 7200000;
}

/* Directory bodies. */
static void
samples_directory(samples_t *s, samples_kind_t kind)
{
    Refnet__Envelope *e = &s->env;
    switch (kind) {
    case SAMPLES_PUBLISH:
        refnet__dir_publish__init(&s->publish);
        s->service.agency = (char *)"";
        s->publish.service = &s->service;
        e->body_case = REFNET__ENVELOPE__BODY_PUBLISH;
        e->publish = &s->publish;
        break;
    case SAMPLES_AVAILABILITY:
        refnet__dir_availability__init(&s->availability);
        s->availability.service_id = (char *)SAMPLES_SERVICE_ID;
        s->availability.capacity = &s->capacity;
        s->availability.intake = &s->intake;
        e->body_case = REFNET__ENVELOPE__BODY_AVAILABILITY;
        e->availability = &s->availability;
        break;
    case SAMPLES_WITHDRAW:
        refnet__dir_withdraw__init(&s->withdraw);
        s->withdraw.service_id = (char *)SAMPLES_SERVICE_ID;
        e->body_case = REFNET__ENVELOPE__BODY_WITHDRAW;
        e->withdraw = &s->withdraw;
        break;
    case SAMPLES_SYNC:
        refnet__dir_sync__init(&s->sync);
        s->sync.since_seq = 41;
        e->body_case = REFNET__ENVELOPE__BODY_SYNC;
        e->sync = &s->sync;
        break;
    case SAMPLES_UPDATE:
    case SAMPLES_UPDATE_WITHDRAWN:
        refnet__dir_update__init(&s->update);
        s->update.seq = 42;
        s->update.service_id = (char *)SAMPLES_SERVICE_ID;
        s->update.agency = (char *)SAMPLES_AGENCY;
        s->update.withdrawn = kind == SAMPLES_UPDATE_WITHDRAWN;
        s->update.service = kind == SAMPLES_UPDATE ? &s->service : NULL;
        e->body_case = REFNET__ENVELOPE__BODY_UPDATE;
        e->update = &s->update;
        break;
    case SAMPLES_SYNC_DONE:
    default:
        refnet__dir_sync_done__init(&s->sync_done);
        s->sync_done.seq = 42;
        e->body_case = REFNET__ENVELOPE__BODY_SYNC_DONE;
        e->sync_done = &s->sync_done;
        break;
    }
}

static void
samples_mail(samples_t *s, samples_kind_t kind)
{
    refnet__mail__init(&s->mail);
    s->mail.to = (char *)SAMPLES_AGENCY;
    if (kind == SAMPLES_MAIL_RECEIPT) {
        refnet__receipt__init(&s->receipt);
        memset(s->ref_id, 0x5a, sizeof s->ref_id);
        s->receipt.msg_id.data = s->ref_id;
        s->receipt.msg_id.len = sizeof s->ref_id;
        s->receipt.recipient = (char *)SAMPLES_PEER;
        s->receipt.delivered_at_ms = SAMPLES_TIME_MS;
        s->receipt.handoff_id = (char *)SAMPLES_HANDOFF_ID;
        s->mail.to = (char *)SAMPLES_AGENCY;
        s->mail.stored_at_ms = SAMPLES_TIME_MS;
        s->mail.content_case = REFNET__MAIL__CONTENT_RECEIPT;
        s->mail.receipt = &s->receipt;
    } else if (kind == SAMPLES_MAIL_RECEIPTS) {
        refnet__receipts__init(&s->receipts);
        for (size_t i = 0; i < 2; i++) {
            Refnet__Receipt *r = &s->receipt_items[i];
            refnet__receipt__init(r);
            memset(s->ack_ids[i], 0x61 + (int)i, sizeof s->ack_ids[i]);
            r->msg_id.data = s->ack_ids[i];
            r->msg_id.len = sizeof s->ack_ids[i];
            r->recipient = (char *)SAMPLES_PEER;
            r->delivered_at_ms = SAMPLES_TIME_MS;
            r->handoff_id = (char *)SAMPLES_HANDOFF_ID;
            s->receipt_ptrs[i] = r;
        }
        s->receipts.n_receipts = 2;
        s->receipts.receipts = s->receipt_ptrs;
        s->mail.stored_at_ms = SAMPLES_TIME_MS;
        s->mail.content_case = REFNET__MAIL__CONTENT_RECEIPTS;
        s->mail.receipts = &s->receipts;
    } else {
        samples_handoff(s, kind == SAMPLES_MAIL_HANDOFF);
        s->mail.ttl_ms = 7ULL * 24 * 3600 * 1000;
        s->mail.content_case = REFNET__MAIL__CONTENT_HANDOFF;
        s->mail.handoff = &s->handoff;
    }
    s->env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    s->env.mail = &s->mail;
}

/* Acknowledgement, result and admin bodies. */
static void
samples_replies(samples_t *s, samples_kind_t kind)
{
    Refnet__Envelope *e = &s->env;
    switch (kind) {
    case SAMPLES_ACK:
        refnet__ack__init(&s->ack);
        for (size_t i = 0; i < 3; i++) {
            memset(s->ack_ids[i], (int)(0x10 + i), sizeof s->ack_ids[i]);
            s->ack_bins[i].data = s->ack_ids[i];
            s->ack_bins[i].len = sizeof s->ack_ids[i];
        }
        s->ack.n_msg_ids = 3;
        s->ack.msg_ids = s->ack_bins;
        e->body_case = REFNET__ENVELOPE__BODY_ACK;
        e->ack = &s->ack;
        break;
    case SAMPLES_RESULT:
        refnet__result__init(&s->result);
        memset(s->ref_id, 0xa5, sizeof s->ref_id);
        s->result.ref.data = s->ref_id;
        s->result.ref.len = sizeof s->ref_id;
        s->result.status = REFNET__STATUS__STATUS_FORBIDDEN;
        s->result.detail = (char *)"service harbor-shelter-beds belongs to another agency";
        s->result.seq = 0;
        e->body_case = REFNET__ENVELOPE__BODY_RESULT;
        e->result = &s->result;
        break;
    case SAMPLES_ADMIN_REQUEST:
        refnet__admin_request__init(&s->admin_request);
        s->admin_request.op = REFNET__ADMIN_OP__ADMIN_OP_FLOW;
        e->body_case = REFNET__ENVELOPE__BODY_ADMIN_REQUEST;
        e->admin_request = &s->admin_request;
        break;
    case SAMPLES_ADMIN_REPLY:
    default:
        samples_admin_reply(s);
        e->body_case = REFNET__ENVELOPE__BODY_ADMIN_REPLY;
        e->admin_reply = &s->admin_reply;
        break;
    }
}

/* Session bodies. */
static void
samples_session(samples_t *s, samples_kind_t kind)
{
    Refnet__Envelope *e = &s->env;
    switch (kind) {
    case SAMPLES_HELLO:
        refnet__hello__init(&s->hello);
        s->hello.dir_seq = 17;
        s->hello.software = (char *)"refnet-node 0.1";
        e->body_case = REFNET__ENVELOPE__BODY_HELLO;
        e->hello = &s->hello;
        break;
    case SAMPLES_WELCOME:
        refnet__welcome__init(&s->welcome);
        s->welcome.agency_id = (char *)SAMPLES_AGENCY;
        s->welcome.agency_name = (char *)"Harbor House";
        s->welcome.dir_seq = 42;
        s->welcome.heartbeat_ms = 1000;
        e->body_case = REFNET__ENVELOPE__BODY_WELCOME;
        e->welcome = &s->welcome;
        break;
    case SAMPLES_PING:
        refnet__ping__init(&s->ping);
        e->body_case = REFNET__ENVELOPE__BODY_PING;
        e->ping = &s->ping;
        break;
    case SAMPLES_PONG:
    default:
        refnet__pong__init(&s->pong);
        s->pong.dir_seq = 42;
        e->body_case = REFNET__ENVELOPE__BODY_PONG;
        e->pong = &s->pong;
        break;
    }
}

/* Fills the stand-in key, signature and ciphertext bytes: to the decoder only their sizes
 * matter. */
static void
samples_bytes(samples_t *s)
{
    for (size_t i = 0; i < sizeof s->box_key; i++)
        s->box_key[i] = (uint8_t)(0x40 + i);
    for (size_t i = 0; i < sizeof s->signature; i++)
        s->signature[i] = (uint8_t)(0x80 + i);
    for (size_t i = 0; i < sizeof s->sealed; i++)
        s->sealed[i] = (uint8_t)(i * 29 + 11);
}

/* Sealed handoff steps, consent revocation and its acknowledgement. */
static void
samples_sealed_mail(samples_t *s, samples_kind_t kind)
{
    samples_mail(s, kind == SAMPLES_MAIL_SEALED ? SAMPLES_MAIL_HANDOFF : SAMPLES_MAIL_STATUS);
    s->handoff_ids[0] = (char *)SAMPLES_HANDOFF_ID;
    s->handoff_ids[1] = (char *)"7a2d3b0f-4c5e-4f60-9b7c-8d9e0f1a2b3c";
    switch (kind) {
    case SAMPLES_MAIL_SEALED:
        s->handoff.person_packet.data = s->sealed;
        s->handoff.person_packet.len = sizeof s->sealed;
        s->handoff.seal_version = 1;
        break;
    case SAMPLES_MAIL_SEALED_REASON:
        s->handoff.reason = (char *)"";
        s->handoff.sealed_reason.data = s->sealed;
        s->handoff.sealed_reason.len = 64;
        break;
    case SAMPLES_MAIL_REVOCATION:
        refnet__revocation__init(&s->revocation);
        s->revocation.consent_id = (char *)SAMPLES_CONSENT_ID;
        s->revocation.n_handoff_ids = 2;
        s->revocation.handoff_ids = s->handoff_ids;
        s->revocation.revoked_at_ms = SAMPLES_TIME_MS;
        s->mail.content_case = REFNET__MAIL__CONTENT_REVOCATION;
        s->mail.revocation = &s->revocation;
        break;
    default:
        refnet__revocation_ack__init(&s->revocation_ack);
        s->revocation_ack.consent_id = (char *)SAMPLES_CONSENT_ID;
        s->revocation_ack.n_handoff_ids = 2;
        s->revocation_ack.handoff_ids = s->handoff_ids;
        s->revocation_ack.restricted_at_ms = SAMPLES_TIME_MS + 1000;
        s->mail.content_case = REFNET__MAIL__CONTENT_REVOCATION_ACK;
        s->mail.revocation_ack = &s->revocation_ack;
        break;
    }
}

/* Bye and the agency keys the broker vouches for. */
static void
samples_keys(samples_t *s, samples_kind_t kind)
{
    Refnet__Envelope *e = &s->env;
    switch (kind) {
    case SAMPLES_BYE:
        refnet__bye__init(&s->bye);
        s->bye.reason = (char *)"too many bad frames (over 100 in 60 s); not served for 120 s";
        s->bye.retry_after_ms = 120000;
        e->body_case = REFNET__ENVELOPE__BODY_BYE;
        e->bye = &s->bye;
        break;
    case SAMPLES_AGENCY_KEY:
    case SAMPLES_AGENCY_KEY_REVOKED:
        refnet__agency_key__init(&s->agency_key);
        s->agency_key.agency_id = (char *)SAMPLES_PEER;
        s->agency_key.box_public_key.data = s->box_key;
        s->agency_key.box_public_key.len = sizeof s->box_key;
        s->agency_key.issued_at_ms = SAMPLES_TIME_MS;
        s->agency_key.signature.data = s->signature;
        s->agency_key.signature.len = sizeof s->signature;
        if (kind == SAMPLES_AGENCY_KEY_REVOKED) {
            s->agency_key.revoked = 1;
            s->agency_key.revoked_at_ms = SAMPLES_TIME_MS + 5000;
        }
        e->body_case = REFNET__ENVELOPE__BODY_AGENCY_KEY;
        e->agency_key = &s->agency_key;
        break;
    default:
        refnet__key_rotate__init(&s->key_rotate);
        s->key_rotate.curve_public_key = (char *)"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
        s->key_rotate.box_public_key.data = s->box_key;
        s->key_rotate.box_public_key.len = sizeof s->box_key;
        e->body_case = REFNET__ENVELOPE__BODY_KEY_ROTATE;
        e->key_rotate = &s->key_rotate;
        break;
    }
}

/* Snapshot replication: a chunk holding the sample service (as a live update), its markers,
 * and the digest exchange. */
static void
samples_replication(samples_t *s, samples_kind_t kind)
{
    Refnet__Envelope *e = &s->env;
    switch (kind) {
    case SAMPLES_SNAPSHOT_BEGIN:
        refnet__dir_snapshot_begin__init(&s->snapshot_begin);
        s->snapshot_begin.seq = 42;
        s->snapshot_begin.horizon = 7;
        s->snapshot_begin.services = 1;
        e->body_case = REFNET__ENVELOPE__BODY_SNAPSHOT_BEGIN;
        e->snapshot_begin = &s->snapshot_begin;
        break;
    case SAMPLES_SNAPSHOT_CHUNK:
        samples_directory(s, SAMPLES_UPDATE);
        refnet__dir_snapshot_chunk__init(&s->snapshot_chunk);
        s->chunk_ptrs[0] = &s->update;
        s->snapshot_chunk.seq = 42;
        s->snapshot_chunk.after = (char *)"harbor-a";
        s->snapshot_chunk.updates = s->chunk_ptrs;
        s->snapshot_chunk.n_updates = 1;
        e->body_case = REFNET__ENVELOPE__BODY_SNAPSHOT_CHUNK;
        e->snapshot_chunk = &s->snapshot_chunk;
        break;
    case SAMPLES_SNAPSHOT_END:
        refnet__dir_snapshot_end__init(&s->snapshot_end);
        s->snapshot_end.seq = 42;
        s->snapshot_end.after = (char *)SAMPLES_SERVICE_ID;
        e->body_case = REFNET__ENVELOPE__BODY_SNAPSHOT_END;
        e->snapshot_end = &s->snapshot_end;
        break;
    case SAMPLES_DIGEST_REQUEST:
        refnet__dir_digest_request__init(&s->digest_request);
        e->body_case = REFNET__ENVELOPE__BODY_DIGEST_REQUEST;
        e->digest_request = &s->digest_request;
        break;
    default:
        refnet__dir_digest__init(&s->digest);
        for (size_t i = 0; i < sizeof s->digest_bytes; i++)
            s->digest_bytes[i] = (uint8_t)(i * 7 + 1);
        s->digest.seq = 42;
        s->digest.services = 12;
        s->digest.digest.data = s->digest_bytes;
        s->digest.digest.len = sizeof s->digest_bytes;
        memset(s->ref_id, 0x3c, sizeof s->ref_id);
        s->digest.ref.data = s->ref_id;
        s->digest.ref.len = sizeof s->ref_id;
        s->digest.horizon = 7;
        e->body_case = REFNET__ENVELOPE__BODY_DIGEST;
        e->digest = &s->digest;
        break;
    }
}

void samples_init(samples_t *s, samples_kind_t kind);

/* A Batch of two encoded envelopes: a handoff mail and an ack. */
static void
samples_batch(samples_t *s)
{
    static const samples_kind_t kinds[2] = { SAMPLES_MAIL_HANDOFF, SAMPLES_ACK };
    samples_t *item = calloc(1, sizeof *item);
    if (!item)
        abort();
    refnet__batch__init(&s->batch);
    for (size_t i = 0; i < 2; i++) {
        samples_init(item, kinds[i]);
        item->msg_id[0] = (uint8_t)(0xb0 + i); /* each item has its own msg_id */
        size_t len = refnet__envelope__get_packed_size(&item->env);
        if (len > sizeof s->batch_items[i])
            abort();
        s->batch_bins[i].len = refnet__envelope__pack(&item->env, s->batch_items[i]);
        s->batch_bins[i].data = s->batch_items[i];
    }
    free(item);
    s->batch.n_envelopes = 2;
    s->batch.envelopes = s->batch_bins;
    s->env.body_case = REFNET__ENVELOPE__BODY_BATCH;
    s->env.batch = &s->batch;
}

void
samples_init(samples_t *s, samples_kind_t kind)
{
    memset(s, 0, sizeof *s);
    refnet__envelope__init(&s->env);
    for (size_t i = 0; i < sizeof s->msg_id; i++)
        s->msg_id[i] = (uint8_t)(i * 17 + 3);
    s->env.version = 1;
    s->env.msg_id.data = s->msg_id;
    s->env.msg_id.len = sizeof s->msg_id;
    s->env.sent_at_ms = SAMPLES_TIME_MS;
    samples_service(s);
    samples_bytes(s);
    switch (kind) {
    case SAMPLES_PUBLISH:
    case SAMPLES_AVAILABILITY:
    case SAMPLES_WITHDRAW:
    case SAMPLES_SYNC:
    case SAMPLES_UPDATE:
    case SAMPLES_UPDATE_WITHDRAWN:
    case SAMPLES_SYNC_DONE:
        samples_directory(s, kind);
        break;
    case SAMPLES_MAIL_HANDOFF:
    case SAMPLES_MAIL_STATUS:
    case SAMPLES_MAIL_RECEIPT:
    case SAMPLES_MAIL_RECEIPTS:
        samples_mail(s, kind);
        break;
    case SAMPLES_HELLO:
    case SAMPLES_WELCOME:
    case SAMPLES_PING:
    case SAMPLES_PONG:
        samples_session(s, kind);
        break;
    case SAMPLES_BYE:
    case SAMPLES_AGENCY_KEY:
    case SAMPLES_AGENCY_KEY_REVOKED:
    case SAMPLES_KEY_ROTATE:
        samples_keys(s, kind);
        break;
    case SAMPLES_MAIL_SEALED:
    case SAMPLES_MAIL_SEALED_REASON:
    case SAMPLES_MAIL_REVOCATION:
    case SAMPLES_MAIL_REVOCATION_ACK:
        samples_sealed_mail(s, kind);
        break;
    case SAMPLES_SNAPSHOT_BEGIN:
    case SAMPLES_SNAPSHOT_CHUNK:
    case SAMPLES_SNAPSHOT_END:
    case SAMPLES_DIGEST_REQUEST:
    case SAMPLES_DIGEST:
        samples_replication(s, kind);
        break;
    case SAMPLES_BATCH:
        samples_batch(s);
        break;
    default:
        samples_replies(s, kind);
        break;
    }
}
