/* Unit tests of consent: the pure disclosure rule and the records behind it. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "audit.h"
#include "refnet_error.h"

#define C_CONTACT   REFNET__CATEGORY__CATEGORY_CONTACT
#define C_NEEDS     REFNET__CATEGORY__CATEGORY_NEEDS
#define C_OWN_WORDS REFNET__CATEGORY__CATEGORY_OWN_WORDS
#define C_NOTES     REFNET__CATEGORY__CATEGORY_NOTES

#define NOW 1800000000000ULL
#define DAY (24ULL * 3600 * 1000)

/* A consent for person p1 to agency "harbor" for referral, contact + own-words, effective a
 * day ago, expiring in a day. */
static Refnet__Category base_cats[] = { C_CONTACT, C_OWN_WORDS };

static Refnet__ConsentRecord
base_consent(void)
{
    Refnet__ConsentRecord c = REFNET__CONSENT_RECORD__INIT;
    c.id = (char *)"c1";
    c.person_id = (char *)"p1";
    c.recipient = (char *)"harbor";
    c.purpose = (char *)"referral";
    c.categories = base_cats;
    c.n_categories = 2;
    c.effective_at_ms = NOW - DAY;
    c.expires_at_ms = NOW + DAY;
    return c;
}

static int
check(const Refnet__ConsentRecord *c,
      const char *person,
      const char *to,
      const Refnet__Category *cats,
      size_t n,
      uint64_t now,
      const char **why)
{
    return consent_check(c, person, to, "referral", cats, n, now, why);
}

static void
test_valid_consent_passes(void **state)
{
    (void)state;
    Refnet__ConsentRecord c = base_consent();
    Refnet__Category want[] = { C_OWN_WORDS, C_CONTACT };
    assert_int_equal(check(&c, "p1", "harbor", want, 2, NOW, NULL), 0);
    assert_int_equal(check(&c, "p1", "harbor", NULL, 0, NOW, NULL), 0);
}

static void
test_expired(void **state)
{
    (void)state;
    Refnet__ConsentRecord c = base_consent();
    const char *why = NULL;
    assert_int_equal(check(&c, "p1", "harbor", NULL, 0, NOW + DAY, &why), REFNET_ECONSENT);
    assert_string_equal(why, "the consent has expired");
    /* One millisecond before the end it still holds. */
    assert_int_equal(check(&c, "p1", "harbor", NULL, 0, NOW + DAY - 1, NULL), 0);
}

static void
test_event_based_expiry_has_no_date(void **state)
{
    (void)state;
    Refnet__ConsentRecord c = base_consent();
    c.expires_at_ms = 0;
    c.expires_on_event = (char *)"discharge";
    assert_int_equal(check(&c, "p1", "harbor", NULL, 0, NOW + 3650 * DAY, NULL), 0);
    c.revoked_at_ms = NOW;
    assert_int_equal(check(&c, "p1", "harbor", NULL, 0, NOW + 1, NULL), REFNET_ECONSENT);
}

static void
test_revoked(void **state)
{
    (void)state;
    Refnet__ConsentRecord c = base_consent();
    const char *why = NULL;
    c.revoked_at_ms = NOW - 1;
    assert_int_equal(check(&c, "p1", "harbor", NULL, 0, NOW, &why), REFNET_ECONSENT);
    assert_string_equal(why, "the consent has been revoked");
}

static void
test_wrong_agency(void **state)
{
    (void)state;
    Refnet__ConsentRecord c = base_consent();
    const char *why = NULL;
    assert_int_equal(check(&c, "p1", "lighthouse", NULL, 0, NOW, &why), REFNET_ECONSENT);
    assert_string_equal(why, "the consent does not name this recipient");
}

static void
test_any_agency(void **state)
{
    (void)state;
    Refnet__ConsentRecord c = base_consent();
    c.recipient = (char *)"*";
    assert_int_equal(check(&c, "p1", "lighthouse", NULL, 0, NOW, NULL), 0);
    assert_int_equal(check(&c, "p1", "harbor", base_cats, 2, NOW, NULL), 0);
}

static void
test_category_not_covered(void **state)
{
    (void)state;
    Refnet__ConsentRecord c = base_consent();
    Refnet__Category want[] = { C_CONTACT, C_NOTES };
    const char *why = NULL;
    assert_int_equal(check(&c, "p1", "harbor", want, 2, NOW, &why), REFNET_ECONSENT);
    assert_string_equal(why, "the consent does not cover every category being shared");
    Refnet__Category needs[] = { C_NEEDS };
    assert_int_equal(check(&c, "p1", "harbor", needs, 1, NOW, NULL), REFNET_ECONSENT);
}

static void
test_not_yet_effective(void **state)
{
    (void)state;
    Refnet__ConsentRecord c = base_consent();
    const char *why = NULL;
    c.effective_at_ms = NOW + 1;
    assert_int_equal(check(&c, "p1", "harbor", NULL, 0, NOW, &why), REFNET_ECONSENT);
    assert_string_equal(why, "the consent is not yet effective");
    assert_int_equal(check(&c, "p1", "harbor", NULL, 0, NOW + 1, NULL), 0);
}

static void
test_other_person_and_purpose(void **state)
{
    (void)state;
    Refnet__ConsentRecord c = base_consent();
    assert_int_equal(check(&c, "p2", "harbor", NULL, 0, NOW, NULL), REFNET_ECONSENT);
    assert_int_equal(consent_check(&c, "p1", "harbor", "research", NULL, 0, NOW, NULL),
                     REFNET_ECONSENT);
    assert_false(consent_in_force(
        &(Refnet__ConsentRecord){ .base = c.base, .revoked_at_ms = 1, .effective_at_ms = 0 }, NOW));
    assert_true(consent_in_force(&c, NOW));
}

/* Records: add, find the valid one among several, revoke, list. */
static void
test_records_find_revoke_list(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    char expired[UID_STR_LEN], good[UID_STR_LEN], other[UID_STR_LEN];
    uint64_t now = clock_now_ms();
    Refnet__Category cats[] = { C_CONTACT };
    assert_int_equal(
        nfx_add_consent(txn, fx->st, "p1", "harbor", cats, 1, now - 2 * DAY, now - DAY, expired),
        0);
    assert_int_equal(
        nfx_add_consent(txn, fx->st, "p2", "harbor", cats, 1, now - DAY, now + DAY, other), 0);

    pbuf_t *found = NULL;
    const char *why = NULL;
    assert_int_equal(
        consent_find_valid(txn, fx->st, "p1", "harbor", "referral", cats, 1, now, &found, &why),
        REFNET_ECONSENT);
    assert_string_equal(why, "the consent has expired");
    assert_int_equal(
        consent_find_valid(txn, fx->st, "p9", "harbor", "referral", cats, 1, now, &found, &why),
        REFNET_ECONSENT);
    assert_string_equal(why, "the person has no consent on record");

    assert_int_equal(nfx_add_consent(txn, fx->st, "p1", "*", cats, 1, now - DAY, now + DAY, good),
                     0);
    assert_int_equal(
        consent_find_valid(txn, fx->st, "p1", "harbor", "referral", cats, 1, now, &found, &why), 0);
    assert_string_equal(((Refnet__ConsentRecord *)pbuf_msg(found))->id, good);
    pbuf_destroy(&found);

    assert_int_equal(consent_revoke(txn, fx->st, good, now), 0);
    assert_int_equal(consent_revoke(txn, fx->st, good, now), REFNET_EINVAL);
    assert_int_equal(consent_revoke(txn, fx->st, "nope", now), REFNET_ENOTFOUND);
    assert_int_equal(
        consent_find_valid(txn, fx->st, "p1", "harbor", "referral", cats, 1, now, &found, &why),
        REFNET_ECONSENT);
    /* Two candidates fail: the reason given is that of the one that passed more rules
     * (expired is checked after revoked). */
    assert_string_equal(why, "the consent has expired");
    assert_int_equal(consent_get(txn, fx->st, good, &found), 0);
    assert_int_equal(((Refnet__ConsentRecord *)pbuf_msg(found))->revoked_at_ms, now);
    pbuf_destroy(&found);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(nfx_count(fx, NODEDB_CONSENTS), 3);
    (void)other;
    (void)expired;
    nfx_destroy(&fx);
}

static int
count_visit(void *ctx, const Refnet__ConsentRecord *c)
{
    (void)c;
    (*(int *)ctx)++;
    return 0;
}

static void
test_each_filters_by_person_and_max(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    char id[UID_STR_LEN];
    Refnet__Category cats[] = { C_NEEDS };
    for (int i = 0; i < 5; i++)
        assert_int_equal(nfx_add_consent(txn, fx->st, i < 3 ? "pa" : "pb", "x", cats, 1, 1, 2, id),
                         0);
    int n = 0;
    assert_int_equal(consent_each(txn, fx->st, "pa", 100, count_visit, &n), 0);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(consent_each(txn, fx->st, NULL, 100, count_visit, &n), 0);
    assert_int_equal(n, 5);
    n = 0;
    assert_int_equal(consent_each(txn, fx->st, NULL, 2, count_visit, &n), 0);
    assert_int_equal(n, 2);
    store_abort(&txn);
    nfx_destroy(&fx);
}

/* Substance-use (Part 2) is covered only by a consent that names it, even "to any agency". */
static void
test_substance_use_named_explicitly(void **state)
{
    (void)state;
    Refnet__Category every[] = { C_CONTACT, C_NEEDS, C_OWN_WORDS, C_NOTES };
    Refnet__Category su[] = { REFNET__CATEGORY__CATEGORY_SUBSTANCE_USE };
    Refnet__ConsentRecord c = base_consent();
    const char *why = NULL;
    c.recipient = (char *)"*";
    c.categories = every;
    c.n_categories = 4;
    assert_int_equal(check(&c, "p1", "harbor", su, 1, NOW, &why), REFNET_ECONSENT);
    assert_string_equal(why, "the consent does not cover every category being shared");
    Refnet__Category with[] = { C_CONTACT, REFNET__CATEGORY__CATEGORY_SUBSTANCE_USE };
    c.categories = with;
    c.n_categories = 2;
    assert_int_equal(check(&c, "p1", "harbor", su, 1, NOW, NULL), 0);
}

static int
expired_visit(void *ctx, const Refnet__AuditEntry *e)
{
    if (e->event == REFNET__AUDIT_EVENT__AUDIT_EVENT_CONSENT_EXPIRED) {
        (*(int *)ctx)++;
        assert_string_equal(e->actor, AUDIT_ACTOR_NODE);
        assert_string_equal(e->person_id, "p1");
        assert_int_equal(e->n_categories, 1);
    }
    return 0;
}

/* An expired consent is recorded in the audit log once; revoked or running ones are not. */
static void
test_expiry_noted_once(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    MDB_txn *txn = nfx_begin(fx, false);
    char expired[UID_STR_LEN], running[UID_STR_LEN], revoked[UID_STR_LEN], event[UID_STR_LEN];
    uint64_t now = clock_now_ms();
    size_t noted = 9;
    int entries = 0;
    Refnet__Category cats[] = { C_CONTACT };
    assert_int_equal(
        nfx_add_consent(txn, fx->st, "p1", "harbor", cats, 1, now - 2 * DAY, now - DAY, expired),
        0);
    assert_int_equal(
        nfx_add_consent(txn, fx->st, "p1", "harbor", cats, 1, now - DAY, now + DAY, running), 0);
    assert_int_equal(
        nfx_add_consent(txn, fx->st, "p1", "harbor", cats, 1, now - 2 * DAY, now - DAY, revoked),
        0);
    assert_int_equal(nfx_add_consent(txn, fx->st, "p1", "harbor", cats, 1, now - DAY, 0, event), 0);
    assert_int_equal(consent_revoke(txn, fx->st, revoked, now - DAY - 1), 0);
    assert_int_equal(consent_note_expired(txn, fx->st, now, 100, &noted), 0);
    assert_int_equal(noted, 1);
    assert_int_equal(consent_note_expired(txn, fx->st, now + 1, 100, &noted), 0);
    assert_int_equal(noted, 0);
    pbuf_t *pb = NULL;
    assert_int_equal(consent_get(txn, fx->st, expired, &pb), 0);
    assert_int_equal(((Refnet__ConsentRecord *)pbuf_msg(pb))->expiry_noted_at_ms, now);
    pbuf_destroy(&pb);
    assert_int_equal(audit_each(txn, fx->st, expired_visit, &entries), 0);
    assert_int_equal(entries, 1);
    /* The running one is noted once its day has passed; at most `max` per pass. */
    assert_int_equal(consent_note_expired(txn, fx->st, now + 2 * DAY, 0, &noted), 0);
    assert_int_equal(noted, 0);
    assert_int_equal(consent_note_expired(txn, fx->st, now + 2 * DAY, 5, &noted), 0);
    assert_int_equal(noted, 1);
    assert_int_equal(store_commit(&txn), 0);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_consent_passes),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_event_based_expiry_has_no_date),
        cmocka_unit_test(test_revoked),
        cmocka_unit_test(test_wrong_agency),
        cmocka_unit_test(test_any_agency),
        cmocka_unit_test(test_category_not_covered),
        cmocka_unit_test(test_not_yet_effective),
        cmocka_unit_test(test_other_person_and_purpose),
        cmocka_unit_test(test_records_find_revoke_list),
        cmocka_unit_test(test_each_filters_by_person_and_max),
        cmocka_unit_test(test_substance_use_named_explicitly),
        cmocka_unit_test(test_expiry_noted_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
