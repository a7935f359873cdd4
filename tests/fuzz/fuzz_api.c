/* fuzz_api: libFuzzer target for the node's local JSON API (clients/node/api.h).
 *
 * After the broker link, api_handle() is the node's other door for outside bytes: any process
 * that can open DIR/api.sock hands it a frame. Each input here is one request frame, handled
 * against a real node store (LMDB) that LLVMFuzzerInitialize makes once in a mkdtemp() folder
 * (tests/unit/test_node_fixture.h). The store is seeded so that the handlers get past their
 * lookups, under fixed ids that the seed corpus (tests/fuzz/corpus/fuzz_api/) names:
 *   directory  beds-1 (agency lighthouse), peer-1 (this agency, harbor), detox-youth
 *              (riverside, no capacity or location) and gone-1 (withdrawn);
 *   persons    FUZZ_PERSON_SAM (with contact details) and FUZZ_PERSON_ALEX (without);
 *   consents   Sam for lighthouse, every category; Alex for any agency, until an event;
 *              Sam for riverside, revoked;
 *   handoffs   sent to lighthouse: one requested, one accepted by it; received from
 *              riverside: one requested, one accepted and in progress here.
 *
 * Every input starts from that same state: when a request has committed anything (a person,
 * a queued change...), the store is emptied and seeded again before the next input, so a
 * crash reproduces from its input alone and the map never fills. Commits are not synced
 * (MDB_NOSYNC): nothing here has to survive a power cut, and a sync would add a disk flush to
 * every input that writes.
 *
 * Besides the sanitizers, each answer is checked against clients/lib/API.md: an answer or
 * "pending", never both; a JSON object with a boolean "ok" and a "result" object or an
 * "error" with a code and a message; a refused request commits nothing; a pending one has
 * queued its change. A broken rule aborts, which libFuzzer reports as a crash.
 *
 * The harness state is file-static because libFuzzer's entry points take no context. It is
 * made once, used by one thread, and freed at exit (so LeakSanitizer sees no leak). */
#include "test_node_fixture.h"

#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "handoff.h"
#include "log.h"
#include "refnet_error.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_AGENCY "harbor"

#define FUZZ_PERSON_SAM    "22222222-0000-4000-8000-000000000001"
#define FUZZ_PERSON_ALEX   "22222222-0000-4000-8000-000000000002"
#define FUZZ_CONSENT_SAM   "33333333-0000-4000-8000-000000000001"
#define FUZZ_CONSENT_ALEX  "33333333-0000-4000-8000-000000000002"
#define FUZZ_CONSENT_GONE  "33333333-0000-4000-8000-000000000003"
#define FUZZ_CONSENT_THEIR "33333333-0000-4000-8000-0000000000ff"
#define FUZZ_OUT_REQUESTED "11111111-0000-4000-8000-000000000001"
#define FUZZ_OUT_ACCEPTED  "11111111-0000-4000-8000-000000000002"
#define FUZZ_IN_REQUESTED  "11111111-0000-4000-8000-000000000003"
#define FUZZ_IN_PROGRESS   "11111111-0000-4000-8000-000000000004"

/* 2099-01-01T00:00:00Z: the seeded consents' end, far past any run. */
#define FUZZ_FAR_FUTURE_MS 4070908800000ULL

typedef struct {
    nfx_t *fx;
    api_t *api;
    uint64_t seeded_txn; /* the store's last transaction id right after seeding */
} fuzz_api_t;

static fuzz_api_t fuzz_api;

static void fuzz_api_fail(const char *what, const char *reply) __attribute__((noreturn));

/* A broken harness or a broken rule: report and abort, which libFuzzer records as a crash. */
static void
fuzz_api_fail(const char *what, const char *reply)
{
    fprintf(stderr, "fuzz_api: %s\nanswer: %s\n", what, reply ? reply : "(none)");
    abort();
}

static uint64_t
fuzz_api_last_txn(void)
{
    MDB_envinfo info;
    if (mdb_env_info(store_env(fuzz_api.fx->st), &info) != 0)
        fuzz_api_fail("mdb_env_info failed", NULL);
    return (uint64_t)info.me_last_txnid;
}

static int
fuzz_api_services(MDB_txn *txn, const store_t *st)
{
    nfx_service_t beds = { .id = "beds-1",
                           .agency = "lighthouse",
                           .name = "Crisis beds",
                           .description = "Short stay beds",
                           .taxonomy = { "housing-shelter", "crisis" },
                           .ntax = 2,
                           .has_location = true,
                           .lat = 40.7128,
                           .lon = -74.0060,
                           .available = 3,
                           .accepting = true };
    nfx_service_t own = { .id = "peer-1",
                          .agency = FUZZ_AGENCY,
                          .name = "Peer support",
                          .taxonomy = { "peer-support" },
                          .ntax = 1,
                          .has_location = true,
                          .lat = 40.73,
                          .lon = -73.99,
                          .available = 0,
                          .accepting = true };
    nfx_service_t detox = { .id = "detox-youth",
                            .agency = "riverside",
                            .name = "Youth detox",
                            .taxonomy = { "detox-youth", "health.substance" },
                            .ntax = 2,
                            .available = -1 };
    int rc = nfx_apply_service(txn, st, 1, &beds, NULL);
    if (rc == 0)
        rc = nfx_apply_service(txn, st, 2, &own, NULL);
    if (rc == 0)
        rc = nfx_apply_service(txn, st, 3, &detox, NULL);
    if (rc == 0)
        rc = nfx_apply_withdraw(txn, st, 4, "gone-1", "riverside", NULL);
    return rc;
}

/* Writes a person under a fixed id (persons_add would make a new one). */
static int
fuzz_api_person(
    MDB_txn *txn, const store_t *st, const char *id, const char *name, const char *contact)
{
    Refnet__PersonRecord p = REFNET__PERSON_RECORD__INIT;
    p.id = (char *)id;
    p.name = (char *)name;
    p.contact = (char *)contact;
    p.preferred_contact = contact[0] ? REFNET__CONTACT_MODE__CONTACT_MODE_PHONE
                                     : REFNET__CONTACT_MODE__CONTACT_MODE_UNSPECIFIED;
    p.language = (char *)"en";
    p.created_at_ms = clock_now_ms();
    return store_put_msg(txn, store_db(st, NODEDB_PERSONS), id, strlen(id), &p.base);
}

/* Writes a consent under a fixed id; `expires` 0 means it ends on an event. */
static int
fuzz_api_consent(MDB_txn *txn,
                 const store_t *st,
                 const char *id,
                 const char *person,
                 const char *recipient,
                 const Refnet__Category *cats,
                 size_t n,
                 uint64_t expires,
                 uint64_t revoked)
{
    Refnet__ConsentRecord c = REFNET__CONSENT_RECORD__INIT;
    uint64_t now = clock_now_ms();
    c.id = (char *)id;
    c.person_id = (char *)person;
    c.discloser = (char *)FUZZ_AGENCY;
    c.recipient = (char *)recipient;
    c.intermediary = (char *)"refnet network";
    c.purpose = (char *)"referral";
    c.categories = (Refnet__Category *)cats;
    c.n_categories = n;
    c.effective_at_ms = now - 3600000u;
    c.expires_at_ms = expires;
    c.expires_on_event = (char *)(expires ? "" : "discharge");
    c.method = REFNET__CONSENT_METHOD__CONSENT_METHOD_SIGNED;
    c.recorded_by = (char *)"Jo";
    c.revoked_at_ms = revoked;
    c.created_at_ms = now;
    return store_put_msg(txn, store_db(st, NODEDB_CONSENTS), id, strlen(id), &c.base);
}

static int
fuzz_api_people(MDB_txn *txn, const store_t *st)
{
    static const Refnet__Category all[] = { REFNET__CATEGORY__CATEGORY_CONTACT,
                                            REFNET__CATEGORY__CATEGORY_NEEDS,
                                            REFNET__CATEGORY__CATEGORY_OWN_WORDS,
                                            REFNET__CATEGORY__CATEGORY_NOTES,
                                            REFNET__CATEGORY__CATEGORY_SUBSTANCE_USE };
    int rc = fuzz_api_person(txn, st, FUZZ_PERSON_SAM, "Sam Doe", "555-0100");
    if (rc == 0)
        rc = fuzz_api_person(txn, st, FUZZ_PERSON_ALEX, "Alex", "");
    if (rc == 0)
        rc = fuzz_api_consent(txn, st, FUZZ_CONSENT_SAM, FUZZ_PERSON_SAM, "lighthouse", all, 5,
                              FUZZ_FAR_FUTURE_MS, 0);
    if (rc == 0)
        rc = fuzz_api_consent(txn, st, FUZZ_CONSENT_ALEX, FUZZ_PERSON_ALEX, "*", all, 1, 0, 0);
    if (rc == 0)
        rc = fuzz_api_consent(txn, st, FUZZ_CONSENT_GONE, FUZZ_PERSON_SAM, "riverside", all, 2,
                              FUZZ_FAR_FUTURE_MS, clock_now_ms());
    return rc;
}

/* A fixed sealing keypair per agency, so runs are reproducible. */
static void
fuzz_api_seal_keys(const char *agency, uint8_t pk[SEAL_KEY_LEN], uint8_t sk[SEAL_KEY_LEN])
{
    uint8_t seed[crypto_box_SEEDBYTES] = { 0 };
    memcpy(seed, agency, strnlen(agency, sizeof seed));
    crypto_box_seed_keypair(pk, sk, seed);
}

/* lighthouse's sealing key, as if the broker had vouched for it. */
static int
fuzz_api_peer_key(MDB_txn *txn, const store_t *st)
{
    uint8_t pk[SEAL_KEY_LEN], sk[SEAL_KEY_LEN];
    fuzz_api_seal_keys("lighthouse", pk, sk);
    return store_put(txn, store_db(st, NODEDB_AGENCY_KEYS), "lighthouse", 10, pk, sizeof pk, 0);
}

/* Starts a handoff the way handoff.start does, then moves it to the fixed id `id`. */
static int
fuzz_api_sent(MDB_txn *txn, const store_t *st, const char *id)
{
    uint8_t own_pk[SEAL_KEY_LEN], own_sk[SEAL_KEY_LEN];
    fuzz_api_seal_keys(FUZZ_AGENCY, own_pk, own_sk);
    handoff_start_t req = { .person_id = FUZZ_PERSON_SAM,
                            .service_id = "beds-1",
                            .needs = "a quiet room",
                            .mode = REFNET__CONTACT_MODE__CONTACT_MODE_VIDEO,
                            .accompany = true,
                            .seal_sk = own_sk };
    char made[UID_STR_LEN], to[WIRE_MAX_IDENT + 1], why[HANDOFF_WHY_LEN] = "";
    pbuf_t *pb = NULL;
    MDB_dbi db = store_db(st, NODEDB_HANDOFFS);
    int rc = handoff_start(txn, st, FUZZ_AGENCY, &req, clock_now_ms(), made, to, why);
    if (rc == 0)
        rc = handoff_get(txn, st, made, &pb);
    if (rc == 0) {
        Refnet__HandoffRecord *h = (Refnet__HandoffRecord *)pbuf_msg(pb);
        char *own = h->id; /* the decoded record frees its own strings */
        h->id = (char *)id;
        rc = store_put_msg(txn, db, id, strlen(id), &h->base);
        h->id = own;
    }
    if (rc == 0)
        rc = store_del(txn, db, made, strlen(made));
    pbuf_destroy(&pb);
    return rc;
}

/* Applies a handoff step from agency `from` as the broker would deliver it. */
static int
fuzz_api_receive(
    MDB_txn *txn, const store_t *st, const char *from, const char *id, Refnet__HandoffStatus status)
{
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    Refnet__PersonPacket pkt = REFNET__PERSON_PACKET__INIT;
    Refnet__Category cats[] = { REFNET__CATEGORY__CATEGORY_CONTACT };
    uint8_t *packed = NULL;
    size_t len = 0;
    char why[HANDOFF_WHY_LEN] = "";
    pkt.name = (char *)"Robin Roe";
    pkt.contact = (char *)"555-0199";
    pkt.preferred_contact = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE;
    pbuf_pack(&pkt.base, &packed, &len);
    up.handoff_id = (char *)id;
    up.status = status;
    up.at_ms = clock_now_ms();
    if (status == REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED) {
        up.service_id = (char *)"peer-1";
        up.categories = cats;
        up.n_categories = 1;
        up.consent_id = (char *)FUZZ_CONSENT_THEIR;
        up.person_packet.data = packed;
        up.person_packet.len = len;
    }
    mail.from = (char *)from;
    mail.to = (char *)FUZZ_AGENCY;
    mail.stored_at_ms = up.at_ms;
    mail.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    mail.handoff = &up;
    int rc = handoff_apply_mail(txn, st, FUZZ_AGENCY, &mail, up.at_ms, why);
    free(packed);
    return rc;
}

static int
fuzz_api_handoffs(MDB_txn *txn, const store_t *st)
{
    uint64_t now = clock_now_ms();
    char why[HANDOFF_WHY_LEN] = "";
    int rc = fuzz_api_sent(txn, st, FUZZ_OUT_REQUESTED);
    if (rc == 0)
        rc = fuzz_api_sent(txn, st, FUZZ_OUT_ACCEPTED);
    if (rc == 0)
        rc = fuzz_api_receive(txn, st, "lighthouse", FUZZ_OUT_ACCEPTED,
                              REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED);
    if (rc == 0)
        rc = fuzz_api_receive(txn, st, "riverside", FUZZ_IN_REQUESTED,
                              REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED);
    if (rc == 0)
        rc = fuzz_api_receive(txn, st, "riverside", FUZZ_IN_PROGRESS,
                              REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED);
    if (rc == 0)
        rc = handoff_set_status(txn, st, FUZZ_AGENCY, FUZZ_IN_PROGRESS,
                                REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED, "",
                                REFNET__OUTCOME__OUTCOME_UNSPECIFIED, now, why);
    if (rc == 0)
        rc = handoff_set_status(txn, st, FUZZ_AGENCY, FUZZ_IN_PROGRESS,
                                REFNET__HANDOFF_STATUS__HANDOFF_STATUS_IN_PROGRESS, "",
                                REFNET__OUTCOME__OUTCOME_UNSPECIFIED, now, why);
    return rc;
}

/* Empties every database and writes the seeded state, in one transaction. */
static void
fuzz_api_seed(void)
{
    store_t *st = fuzz_api.fx->st;
    MDB_txn *txn = NULL;
    int rc = store_begin(st, false, &txn);
    for (size_t i = 0; rc == 0 && i < NODEDB_COUNT; i++)
        rc = store_err(mdb_drop(txn, store_db(st, i), 0));
    if (rc == 0)
        rc = fuzz_api_services(txn, st);
    if (rc == 0)
        rc = fuzz_api_peer_key(txn, st);
    if (rc == 0)
        rc = fuzz_api_people(txn, st);
    if (rc == 0)
        rc = fuzz_api_handoffs(txn, st);
    if (rc == 0)
        rc = store_commit(&txn);
    store_abort(&txn);
    if (rc != 0)
        fuzz_api_fail("cannot seed the store", refnet_strerror(rc));
    fuzz_api.seeded_txn = fuzz_api_last_txn();
}

static void
fuzz_api_close(void)
{
    api_destroy(&fuzz_api.api);
    nfx_destroy(&fuzz_api.fx);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fuzz_api.fx)
        return 0;
    log_init("fuzz_api", LOG_LEVEL_ERROR);
    fuzz_api.fx = nfx_new();
    if (mdb_env_set_flags(store_env(fuzz_api.fx->st), MDB_NOSYNC, 1) != 0)
        fuzz_api_fail("cannot turn off syncing", NULL);
    fuzz_api.api = api_new(fuzz_api.fx->st, FUZZ_AGENCY, "Harbor House", "tcp://127.0.0.1:7400");
    uint8_t pk[SEAL_KEY_LEN], sk[SEAL_KEY_LEN];
    fuzz_api_seal_keys(FUZZ_AGENCY, pk, sk);
    api_set_seal_key(fuzz_api.api, sk);
    fuzz_api_seed();
    atexit(fuzz_api_close);
    return 0;
}

/* A JSON answer as API.md shapes it; `wrote` says whether the request committed. */
static void
fuzz_api_check_answer(const char *reply, size_t len, bool wrote)
{
    if (!reply || strlen(reply) != len)
        fuzz_api_fail("no answer, or one with a NUL inside", reply);
    json_t *doc = json_loadb(reply, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *ok = json_object_get(doc, "ok"), *err = json_object_get(doc, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *message = json_string_value(json_object_get(err, "message"));
    const char *bad = NULL;
    if (!json_is_object(doc) || !json_is_boolean(ok))
        bad = "the answer is not an object with a boolean \"ok\"";
    else if (json_is_true(ok) && !json_is_object(json_object_get(doc, "result")))
        bad = "a success without a \"result\" object";
    else if (json_is_false(ok) && !(code && code[0] && message && message[0]))
        bad = "an error without a code and a message";
    else if (json_is_false(ok) && wrote)
        bad = "a refused request committed a change";
    json_decref(doc);
    if (bad)
        fuzz_api_fail(bad, reply);
}

/* A pending directory change: queued, about a service, and answerable both ways. */
static void
fuzz_api_check_pending(const api_outcome_t *out, bool wrote)
{
    size_t len = 0;
    if (out->reply || !out->subject[0] || !wrote)
        fuzz_api_fail("a pending answer that queued nothing or names no service", out->reply);
    char *text = api_broker_answer(out->subject, true, REFNET__STATUS__STATUS_OK, 7, "", &len);
    fuzz_api_check_answer(text, len, false);
    free(text);
    text = api_broker_answer(out->subject, true, REFNET__STATUS__STATUS_FORBIDDEN, 0,
                             "service belongs to another agency", &len);
    fuzz_api_check_answer(text, len, false);
    free(text);
    text = api_broker_answer(out->subject, false, REFNET__STATUS__STATUS_OK, 0, NULL, &len);
    fuzz_api_check_answer(text, len, false);
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    api_outcome_t out;
    if (!fuzz_api.fx)
        LLVMFuzzerInitialize(NULL, NULL);
    /* The link state only shows in "status"; let the input's length choose it. */
    api_handle(fuzz_api.api, data, size, (size & 1) != 0, &out);
    bool wrote = fuzz_api_last_txn() != fuzz_api.seeded_txn;
    if (out.pending)
        fuzz_api_check_pending(&out, wrote);
    else
        fuzz_api_check_answer(out.reply, out.reply_len, wrote);
    free(out.reply);
    if (wrote)
        fuzz_api_seed();
    return 0;
}
