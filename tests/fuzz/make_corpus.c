/* make_corpus: writes the fuzzers' seed corpus from samples.h.
 *
 *   make_corpus OUTDIR
 *
 * writes OUTDIR/fuzz_envelope/<body>.bin, one valid encoded Envelope per sample, and
 * OUTDIR/fuzz_records/<n>_<record>.bin, one encoded record of each records.proto type preceded
 * by the index byte fuzz_records.c uses to pick the type. The output is deterministic, so the
 * committed corpus under tests/fuzz/corpus/ only changes when the samples or the schema do:
 *
 *   BUILD/tests/make_corpus tests/fuzz/corpus */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "records.pb-c.h"
#include "samples.h"
#include "wire.h"

#define CORPUS_PATH_LEN 4096

static int
corpus_write(const char *dir,
             const char *name,
             uint8_t prefix,
             bool with_prefix,
             const uint8_t *data,
             size_t len)
{
    char path[CORPUS_PATH_LEN];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "make_corpus: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    int bad = 0;
    if (with_prefix && fwrite(&prefix, 1, 1, f) != 1)
        bad = 1;
    if (len && fwrite(data, 1, len, f) != len)
        bad = 1;
    if (fclose(f) != 0)
        bad = 1;
    return bad;
}

static int
corpus_mkdir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "make_corpus: cannot create %s: %s\n", path, strerror(errno));
    return 1;
}

static int
corpus_envelopes(const char *dir)
{
    int bad = 0;
    for (int k = 0; k < SAMPLES_COUNT; k++) {
        samples_t s;
        uint8_t *buf = NULL;
        size_t len = 0;
        samples_init(&s, (samples_kind_t)k);
        if (wire_encode(&s.env, &buf, &len) != 0)
            return 1;
        bad |= corpus_write(dir, samples_name((samples_kind_t)k), 0, false, buf, len);
        free(buf);
    }
    return bad;
}

/* Writes one record seed: the type's index byte, then the packed record. */
static int
corpus_record(const char *dir, uint8_t index, const char *name, const ProtobufCMessage *msg)
{
    char file[64];
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return 1;
    protobuf_c_message_pack(msg, buf);
    snprintf(file, sizeof file, "%u_%s", (unsigned)index, name);
    int bad = corpus_write(dir, file, index, true, buf, len);
    free(buf);
    return bad;
}

static int
corpus_broker_records(const char *dir, samples_t *s, const uint8_t *mail, size_t mail_len)
{
    Refnet__AgencyRecord agency = REFNET__AGENCY_RECORD__INIT;
    agency.id = (char *)SAMPLES_AGENCY;
    agency.name = (char *)"Harbor House";
    agency.public_key = (char *)"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    agency.enrolled_at_ms = SAMPLES_TIME_MS;
    agency.last_seen_ms = SAMPLES_TIME_MS + 1000;

    Refnet__DirRecord dir_rec = REFNET__DIR_RECORD__INIT;
    dir_rec.seq = 42;
    dir_rec.agency = (char *)SAMPLES_AGENCY;
    dir_rec.service = &s->service;

    Refnet__HandoffMeta meta = REFNET__HANDOFF_META__INIT;
    meta.id = (char *)SAMPLES_HANDOFF_ID;
    meta.sender = (char *)SAMPLES_PEER;
    meta.receiver = (char *)SAMPLES_AGENCY;
    meta.service_id = (char *)SAMPLES_SERVICE_ID;
    meta.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED;
    meta.requested_at_ms = SAMPLES_TIME_MS;
    meta.accepted_at_ms = SAMPLES_TIME_MS + 3600000;
    meta.updated_at_ms = meta.accepted_at_ms;

    Refnet__QueuedMail queued = REFNET__QUEUED_MAIL__INIT;
    queued.envelope.data = (uint8_t *)mail;
    queued.envelope.len = mail_len;
    queued.sender = (char *)SAMPLES_PEER;
    queued.stored_at_ms = SAMPLES_TIME_MS;
    queued.expires_at_ms = SAMPLES_TIME_MS + 7ULL * 86400000;
    queued.handoff_id = (char *)SAMPLES_HANDOFF_ID;

    int bad = corpus_record(dir, 0, "agency", &agency.base);
    bad |= corpus_record(dir, 1, "dir", &dir_rec.base);
    dir_rec.withdrawn = 1;
    dir_rec.service = NULL;
    dir_rec.seq = 43;
    bad |= corpus_record(dir, 1, "dir_withdrawn", &dir_rec.base);
    bad |= corpus_record(dir, 2, "handoff_meta", &meta.base);
    bad |= corpus_record(dir, 3, "queued_mail", &queued.base);
    return bad;
}

/* A receiver's handoff record with its history, and one of its events alone. */
static int
corpus_handoff_records(const char *dir, samples_t *s)
{
    Refnet__HandoffEvent events[2] = { REFNET__HANDOFF_EVENT__INIT, REFNET__HANDOFF_EVENT__INIT };
    Refnet__HandoffEvent *event_ptrs[2] = { &events[0], &events[1] };
    events[0].at_ms = SAMPLES_TIME_MS;
    events[0].by = (char *)SAMPLES_PEER;
    events[0].status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    events[1].at_ms = SAMPLES_TIME_MS + 3600000;
    events[1].by = (char *)SAMPLES_AGENCY;
    events[1].status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD;
    events[1].reason = (char *)"waitlist";
    events[1].mode = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE;

    Refnet__HandoffRecord rec = REFNET__HANDOFF_RECORD__INIT;
    rec.id = (char *)SAMPLES_HANDOFF_ID;
    rec.role = REFNET__HANDOFF_ROLE__HANDOFF_ROLE_RECEIVER;
    rec.sender = (char *)SAMPLES_PEER;
    rec.receiver = (char *)SAMPLES_AGENCY;
    rec.service_id = (char *)SAMPLES_SERVICE_ID;
    rec.service_name = (char *)"Harbor House emergency beds";
    rec.person_packet = s->handoff.person_packet;
    rec.n_categories = 3;
    rec.categories = s->categories;
    rec.consent_id = (char *)SAMPLES_CONSENT_ID;
    rec.mode = REFNET__CONTACT_MODE__CONTACT_MODE_IN_PERSON;
    rec.accompany = 1;
    rec.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD;
    rec.reason = (char *)"waitlist";
    rec.n_events = 2;
    rec.events = event_ptrs;
    rec.created_at_ms = SAMPLES_TIME_MS;
    rec.updated_at_ms = SAMPLES_TIME_MS + 3600000;

    int bad = corpus_record(dir, 6, "handoff_event", &events[1].base);
    bad |= corpus_record(dir, 7, "handoff_record", &rec.base);
    return bad;
}

/* A consent's revocation notice, one entry of the audit chain, and the clear forms of sealed
 * data. */
static int
corpus_audit_records(const char *dir, samples_t *s)
{
    char *handoffs[1] = { (char *)SAMPLES_HANDOFF_ID };
    uint8_t prev[32], hash[32];
    memset(prev, 0x11, sizeof prev);
    memset(hash, 0x22, sizeof hash);

    Refnet__RevocationNotice notice = REFNET__REVOCATION_NOTICE__INIT;
    notice.recipient = (char *)SAMPLES_AGENCY;
    notice.n_handoff_ids = 1;
    notice.handoff_ids = handoffs;
    notice.msg_id.data = s->msg_id;
    notice.msg_id.len = sizeof s->msg_id;
    notice.sent_at_ms = SAMPLES_TIME_MS;
    notice.acked_at_ms = SAMPLES_TIME_MS + 2000;
    notice.restricted_at_ms = SAMPLES_TIME_MS + 1500;

    Refnet__AuditEntry entry = REFNET__AUDIT_ENTRY__INIT;
    entry.seq = 2;
    entry.at_ms = SAMPLES_TIME_MS;
    entry.event = REFNET__AUDIT_EVENT__AUDIT_EVENT_DISCLOSURE_SENT;
    entry.discloser = (char *)SAMPLES_PEER;
    entry.recipient = (char *)SAMPLES_AGENCY;
    entry.person_id = (char *)"3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a";
    entry.n_categories = 3;
    entry.categories = s->categories;
    entry.purpose = (char *)"referral";
    entry.consent_id = (char *)SAMPLES_CONSENT_ID;
    entry.handoff_id = (char *)SAMPLES_HANDOFF_ID;
    entry.actor = (char *)"peer supporter";
    entry.msg_id = notice.msg_id;
    entry.prev_hash.data = prev;
    entry.prev_hash.len = sizeof prev;
    entry.hash.data = hash;
    entry.hash.len = sizeof hash;

    /* What sealed data opens to at the receiver (fuzz_records.c). */
    Refnet__StepNote note = REFNET__STEP_NOTE__INIT;
    note.reason = (char *)"waitlist: a bed frees up on Friday";

    int bad = corpus_record(dir, 9, "revocation_notice", &notice.base);
    bad |= corpus_record(dir, 10, "audit_entry", &entry.base);
    bad |= corpus_record(dir, 11, "step_note", &note.base);
    bad |= corpus_record(dir, 12, "person_packet", &s->person.base);
    return bad;
}

static int
corpus_node_records(const char *dir, samples_t *s, const uint8_t *mail, size_t mail_len)
{
    Refnet__PersonRecord person = REFNET__PERSON_RECORD__INIT;
    person.id = (char *)"3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a";
    person.name = (char *)"Alex Example";
    person.contact = (char *)"555-0100";
    person.preferred_contact = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE;
    person.language = (char *)"en";
    person.created_at_ms = SAMPLES_TIME_MS;

    Refnet__ConsentRecord consent = REFNET__CONSENT_RECORD__INIT;
    consent.id = (char *)SAMPLES_CONSENT_ID;
    consent.person_id = person.id;
    consent.discloser = (char *)SAMPLES_PEER;
    consent.recipient = (char *)SAMPLES_AGENCY;
    consent.intermediary = (char *)"refnet";
    consent.purpose = (char *)"referral";
    consent.n_categories = 3;
    consent.categories = s->categories;
    consent.effective_at_ms = SAMPLES_TIME_MS;
    consent.expires_at_ms = SAMPLES_TIME_MS + 90ULL * 86400000;
    consent.method = REFNET__CONSENT_METHOD__CONSENT_METHOD_VERBAL_WITNESSED;
    consent.recorded_by = (char *)"peer supporter";
    consent.created_at_ms = SAMPLES_TIME_MS;

    Refnet__OutboxItem item = REFNET__OUTBOX_ITEM__INIT;
    item.envelope.data = (uint8_t *)mail;
    item.envelope.len = mail_len;
    item.msg_id.data = s->msg_id;
    item.msg_id.len = sizeof s->msg_id;
    item.created_at_ms = SAMPLES_TIME_MS;
    item.handoff_id = (char *)SAMPLES_HANDOFF_ID;

    int bad = corpus_record(dir, 4, "person", &person.base);
    bad |= corpus_record(dir, 5, "consent", &consent.base);
    bad |= corpus_handoff_records(dir, s);
    bad |= corpus_record(dir, 8, "outbox_item", &item.base);
    bad |= corpus_audit_records(dir, s);
    return bad;
}

static int
corpus_records(const char *dir)
{
    samples_t s;
    uint8_t *mail = NULL;
    size_t mail_len = 0;
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    if (wire_encode(&s.env, &mail, &mail_len) != 0)
        return 1;
    int bad = corpus_broker_records(dir, &s, mail, mail_len);
    bad |= corpus_node_records(dir, &s, mail, mail_len);
    free(mail);
    return bad;
}

int
main(int argc, char **argv)
{
    char env_dir[CORPUS_PATH_LEN], rec_dir[CORPUS_PATH_LEN];
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus OUTDIR\n");
        return 2;
    }
    snprintf(env_dir, sizeof env_dir, "%s/fuzz_envelope", argv[1]);
    snprintf(rec_dir, sizeof rec_dir, "%s/fuzz_records", argv[1]);
    if (corpus_mkdir(argv[1]) || corpus_mkdir(env_dir) || corpus_mkdir(rec_dir))
        return 1;
    int bad = corpus_envelopes(env_dir);
    bad |= corpus_records(rec_dir);
    return bad ? 1 : 0;
}
