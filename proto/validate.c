/* validate: the field rules of the refnet protocol (see validate.h).
 *
 * Sits between the protobuf decoder and every consumer of a decoded Envelope: wire_decode()
 * runs validate_envelope() before a daemon sees a message, so the broker and the nodes can rely
 * on every string being bounded UTF-8, every enum being in range and every id being well formed.
 *
 * Each check names the field by its path from the body, e.g. "publish.service.name", so the
 * Result sent back to a misbehaving peer says exactly what was wrong. The sentences never quote
 * field contents: a field may hold person data and the sentences end up in logs.
 *
 * Stateless and thread-safe; borrows everything it is given. */
#include "validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pbuf.h"
#include "refnet_error.h"
#include "uid.h"
#include "wire.h"
#include "wire_limits.h"

/* Longest field path built here ("update.service.capacity" and the like, with room). */
#define VALIDATE_PATH_LEN 64

typedef enum {
    TEXT_OK = 0,
    TEXT_TOO_LONG,
    TEXT_TOO_SHORT,
    TEXT_BAD_UTF8,
    TEXT_CONTROL,
} text_problem_t;

/* Writes the reason sentence (when `why` is given) and returns REFNET_EINVAL, so that every
 * failing check is one line: `return validate_fail(why, "...", ...);`. */
static int validate_fail(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
validate_fail(char *why, const char *fmt, ...)
{
    if (why) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, WIRE_WHY_LEN, fmt, ap);
        va_end(ap);
    }
    return REFNET_EINVAL;
}

/* Length in bytes of the UTF-8 sequence that starts at s[0], or 0 when it is not a valid,
 * shortest-form encoding of a scalar value (no surrogates, nothing above U+10FFFF). */
static size_t
validate_utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0; /* continuation byte, overlong lead (C0, C1) or beyond F4 */
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
        return 0; /* overlong */
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static text_problem_t
validate_text_problem(const char *s, size_t min, size_t max)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    if (len > max)
        return TEXT_TOO_LONG;
    if (len < min)
        return TEXT_TOO_SHORT;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r')
            return TEXT_CONTROL;
        size_t n = validate_utf8_seq(u + i, len - i);
        if (n == 0)
            return TEXT_BAD_UTF8;
        i += n;
    }
    return TEXT_OK;
}

bool
validate_text(const char *s, size_t min, size_t max)
{
    return validate_text_problem(s, min, max) == TEXT_OK;
}

static bool
validate_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
}

bool
validate_ident(const char *s)
{
    if (!s || !s[0])
        return false;
    size_t i = 0;
    for (; s[i] && i <= WIRE_MAX_IDENT; i++)
        if (!validate_ident_char(s[i]))
            return false;
    return i <= WIRE_MAX_IDENT;
}

bool
validate_time(uint64_t ms, bool zero_ok)
{
    if (ms == 0)
        return zero_ok;
    return ms >= WIRE_MIN_TIME_MS && ms <= WIRE_MAX_TIME_MS;
}

/* A language code: WIRE_MIN_LANGUAGE..WIRE_MAX_LANGUAGE bytes of letters, digits and '-'
 * ("en", "pt-BR", "zh-Hant"). */
static bool
validate_language(const char *s)
{
    size_t len = strlen(s);
    if (len < WIRE_MIN_LANGUAGE || len > WIRE_MAX_LANGUAGE)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

/* ---- field checks that write the sentence ------------------------------------------------ */

static int
check_text(const char *path, const char *field, const char *s, size_t min, size_t max, char *why)
{
    switch (validate_text_problem(s, min, max)) {
    case TEXT_OK:
        return 0;
    case TEXT_TOO_LONG:
        return validate_fail(why, "%s.%s is longer than %zu bytes", path, field, max);
    case TEXT_TOO_SHORT:
        if (min == 1)
            return validate_fail(why, "%s.%s is empty", path, field);
        return validate_fail(why, "%s.%s is shorter than %zu bytes", path, field, min);
    case TEXT_BAD_UTF8:
        return validate_fail(why, "%s.%s is not valid UTF-8", path, field);
    case TEXT_CONTROL:
        break;
    }
    return validate_fail(why, "%s.%s contains a control character", path, field);
}

/* An identifier, or (when `optional`) the empty string. */
static int
check_ident(const char *path, const char *field, const char *s, bool optional, char *why)
{
    if (!s || !s[0]) {
        if (optional)
            return 0;
        return validate_fail(why, "%s.%s is empty", path, field);
    }
    if (validate_ident(s))
        return 0;
    return validate_fail(why,
                         "%s.%s is not an identifier (1 to %d characters from A-Z a-z 0-9 . _ : -)",
                         path, field, WIRE_MAX_IDENT);
}

static int
check_uuid(const char *path, const char *field, const char *s, bool optional, char *why)
{
    if ((!s || !s[0]) && optional)
        return 0;
    if (s && uid_is_uuid(s))
        return 0;
    return validate_fail(why, "%s.%s is not a UUID", path, field);
}

/* Enums arrive as any int32 (protobuf-c keeps unknown numbers of open proto3 enums). */
static int
check_enum(const char *path, const char *field, int value, int max, char *why)
{
    if (value >= 0 && value <= max)
        return 0;
    return validate_fail(why, "%s.%s has the unknown value %d", path, field, value);
}

static int
check_time(const char *path, const char *field, uint64_t ms, bool zero_ok, char *why)
{
    if (validate_time(ms, zero_ok))
        return 0;
    return validate_fail(why, "%s.%s is not a time between 2000-01-01 and 2100-01-01", path, field);
}

static int
check_msgid(
    const char *path, const char *field, const ProtobufCBinaryData *id, bool optional, char *why)
{
    if (id->len == UID_MSGID_LEN || (optional && id->len == 0))
        return 0;
    return validate_fail(why, "%s.%s is %zu bytes long, not %d", path, field, id->len,
                         UID_MSGID_LEN);
}

static int
check_count(const char *path, const char *field, size_t n, size_t min, size_t max, char *why)
{
    if (n < min)
        return validate_fail(why, "%s.%s needs at least %zu entries", path, field, min);
    if (n > max)
        return validate_fail(why, "%s.%s has more than %zu entries", path, field, max);
    return 0;
}

static int
check_coord(const char *path, const char *field, double v, double limit, char *why)
{
    if (isfinite(v) && v >= -limit && v <= limit)
        return 0;
    return validate_fail(why, "%s.%s is not a number between %g and %g", path, field, -limit,
                         limit);
}

/* Builds "path.field" for a nested message's checks. */
static const char *
validate_subpath(char out[VALIDATE_PATH_LEN], const char *path, const char *field)
{
    snprintf(out, VALIDATE_PATH_LEN, "%s.%s", path, field);
    return out;
}

/* ---- directory --------------------------------------------------------------------------- */

static int
validate_capacity_at(const Refnet__Capacity *cap, const char *path, char *why)
{
    if (cap->available < -1 || cap->available > WIRE_MAX_CAPACITY)
        return validate_fail(why, "%s.available is not between -1 and %d", path, WIRE_MAX_CAPACITY);
    if (cap->maximum < -1 || cap->maximum > WIRE_MAX_CAPACITY)
        return validate_fail(why, "%s.maximum is not between -1 and %d", path, WIRE_MAX_CAPACITY);
    /* More places free than exist is a typing mistake that would mislead every searcher. */
    if (cap->available >= 0 && cap->maximum >= 0 && cap->available > cap->maximum)
        return validate_fail(why, "%s.available (%d) is more than %s.maximum (%d)", path,
                             cap->available, path, cap->maximum);
    int rc = check_text(path, "unit", cap->unit, 0, WIRE_MAX_UNIT, why);
    if (rc == 0)
        rc = check_time(path, "updated_at_ms", cap->updated_at_ms, true, why);
    return rc;
}

static int
validate_intake_at(const Refnet__Intake *in, const char *path, char *why)
{
    if (in->waitlist > WIRE_MAX_CAPACITY)
        return validate_fail(why, "%s.waitlist is over %d", path, WIRE_MAX_CAPACITY);
    return check_enum(path, "status", (int)in->status,
                      REFNET__CAPACITY_STATUS__CAPACITY_STATUS_ADDITIONAL_ASSESSMENT_REQUIRED, why);
}

/* Capacity and intake are optional sub-messages; absent ones are valid. */
static int
validate_availability_parts(const Refnet__Capacity *cap,
                            const Refnet__Intake *in,
                            const char *path,
                            char *why)
{
    char sub[VALIDATE_PATH_LEN];
    int rc = 0;
    if (cap)
        rc = validate_capacity_at(cap, validate_subpath(sub, path, "capacity"), why);
    if (rc == 0 && in)
        rc = validate_intake_at(in, validate_subpath(sub, path, "intake"), why);
    return rc;
}

static int
validate_string_list(
    const char *path, const char *field, char **items, size_t n, bool language, char *why)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = items[i] ? items[i] : "";
        bool ok = language ? validate_language(s) : validate_ident(s);
        if (!ok && language)
            return validate_fail(why, "%s.%s[%zu] is not a language code of %d to %d letters", path,
                                 field, i, WIRE_MIN_LANGUAGE, WIRE_MAX_LANGUAGE);
        if (!ok)
            return validate_fail(why, "%s.%s[%zu] is not an identifier", path, field, i);
    }
    return 0;
}

/* One opening period: a weekday set and two minute marks that are not the same moment. */
static int
validate_schedule_at(const Refnet__Schedule *sc, const char *path, size_t i, char *why)
{
    if (!sc)
        return validate_fail(why, "%s.schedules[%zu] is missing", path, i);
    if (sc->weekdays == 0 || sc->weekdays > 127)
        return validate_fail(why, "%s.schedules[%zu].weekdays must name 1 to 7 days (bits 0-6)",
                             path, i);
    if (sc->opens_at >= WIRE_DAY_MINUTES || sc->closes_at == 0 || sc->closes_at > WIRE_DAY_MINUTES)
        return validate_fail(why, "%s.schedules[%zu] has a time outside the day", path, i);
    if (sc->opens_at == sc->closes_at)
        return validate_fail(why, "%s.schedules[%zu] opens and closes at the same minute", path, i);
    return 0;
}

/* Age bounds and opening hours: the parts the search filters on besides availability. */
static int
validate_eligibility(const Refnet__Service *svc, const char *path, char *why)
{
    if (svc->minimum_age > WIRE_MAX_AGE || svc->maximum_age > WIRE_MAX_AGE)
        return validate_fail(why, "%s: ages are 0 to %d years", path, WIRE_MAX_AGE);
    if (svc->maximum_age > 0 && svc->minimum_age > svc->maximum_age)
        return validate_fail(why, "%s.minimum_age is above maximum_age", path);
    int rc = check_count(path, "schedules", svc->n_schedules, 0, WIRE_MAX_SCHEDULES, why);
    for (size_t i = 0; rc == 0 && i < svc->n_schedules; i++)
        rc = validate_schedule_at(svc->schedules[i], path, i, why);
    return rc;
}

static int
validate_service_at(const Refnet__Service *svc, const char *path, char *why)
{
    int rc = check_ident(path, "id", svc->id, false, why);
    if (rc == 0) /* set by the broker; a node's value is ignored but must still be sane */
        rc = check_ident(path, "agency", svc->agency, true, why);
    if (rc == 0)
        rc = check_text(path, "name", svc->name, 1, WIRE_MAX_NAME, why);
    if (rc == 0)
        rc = check_text(path, "description", svc->description, 0, WIRE_MAX_DESCRIPTION, why);
    if (rc == 0)
        rc = check_count(path, "taxonomy", svc->n_taxonomy, 1, WIRE_MAX_TAXONOMY, why);
    if (rc == 0)
        rc = validate_string_list(path, "taxonomy", svc->taxonomy, svc->n_taxonomy, false, why);
    if (rc == 0)
        rc = check_count(path, "languages", svc->n_languages, 0, WIRE_MAX_LANGUAGES, why);
    if (rc == 0)
        rc = validate_string_list(path, "languages", svc->languages, svc->n_languages, true, why);
    /* Checked even without has_location: a NaN that is never meant to be read still must not
     * reach code that formats or compares it. */
    if (rc == 0)
        rc = check_coord(path, "lat", svc->lat, 90.0, why);
    if (rc == 0)
        rc = check_coord(path, "lon", svc->lon, 180.0, why);
    if (rc == 0)
        rc = validate_availability_parts(svc->capacity, svc->intake, path, why);
    if (rc == 0)
        rc = check_time(path, "updated_at_ms", svc->updated_at_ms, true, why);
    if (rc == 0)
        rc = validate_eligibility(svc, path, why);
    return rc;
}

static int
validate_publish(const Refnet__DirPublish *m, char *why)
{
    if (!m->service)
        return validate_fail(why, "publish.service is missing");
    return validate_service_at(m->service, "publish.service", why);
}

static int
validate_availability(const Refnet__DirAvailability *m, char *why)
{
    int rc = check_ident("availability", "service_id", m->service_id, false, why);
    if (rc == 0)
        rc = validate_availability_parts(m->capacity, m->intake, "availability", why);
    return rc;
}

/* A DirUpdate carries either a tombstone or the full record of the service it names. */
static int
validate_update(const Refnet__DirUpdate *m, char *why)
{
    if (m->seq == 0)
        return validate_fail(why, "update.seq is 0; sequence numbers start at 1");
    int rc = check_ident("update", "service_id", m->service_id, false, why);
    if (rc == 0)
        rc = check_ident("update", "agency", m->agency, false, why);
    if (rc != 0)
        return rc;
    if (m->withdrawn) {
        if (m->service)
            return validate_fail(why, "update.service is present in a withdrawal");
        return 0;
    }
    if (!m->service)
        return validate_fail(why, "update.service is missing");
    rc = validate_service_at(m->service, "update.service", why);
    if (rc != 0)
        return rc;
    if (strcmp(m->service->id, m->service_id) != 0)
        return validate_fail(why, "update.service.id differs from update.service_id");
    if (m->service->agency[0] && strcmp(m->service->agency, m->agency) != 0)
        return validate_fail(why, "update.service.agency differs from update.agency");
    return 0;
}

/* ---- session and control ----------------------------------------------------------------- */

static int
validate_welcome(const Refnet__Welcome *m, char *why)
{
    int rc = check_ident("welcome", "agency_id", m->agency_id, false, why);
    if (rc == 0)
        rc = check_text("welcome", "agency_name", m->agency_name, 0, WIRE_MAX_NAME, why);
    if (rc == 0 && m->broker_sign_key.len != 0 && m->broker_sign_key.len != WIRE_SEAL_KEY_LEN)
        rc = validate_fail(why, "welcome.broker_sign_key is not %d bytes", WIRE_SEAL_KEY_LEN);
    return rc;
}

static int
validate_hello(const Refnet__Hello *m, char *why)
{
    int rc = check_text("hello", "software", m->software, 0, WIRE_MAX_SOFTWARE, why);
    if (rc == 0 && m->box_public_key.len != 0 && m->box_public_key.len != WIRE_SEAL_KEY_LEN)
        rc = validate_fail(why, "hello.box_public_key is not %d bytes", WIRE_SEAL_KEY_LEN);
    return rc;
}

static int
validate_agency_key(const Refnet__AgencyKey *m, char *why)
{
    int rc = check_ident("agency_key", "agency_id", m->agency_id, false, why);
    if (rc == 0 && m->box_public_key.len != WIRE_SEAL_KEY_LEN)
        rc = validate_fail(why, "agency_key.box_public_key is not %d bytes", WIRE_SEAL_KEY_LEN);
    if (rc == 0 && m->signature.len != WIRE_SEAL_SIG_LEN)
        rc = validate_fail(why, "agency_key.signature is not %d bytes", WIRE_SEAL_SIG_LEN);
    if (rc == 0)
        rc = check_time("agency_key", "issued_at_ms", m->issued_at_ms, false, why);
    if (rc == 0)
        rc = check_time("agency_key", "revoked_at_ms", m->revoked_at_ms, !m->revoked, why);
    if (rc == 0 && !m->revoked && m->revoked_at_ms != 0)
        rc = validate_fail(why, "agency_key.revoked_at_ms is set but revoked is false");
    return rc;
}

/* A CURVE public key in Z85: 40 characters of the Z85 alphabet. */
static bool
validate_z85_key(const char *s)
{
    static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              ".-:+=^!/*?&<>()[]{}@%$#";
    if (!s || strlen(s) != 40)
        return false;
    return strspn(s, z85) == 40;
}

static int
validate_key_rotate(const Refnet__KeyRotate *m, char *why)
{
    if (!validate_z85_key(m->curve_public_key))
        return validate_fail(why, "key_rotate.curve_public_key is not a 40-character Z85 key");
    if (m->box_public_key.len != WIRE_SEAL_KEY_LEN)
        return validate_fail(why, "key_rotate.box_public_key is not %d bytes", WIRE_SEAL_KEY_LEN);
    return 0;
}

static int
validate_bye(const Refnet__Bye *m, char *why)
{
    if (m->retry_after_ms > WIRE_MAX_TTL_MS)
        return validate_fail(why, "bye.retry_after_ms is over 30 days");
    return check_text("bye", "reason", m->reason, 0, WIRE_MAX_DETAIL, why);
}

static int
validate_ack(const Refnet__Ack *m, char *why)
{
    int rc = check_count("ack", "msg_ids", m->n_msg_ids, 1, WIRE_MAX_ACK_IDS, why);
    for (size_t i = 0; rc == 0 && i < m->n_msg_ids; i++) {
        if (m->msg_ids[i].len != UID_MSGID_LEN)
            rc = validate_fail(why, "ack.msg_ids[%zu] is %zu bytes long, not %d", i,
                               m->msg_ids[i].len, UID_MSGID_LEN);
    }
    return rc;
}

static int
validate_result(const Refnet__Result *m, char *why)
{
    /* ref is empty when answering a frame whose msg_id could not be read. */
    int rc = check_msgid("result", "ref", &m->ref, true, why);
    if (rc == 0)
        rc = check_enum("result", "status", (int)m->status, REFNET__STATUS__STATUS_INTERNAL, why);
    if (rc == 0)
        rc = check_text("result", "detail", m->detail, 0, WIRE_MAX_DETAIL, why);
    return rc;
}

static int
validate_admin_request(const Refnet__AdminRequest *m, char *why)
{
    bool revoke = m->op == REFNET__ADMIN_OP__ADMIN_OP_REVOKE_AGENCY;
    int rc = check_ident("admin_request", "agency_id", m->agency_id, !revoke, why);
    if (rc != 0)
        return rc;
    if (m->op == REFNET__ADMIN_OP__ADMIN_OP_NODES || m->op == REFNET__ADMIN_OP__ADMIN_OP_FLOW ||
        m->op == REFNET__ADMIN_OP__ADMIN_OP_DEAD_LETTERS || revoke)
        return 0;
    return validate_fail(why, "admin_request.op has the unknown value %d", (int)m->op);
}

static int
validate_agency_info(const Refnet__AgencyInfo *a, const char *path, char *why)
{
    int rc = check_ident(path, "id", a->id, false, why);
    if (rc == 0)
        rc = check_text(path, "name", a->name, 0, WIRE_MAX_NAME, why);
    if (rc == 0)
        rc = check_time(path, "last_seen_ms", a->last_seen_ms, true, why);
    return rc;
}

static int
validate_flow_row(const Refnet__FlowRow *f, const char *path, char *why)
{
    int rc = check_ident(path, "from", f->from, false, why);
    if (rc == 0)
        rc = check_ident(path, "to", f->to, false, why);
    if (rc == 0)
        rc = check_enum(path, "status", (int)f->status,
                        REFNET__HANDOFF_STATUS__HANDOFF_STATUS_CANCELLED, why);
    return rc;
}

static int
validate_dead_letter(const Refnet__DeadLetter *d, const char *path, char *why)
{
    int rc = check_msgid(path, "msg_id", &d->msg_id, false, why);
    if (rc == 0)
        rc = check_ident(path, "from", d->from, false, why);
    if (rc == 0)
        rc = check_ident(path, "to", d->to, false, why);
    if (rc == 0)
        rc = check_time(path, "stored_at_ms", d->stored_at_ms, false, why);
    if (rc == 0)
        rc = check_time(path, "expired_at_ms", d->expired_at_ms, false, why);
    if (rc == 0)
        rc = check_uuid(path, "handoff_id", d->handoff_id, true, why);
    return rc;
}

static int
validate_admin_reply(const Refnet__AdminReply *m, char *why)
{
    char sub[VALIDATE_PATH_LEN];
    int rc =
        check_enum("admin_reply", "status", (int)m->status, REFNET__STATUS__STATUS_INTERNAL, why);
    if (rc == 0)
        rc = check_text("admin_reply", "detail", m->detail, 0, WIRE_MAX_DETAIL, why);
    if (rc == 0)
        rc = check_count("admin_reply", "agencies", m->n_agencies, 0, WIRE_MAX_ADMIN_ROWS, why);
    if (rc == 0)
        rc = check_count("admin_reply", "flow", m->n_flow, 0, WIRE_MAX_ADMIN_ROWS, why);
    for (size_t i = 0; rc == 0 && i < m->n_agencies; i++) {
        snprintf(sub, sizeof sub, "admin_reply.agencies[%zu]", i);
        rc = validate_agency_info(m->agencies[i], sub, why);
    }
    for (size_t i = 0; rc == 0 && i < m->n_flow; i++) {
        snprintf(sub, sizeof sub, "admin_reply.flow[%zu]", i);
        rc = validate_flow_row(m->flow[i], sub, why);
    }
    if (rc == 0)
        rc = check_count("admin_reply", "dead_letters", m->n_dead_letters, 0, WIRE_MAX_ADMIN_ROWS,
                         why);
    for (size_t i = 0; rc == 0 && i < m->n_dead_letters; i++) {
        snprintf(sub, sizeof sub, "admin_reply.dead_letters[%zu]", i);
        rc = validate_dead_letter(m->dead_letters[i], sub, why);
    }
    return rc;
}

/* ---- mail and handoffs ------------------------------------------------------------------- */

static bool
validate_has_category(const Refnet__HandoffUpdate *up, Refnet__Category c)
{
    for (size_t i = 0; i < up->n_categories; i++)
        if (up->categories[i] == c)
            return true;
    return false;
}

static int
validate_person_packet_at(const Refnet__PersonPacket *p, const char *path, char *why)
{
    int rc = check_text(path, "name", p->name, 1, WIRE_MAX_NAME, why);
    if (rc == 0)
        rc = check_text(path, "contact", p->contact, 0, WIRE_MAX_CONTACT, why);
    if (rc == 0)
        rc = check_enum(path, "preferred_contact", (int)p->preferred_contact,
                        REFNET__CONTACT_MODE__CONTACT_MODE_VIDEO, why);
    if (rc == 0 && p->language[0] && !validate_language(p->language))
        rc = validate_fail(why, "%s.language is not a language code of %d to %d letters", path,
                           WIRE_MIN_LANGUAGE, WIRE_MAX_LANGUAGE);
    if (rc == 0)
        rc = check_text(path, "own_words", p->own_words, 0, WIRE_MAX_LONG_TEXT, why);
    if (rc == 0)
        rc = check_text(path, "needs", p->needs, 0, WIRE_MAX_NEEDS, why);
    if (rc == 0)
        rc = check_text(path, "notes", p->notes, 0, WIRE_MAX_LONG_TEXT, why);
    if (rc == 0)
        rc = check_text(path, "redisclosure_notice", p->redisclosure_notice, 0, WIRE_MAX_NOTICE,
                        why);
    return rc;
}

int
validate_person_packet(const Refnet__PersonPacket *p, char *why)
{
    return validate_person_packet_at(p, "person_packet", why);
}

/* Every field the packet carries must belong to a category the update lists: the receiving
 * node relies on `categories` to know what was disclosed under the consent. */
static int
validate_packet_categories(const Refnet__HandoffUpdate *up,
                           const Refnet__PersonPacket *p,
                           const char *path,
                           char *why)
{
    const struct {
        const char *field;
        bool present;
        Refnet__Category category;
        const char *category_name;
    } fields[] = {
        { "contact", p->contact[0] != '\0', REFNET__CATEGORY__CATEGORY_CONTACT, "contact" },
        { "preferred_contact",
          p->preferred_contact != REFNET__CONTACT_MODE__CONTACT_MODE_UNSPECIFIED,
          REFNET__CATEGORY__CATEGORY_CONTACT, "contact" },
        { "own_words", p->own_words[0] != '\0', REFNET__CATEGORY__CATEGORY_OWN_WORDS, "own-words" },
        { "needs", p->needs[0] != '\0', REFNET__CATEGORY__CATEGORY_NEEDS, "needs" },
        { "notes", p->notes[0] != '\0', REFNET__CATEGORY__CATEGORY_NOTES, "notes" },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].present && !validate_has_category(up, fields[i].category))
            return validate_fail(why, "%s.%s is present but the categories do not list %s", path,
                                 fields[i].field, fields[i].category_name);
    }
    return 0;
}

/* A clear packet's bytes: a valid PersonPacket whose fields the categories cover. */
static int
validate_packet_clear(
    const Refnet__HandoffUpdate *up, const uint8_t *data, size_t len, const char *path, char *why)
{
    char sub[VALIDATE_PATH_LEN];
    pbuf_t *pb = NULL;
    const Refnet__PersonPacket *p = NULL;
    if (len > WIRE_MAX_PERSON_PACKET)
        return validate_fail(why, "%s.person_packet is longer than %d bytes", path,
                             WIRE_MAX_PERSON_PACKET);
    validate_subpath(sub, path, "person_packet");
    int rc =
        pbuf_unpack(&pb, &refnet__person_packet__descriptor, data, len, WIRE_MAX_PERSON_PACKET);
    if (rc != 0) {
        rc = validate_fail(why, "%s is not a valid PersonPacket", sub);
        goto out;
    }
    p = (const Refnet__PersonPacket *)pbuf_msg(pb);
    rc = validate_person_packet_at(p, sub, why);
    if (rc == 0)
        rc = validate_packet_categories(up, p, sub, why);
out:
    pbuf_destroy(&pb);
    return rc;
}

/* A sealed packet is opaque to everyone but its recipient: only its size is checked here;
 * the receiving node checks the opened bytes with validate_opened_packet. A clear one is
 * checked like any other field. */
static int
validate_packet_bytes(const Refnet__HandoffUpdate *up, const char *path, char *why)
{
    if (up->seal_version > 1)
        return validate_fail(why, "%s.seal_version %u is not supported", path,
                             (unsigned)up->seal_version);
    if (up->person_packet.len == 0)
        return 0;
    if (up->seal_version == 0)
        return validate_packet_clear(up, up->person_packet.data, up->person_packet.len, path, why);
    if (up->person_packet.len > WIRE_MAX_SEALED_PACKET)
        return validate_fail(why, "%s.person_packet is longer than %d bytes", path,
                             WIRE_MAX_SEALED_PACKET);
    return 0;
}

int
validate_opened_packet(const Refnet__HandoffUpdate *up, const uint8_t *data, size_t len, char *why)
{
    return validate_packet_clear(up, data, len, "handoff", why);
}

static int
validate_categories(const Refnet__HandoffUpdate *up, const char *path, char *why)
{
    unsigned seen = 0;
    int rc = check_count(path, "categories", up->n_categories, 0, WIRE_MAX_CATEGORIES, why);
    for (size_t i = 0; rc == 0 && i < up->n_categories; i++) {
        int c = (int)up->categories[i];
        if (c < REFNET__CATEGORY__CATEGORY_CONTACT || c > REFNET__CATEGORY__CATEGORY_SUBSTANCE_USE)
            return validate_fail(why, "%s.categories[%zu] has the unknown value %d", path, i, c);
        if (seen & (1u << c))
            return validate_fail(why, "%s.categories[%zu] repeats a category", path, i);
        seen |= 1u << c;
    }
    return rc;
}

/* Field rules of one handoff step. Which side may set which status, and when a reason is
 * required, are the state machine's rules (fsm.h), checked by the daemons with their state. */
static int
validate_handoff_at(const Refnet__HandoffUpdate *up, const char *path, char *why)
{
    bool requested = up->status == REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    int rc = check_uuid(path, "handoff_id", up->handoff_id, false, why);
    if (rc == 0)
        rc = check_ident(path, "service_id", up->service_id, !requested, why);
    if (rc == 0)
        rc = check_enum(path, "status", (int)up->status,
                        REFNET__HANDOFF_STATUS__HANDOFF_STATUS_CANCELLED, why);
    if (rc == 0)
        rc = check_enum(path, "milestone", (int)up->milestone,
                        REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DONE, why);
    if (rc == 0 && up->status == REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED &&
        up->milestone == REFNET__MILESTONE__MILESTONE_UNSPECIFIED)
        rc = validate_fail(why, "%s has neither a status nor a milestone", path);
    if (rc == 0)
        rc = check_text(path, "reason", up->reason, 0, WIRE_MAX_REASON, why);
    if (rc == 0 && up->sealed_reason.len > WIRE_MAX_SEALED_REASON)
        rc = validate_fail(why, "%s.sealed_reason is longer than %d bytes", path,
                           WIRE_MAX_SEALED_REASON);
    if (rc == 0 && up->sealed_reason.len > 0 && up->reason[0])
        rc = validate_fail(why, "%s has both a reason and a sealed_reason", path);
    if (rc == 0)
        rc = check_enum(path, "outcome", (int)up->outcome, REFNET__OUTCOME__OUTCOME_EXPIRED, why);
    if (rc == 0)
        rc = check_enum(path, "mode", (int)up->mode, REFNET__CONTACT_MODE__CONTACT_MODE_VIDEO, why);
    if (rc == 0)
        rc = check_time(path, "proposed_at_ms", up->proposed_at_ms, true, why);
    if (rc == 0)
        rc = check_time(path, "at_ms", up->at_ms, true, why);
    if (rc == 0)
        rc = validate_categories(up, path, why);
    if (rc == 0)
        rc = check_ident(path, "consent_id", up->consent_id, true, why);
    if (rc == 0)
        rc = validate_packet_bytes(up, path, why);
    return rc;
}

int
validate_handoff_update(const Refnet__HandoffUpdate *up, char *why)
{
    return validate_handoff_at(up, "handoff", why);
}

static int
validate_receipt_at(const Refnet__Receipt *r, const char *path, char *why)
{
    int rc = check_msgid(path, "msg_id", &r->msg_id, false, why);
    if (rc == 0)
        rc = check_ident(path, "recipient", r->recipient, false, why);
    if (rc == 0)
        rc = check_time(path, "delivered_at_ms", r->delivered_at_ms, true, why);
    if (rc == 0)
        rc = check_uuid(path, "handoff_id", r->handoff_id, true, why);
    return rc;
}

/* Several receipts in one mail (the broker's answer to one Ack): 1 to WIRE_MAX_ACK_IDS, each
 * a valid receipt. */
static int
validate_receipts_at(const Refnet__Receipts *r, const char *path, char *why)
{
    int rc = check_count(path, "receipts", r->n_receipts, 1, WIRE_MAX_ACK_IDS, why);
    for (size_t i = 0; rc == 0 && i < r->n_receipts; i++) {
        char sub[VALIDATE_PATH_LEN];
        /* A cut path only shortens the sentence of a refusal. */
        if (snprintf(sub, sizeof sub, "%s.receipts[%zu]", path, i) >= (int)sizeof sub)
            sub[sizeof sub - 1] = '\0';
        if (!r->receipts[i])
            return validate_fail(why, "%s is missing", sub);
        rc = validate_receipt_at(r->receipts[i], sub, why);
    }
    return rc;
}

/* The handoff ids of a revocation or its acknowledgement. */
static int
validate_handoff_ids(const char *path, char *const *ids, size_t n, char *why)
{
    int rc = check_count(path, "handoff_ids", n, 1, WIRE_MAX_REVOKED_HANDOFFS, why);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char field[48];
        snprintf(field, sizeof field, "handoff_ids[%zu]", i);
        rc = check_uuid(path, field, ids[i], false, why);
    }
    return rc;
}

static int
validate_revocation_at(const Refnet__Revocation *r, const char *path, char *why)
{
    int rc = check_ident(path, "consent_id", r->consent_id, false, why);
    if (rc == 0)
        rc = validate_handoff_ids(path, r->handoff_ids, r->n_handoff_ids, why);
    if (rc == 0)
        rc = check_time(path, "revoked_at_ms", r->revoked_at_ms, false, why);
    return rc;
}

static int
validate_revocation_ack_at(const Refnet__RevocationAck *r, const char *path, char *why)
{
    int rc = check_ident(path, "consent_id", r->consent_id, false, why);
    if (rc == 0)
        rc = validate_handoff_ids(path, r->handoff_ids, r->n_handoff_ids, why);
    if (rc == 0)
        rc = check_time(path, "restricted_at_ms", r->restricted_at_ms, false, why);
    return rc;
}

static int
validate_mail_at(const Refnet__Mail *mail, const char *path, char *why)
{
    char sub[VALIDATE_PATH_LEN];
    int rc = check_ident(path, "to", mail->to, false, why);
    if (rc == 0)
        rc = check_ident(path, "from", mail->from, true, why);
    if (rc == 0 && mail->ttl_ms > WIRE_MAX_TTL_MS)
        rc = validate_fail(why, "%s.ttl_ms is over 30 days", path);
    if (rc == 0)
        rc = check_time(path, "stored_at_ms", mail->stored_at_ms, true, why);
    if (rc != 0)
        return rc;
    /* All content members are pointers sharing one slot; a set case with no message is only
     * possible in a hand-built struct, but costs nothing to refuse. */
    if (mail->content_case != REFNET__MAIL__CONTENT__NOT_SET && !mail->handoff)
        return validate_fail(why, "%s content is missing", path);
    switch (mail->content_case) {
    case REFNET__MAIL__CONTENT_HANDOFF:
        return validate_handoff_at(mail->handoff, validate_subpath(sub, path, "handoff"), why);
    case REFNET__MAIL__CONTENT_RECEIPT:
        return validate_receipt_at(mail->receipt, validate_subpath(sub, path, "receipt"), why);
    case REFNET__MAIL__CONTENT_RECEIPTS:
        return validate_receipts_at(mail->receipts, validate_subpath(sub, path, "receipts"), why);
    case REFNET__MAIL__CONTENT_REVOCATION:
        return validate_revocation_at(mail->revocation, validate_subpath(sub, path, "revocation"),
                                      why);
    case REFNET__MAIL__CONTENT_REVOCATION_ACK:
        return validate_revocation_ack_at(mail->revocation_ack,
                                          validate_subpath(sub, path, "revocation_ack"), why);
    case REFNET__MAIL__CONTENT__NOT_SET:
    default:
        break;
    }
    return validate_fail(why, "%s has no content (handoff, receipt or revocation)", path);
}

/* ---- public entry points ----------------------------------------------------------------- */

int
validate_service(const Refnet__Service *svc, char *why)
{
    return validate_service_at(svc, "service", why);
}

int
validate_capacity(const Refnet__Capacity *cap, char *why)
{
    return validate_capacity_at(cap, "capacity", why);
}

int
validate_intake(const Refnet__Intake *in, char *why)
{
    return validate_intake_at(in, "intake", why);
}

int
validate_mail(const Refnet__Mail *mail, char *why)
{
    return validate_mail_at(mail, "mail", why);
}

/* A snapshot chunk: live services only, ids strictly ascending and above `after`, so a node
 * can tell exactly which of its ids the chunk covers. */
static int
validate_snapshot_chunk(const Refnet__DirSnapshotChunk *m, char *why)
{
    if (m->after[0] && !validate_ident(m->after))
        return validate_fail(why, "snapshot_chunk.after is not an identifier");
    if (m->n_updates == 0 || m->n_updates > WIRE_MAX_SNAPSHOT_UPDATES)
        return validate_fail(why, "snapshot_chunk.updates must hold 1 to %d services",
                             WIRE_MAX_SNAPSHOT_UPDATES);
    const char *prev = m->after;
    for (size_t i = 0; i < m->n_updates; i++) {
        const Refnet__DirUpdate *up = m->updates[i];
        char inner[WIRE_WHY_LEN];
        if (validate_update(up, inner) != 0)
            return validate_fail(why, "snapshot_chunk.updates[%zu]: %s", i, inner);
        if (up->withdrawn)
            return validate_fail(why, "snapshot_chunk.updates[%zu] is a tombstone", i);
        if (strcmp(up->service_id, prev) <= 0)
            return validate_fail(why, "snapshot_chunk.updates[%zu] is out of order", i);
        prev = up->service_id;
    }
    return 0;
}

static int
validate_snapshot_end(const Refnet__DirSnapshotEnd *m, char *why)
{
    if (m->after[0] && !validate_ident(m->after))
        return validate_fail(why, "snapshot_end.after is not an identifier");
    return 0;
}

static int
validate_digest(const Refnet__DirDigest *m, char *why)
{
    if (m->digest.len != WIRE_DIGEST_LEN)
        return validate_fail(why, "digest.digest must be %d bytes", WIRE_DIGEST_LEN);
    return check_msgid("digest", "ref", &m->ref, true, why);
}

/* A batch's items are whole envelopes, decoded and validated one by one by wire_decode_item()
 * when the receiver takes them; here only their number and presence are checked. */
static int
validate_batch(const Refnet__Batch *m, char *why)
{
    int rc = check_count("batch", "envelopes", m->n_envelopes, 1, WIRE_MAX_BATCH, why);
    for (size_t i = 0; rc == 0 && i < m->n_envelopes; i++) {
        if (m->envelopes[i].len == 0)
            rc = validate_fail(why, "batch.envelopes[%zu] is empty", i);
    }
    return rc;
}

/* Dispatches on the body: one validator per body type. Bodies without fields to check (ping,
 * pong, sync, sync_done) are valid by construction, since every uint64 is acceptable. */
static int
validate_body(const Refnet__Envelope *env, char *why)
{
    /* Every body member is a pointer in the same union slot. */
    if (env->body_case != REFNET__ENVELOPE__BODY__NOT_SET && !env->hello)
        return validate_fail(why, "envelope body %s is missing", wire_body_name(env->body_case));
    switch (env->body_case) {
    case REFNET__ENVELOPE__BODY_HELLO:
        return validate_hello(env->hello, why);
    case REFNET__ENVELOPE__BODY_WELCOME:
        return validate_welcome(env->welcome, why);
    case REFNET__ENVELOPE__BODY_PING:
    case REFNET__ENVELOPE__BODY_PONG:
    case REFNET__ENVELOPE__BODY_SYNC:
    case REFNET__ENVELOPE__BODY_SYNC_DONE:
        return 0;
    case REFNET__ENVELOPE__BODY_AGENCY_KEY:
        return validate_agency_key(env->agency_key, why);
    case REFNET__ENVELOPE__BODY_KEY_ROTATE:
        return validate_key_rotate(env->key_rotate, why);
    case REFNET__ENVELOPE__BODY_BYE:
        return validate_bye(env->bye, why);
    case REFNET__ENVELOPE__BODY_BATCH:
        return validate_batch(env->batch, why);
    case REFNET__ENVELOPE__BODY_PUBLISH:
        return validate_publish(env->publish, why);
    case REFNET__ENVELOPE__BODY_AVAILABILITY:
        return validate_availability(env->availability, why);
    case REFNET__ENVELOPE__BODY_WITHDRAW:
        return check_ident("withdraw", "service_id", env->withdraw->service_id, false, why);
    case REFNET__ENVELOPE__BODY_UPDATE:
        return validate_update(env->update, why);
    case REFNET__ENVELOPE__BODY_MAIL:
        return validate_mail_at(env->mail, "mail", why);
    case REFNET__ENVELOPE__BODY_ACK:
        return validate_ack(env->ack, why);
    case REFNET__ENVELOPE__BODY_RESULT:
        return validate_result(env->result, why);
    case REFNET__ENVELOPE__BODY_ADMIN_REQUEST:
        return validate_admin_request(env->admin_request, why);
    case REFNET__ENVELOPE__BODY_ADMIN_REPLY:
        return validate_admin_reply(env->admin_reply, why);
    case REFNET__ENVELOPE__BODY_SNAPSHOT_BEGIN:
    case REFNET__ENVELOPE__BODY_DIGEST_REQUEST:
        return 0;
    case REFNET__ENVELOPE__BODY_SNAPSHOT_CHUNK:
        return validate_snapshot_chunk(env->snapshot_chunk, why);
    case REFNET__ENVELOPE__BODY_SNAPSHOT_END:
        return validate_snapshot_end(env->snapshot_end, why);
    case REFNET__ENVELOPE__BODY_DIGEST:
        return validate_digest(env->digest, why);
    case REFNET__ENVELOPE__BODY__NOT_SET:
    default:
        break;
    }
    return validate_fail(why, "envelope has no body");
}

int
validate_envelope(const Refnet__Envelope *env, char *why)
{
    int rc = check_msgid("envelope", "msg_id", &env->msg_id, false, why);
    if (rc == 0)
        rc = check_time("envelope", "sent_at_ms", env->sent_at_ms, true, why);
    if (rc == 0)
        rc = validate_body(env, why);
    return rc;
}
