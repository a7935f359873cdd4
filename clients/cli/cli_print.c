/* cli_print: result printers (see cli_print.h). */
#include "cli_print.h"

#include <string.h>

#include "cli_fmt.h"

#define PRINT_N(a) (sizeof(a) / sizeof((a)[0]))
/* Names and descriptions are cut in tables so a row stays on one line. */
#define PRINT_NAME_WIDTH 40
#define PRINT_ID_WIDTH   40
/* Label column of the handoff view. */
#define PRINT_LABEL_WIDTH 10

static const char *
print_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static void
print_value(const json_t *obj, const char *key, char *buf, size_t len)
{
    cli_fmt_value(json_object_get(obj, key), buf, len);
}

void
cli_print_kv(FILE *out, const json_t *result)
{
    cli_fmt_kv(out, result, 0);
}

void
cli_print_id(FILE *out, const json_t *result)
{
    char id[CLI_FMT_CELL_LEN];
    print_value(result, "id", id, sizeof id);
    fprintf(out, "%s\n", id);
}

void
cli_print_dir_change(FILE *out, const json_t *result)
{
    char id[CLI_FMT_CELL_LEN], seq[64];
    print_value(result, "id", id, sizeof id);
    if (json_is_true(json_object_get(result, "queued"))) {
        fprintf(out, "%s: queued; the node sends it when the broker answers\n", id);
        return;
    }
    print_value(result, "seq", seq, sizeof seq);
    fprintf(out, "%s: stored by the broker as directory change %s\n", id, seq);
}

/* "3/10", "3/-" or "-": places free out of the total. */
static void
cell_available(const json_t *row, char *buf, size_t len)
{
    char avail[64], cap[64];
    const json_t *a = json_object_get(row, "available");
    const json_t *c = json_object_get(row, "capacity");
    if (!json_is_number(a) && !json_is_number(c)) {
        snprintf(buf, len, "-");
        return;
    }
    cli_fmt_value(a, avail, sizeof avail);
    cli_fmt_value(c, cap, sizeof cap);
    /* Numbers older than the node's --stale-after-s are shown, but marked. */
    snprintf(buf, len, "%s/%s%s", avail, cap,
             json_is_true(json_object_get(row, "stale")) ? " stale" : "");
}

static void
cell_accepting(const json_t *row, char *buf, size_t len)
{
    const json_t *a = json_object_get(row, "accepting");
    snprintf(buf, len, "%s", json_is_boolean(a) ? (json_is_true(a) ? "yes" : "no") : "-");
}

/* A revoked agency's services stay listed, marked, since no handoff can go to them. */
static void
cell_agency(const json_t *row, char *buf, size_t len)
{
    const char *agency = json_string_value(json_object_get(row, "agency"));
    bool revoked = json_is_true(json_object_get(row, "agency_revoked"));
    snprintf(buf, len, "%s%s", agency ? agency : "-", revoked ? " (revoked)" : "");
}

static void
cell_distance(const json_t *row, char *buf, size_t len)
{
    const json_t *d = json_object_get(row, "distance_km");
    if (json_is_number(d))
        snprintf(buf, len, "%.1f km", json_number_value(d));
    else
        snprintf(buf, len, "-");
}

/* "page 2 of 7 (312 services)" under a search that has more than one page. */
static void
print_page_footer(FILE *out, const json_t *result)
{
    json_int_t total = json_integer_value(json_object_get(result, "total_items"));
    json_int_t pages = json_integer_value(json_object_get(result, "total_pages"));
    json_int_t page = json_integer_value(json_object_get(result, "page_number"));
    if (pages > 1 || page > 1)
        fprintf(out, "page %lld of %lld (%lld services)\n", (long long)page, (long long)pages,
                (long long)total);
}

void
cli_print_services(FILE *out, const json_t *result)
{
    const json_t *rows = json_object_get(result, "services");
    static const cli_fmt_col_t cols[] = {
        { "ID", "id", NULL, PRINT_ID_WIDTH },
        { "NAME", "name", NULL, PRINT_NAME_WIDTH },
        { "AGENCY", NULL, cell_agency, PRINT_ID_WIDTH },
        { "AVAILABLE", NULL, cell_available, 0 },
        { "ACCEPTING", NULL, cell_accepting, 0 },
        { "DISTANCE", NULL, cell_distance, 0 },
    };
    /* The distance column only means something for a search --near. */
    bool near = json_object_get(json_array_get(rows, 0), "distance_km") != NULL;
    cli_fmt_table(out, cols, near ? PRINT_N(cols) : PRINT_N(cols) - 1, rows, "no services found");
    print_page_footer(out, result);
}

static void
cell_created(const json_t *row, char *buf, size_t len)
{
    cli_fmt_short_time(json_object_get(row, "created_at"), buf, len);
}

void
cli_print_persons(FILE *out, const json_t *result)
{
    static const cli_fmt_col_t cols[] = {
        { "ID", "id", NULL, 0 },
        { "NAME", "name", NULL, PRINT_NAME_WIDTH },
        { "CONTACT", "contact", NULL, PRINT_NAME_WIDTH },
        { "LANGUAGE", "language", NULL, 0 },
        { "CREATED", NULL, cell_created, 0 },
    };
    cli_fmt_table(out, cols, PRINT_N(cols), json_object_get(result, "persons"), "no persons");
}

static void
cell_consent_state(const json_t *row, char *buf, size_t len)
{
    const json_t *revoked = json_object_get(row, "revoked_at");
    if (revoked && !json_is_null(revoked))
        snprintf(buf, len, "revoked");
    else
        snprintf(buf, len, "%s",
                 json_is_true(json_object_get(row, "valid")) ? "valid" : "not valid");
}

static void
cell_consent_ends(const json_t *row, char *buf, size_t len)
{
    const json_t *at = json_object_get(row, "expires_at");
    const json_t *event = json_object_get(row, "expires_on_event");
    if (json_is_string(at))
        cli_fmt_until(at, buf, len);
    else if (json_is_string(event) && *json_string_value(event))
        cli_fmt_value(event, buf, len);
    else
        snprintf(buf, len, "-");
}

void
cli_print_consents(FILE *out, const json_t *result)
{
    static const cli_fmt_col_t cols[] = {
        { "ID", "id", NULL, 0 },
        { "PERSON", "person", NULL, 0 },
        { "TO", "to", NULL, 0 },
        { "PURPOSE", "purpose", NULL, 0 },
        { "SHARE", "share", NULL, 0 },
        { "ENDS", NULL, cell_consent_ends, 0 },
        { "STATE", NULL, cell_consent_state, 0 },
    };
    cli_fmt_table(out, cols, PRINT_N(cols), json_object_get(result, "consents"), "no consents");
}

void
cli_print_revoked(FILE *out, const json_t *result)
{
    char id[CLI_FMT_CELL_LEN], at[64];
    json_int_t told = json_integer_value(json_object_get(result, "revocations_sent"));
    print_value(result, "id", id, sizeof id);
    print_value(result, "revoked_at", at, sizeof at);
    fprintf(out, "consent %s revoked at %s\n", id, at);
    if (told > 0)
        fprintf(out, "revocation sent to %lld agenc%s that received data under it\n",
                (long long)told, told == 1 ? "y" : "ies");
}

static void
print_revocation(FILE *out, const json_t *n)
{
    char agency[CLI_FMT_CELL_LEN / 2], at[64], ids[CLI_FMT_CELL_LEN / 2];
    print_value(n, "agency", agency, sizeof agency);
    print_value(n, "handoffs", ids, sizeof ids);
    if (json_is_true(json_object_get(n, "acknowledged"))) {
        print_value(n, "acknowledged_at", at, sizeof at);
        fprintf(out, "revocation acknowledged by %s at %s (handoffs %s)\n", agency, at, ids);
    } else {
        print_value(n, "sent_at", at, sizeof at);
        fprintf(out, "revocation pending at %s (sent %s; handoffs %s)\n", agency, at, ids);
    }
}

void
cli_print_consent(FILE *out, const json_t *result)
{
    json_t *copy = json_copy((json_t *)result);
    const json_t *notices = json_object_get(result, "revocations");
    size_t i;
    json_t *n;
    json_object_del(copy, "revocations");
    cli_fmt_kv(out, copy, 0);
    json_decref(copy);
    json_array_foreach(notices, i, n) print_revocation(out, n);
}

void
cli_print_handoff_status(FILE *out, const json_t *result)
{
    char id[CLI_FMT_CELL_LEN], status[64];
    print_value(result, "id", id, sizeof id);
    print_value(result, "status", status, sizeof status);
    fprintf(out, "handoff %s is now %s\n", id, status);
}

void
cli_print_milestone(FILE *out, const json_t *result)
{
    char id[CLI_FMT_CELL_LEN], milestone[64];
    print_value(result, "id", id, sizeof id);
    print_value(result, "milestone", milestone, sizeof milestone);
    fprintf(out, "handoff %s: milestone %s recorded\n", id, milestone);
}

static void
cell_service(const json_t *row, char *buf, size_t len)
{
    const char *name = print_str(row, "service_name");
    cli_fmt_value(json_object_get(row, *name ? "service_name" : "service"), buf, len);
}

static void
cell_updated(const json_t *row, char *buf, size_t len)
{
    cli_fmt_short_time(json_object_get(row, "updated_at"), buf, len);
}

static void
cell_direction(const json_t *row, char *buf, size_t len)
{
    const char *d = print_str(row, "direction");
    snprintf(buf, len, "%s",
             strcmp(d, "inbox") == 0    ? "in"
             : strcmp(d, "outbox") == 0 ? "out"
                                        : "-");
}

/* Whether the person data of a handoff may still be used: "restricted" after a revocation. */
static void
cell_restricted(const json_t *row, char *buf, size_t len)
{
    snprintf(buf, len, "%s", json_is_true(json_object_get(row, "restricted")) ? "restricted" : "-");
}

void
cli_print_handoffs(FILE *out, const json_t *result)
{
    static const cli_fmt_col_t cols[] = {
        { "ID", "id", NULL, 0 },
        { "DIR", NULL, cell_direction, 0 },
        { "STATUS", "status", NULL, 0 },
        { "FROM", "from", NULL, PRINT_ID_WIDTH },
        { "TO", "to", NULL, PRINT_ID_WIDTH },
        { "SERVICE", NULL, cell_service, PRINT_NAME_WIDTH },
        { "UPDATED", NULL, cell_updated, 0 },
        { "OUTCOME", "outcome", NULL, 0 },
        { "DATA", NULL, cell_restricted, 0 },
    };
    cli_fmt_table(out, cols, PRINT_N(cols), json_object_get(result, "handoffs"), "no handoffs");
}

/* One labelled line of the handoff view, skipped when the value is absent or empty. */
static void
print_field(FILE *out, size_t indent, const char *label, const json_t *obj, const char *key)
{
    char buf[CLI_FMT_CELL_LEN];
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
        return;
    cli_fmt_value(v, buf, sizeof buf);
    cli_fmt_field(out, indent, PRINT_LABEL_WIDTH, label, buf);
}

static void
print_handoff_head(FILE *out, const json_t *h)
{
    /* Two values and a few words always fit in buf. */
    char buf[CLI_FMT_CELL_LEN], a[CLI_FMT_CELL_LEN / 2 - 32], b[CLI_FMT_CELL_LEN / 2 - 32];
    print_field(out, 0, "handoff", h, "id");
    print_value(h, "status", a, sizeof a);
    if (*print_str(h, "outcome")) {
        print_value(h, "outcome", b, sizeof b);
        snprintf(buf, sizeof buf, "%s (outcome %s)", a, b);
        cli_fmt_field(out, 0, PRINT_LABEL_WIDTH, "status", buf);
    } else {
        cli_fmt_field(out, 0, PRINT_LABEL_WIDTH, "status", a);
    }
    print_field(out, 0, "reason", h, "reason");
    print_field(out, 0, "from", h, "from");
    print_field(out, 0, "to", h, "to");
    print_field(out, 0, "direction", h, "direction");
    print_value(h, "service", a, sizeof a);
    if (*print_str(h, "service_name")) {
        print_value(h, "service_name", b, sizeof b);
        snprintf(buf, sizeof buf, "%s (%s)", a, b);
        cli_fmt_field(out, 0, PRINT_LABEL_WIDTH, "service", buf);
    } else {
        cli_fmt_field(out, 0, PRINT_LABEL_WIDTH, "service", a);
    }
    print_value(h, "mode", a, sizeof a);
    snprintf(buf, sizeof buf, "%s%s", a,
             json_is_true(json_object_get(h, "accompany")) ? ", peer supporter accompanies" : "");
    cli_fmt_field(out, 0, PRINT_LABEL_WIDTH, "mode", buf);
}

static void
print_handoff_times(FILE *out, const json_t *h)
{
    static const char *const times[][2] = {
        { "proposed", "proposed_at" }, { "created", "created_at" },     { "sent", "sent_at" },
        { "stored", "stored_at" },     { "delivered", "delivered_at" }, { "updated", "updated_at" },
    };
    for (size_t i = 0; i < PRINT_N(times); i++)
        print_field(out, 0, times[i][0], h, times[i][1]);
    char id[CLI_FMT_CELL_LEN], cats[CLI_FMT_CELL_LEN], buf[2 * CLI_FMT_CELL_LEN + 16];
    if (*print_str(h, "consent")) {
        print_value(h, "consent", id, sizeof id);
        print_value(h, "categories", cats, sizeof cats);
        snprintf(buf, sizeof buf, "%s (shares %s)", id, cats);
        cli_fmt_field(out, 0, PRINT_LABEL_WIDTH, "consent", buf);
    }
}

static void
print_person(FILE *out, const json_t *p)
{
    static const char *const fields[][2] = {
        { "name", "name" },
        { "contact", "contact" },
        { "prefers", "preferred_contact" },
        { "language", "language" },
        { "own words", "own_words" },
        { "needs", "needs" },
        { "notes", "notes" },
    };
    if (!json_is_object(p))
        return;
    fputs("person:\n", out);
    for (size_t i = 0; i < PRINT_N(fields); i++)
        print_field(out, 2, fields[i][0], p, fields[i][1]);
}

/* "2026-11-22T07:01:02.123Z  accepted  by bridge; reason: ..." */
static void
print_event(FILE *out, const json_t *e)
{
    char at[64], what[CLI_FMT_CELL_LEN], by[CLI_FMT_CELL_LEN], extra[CLI_FMT_CELL_LEN / 2];
    static const char *const extras[] = { "reason", "outcome", "mode" };
    print_value(e, "at", at, sizeof at);
    print_value(e, "by", by, sizeof by);
    if (*print_str(e, "milestone")) {
        print_value(e, "milestone", extra, sizeof extra);
        snprintf(what, sizeof what, "milestone %s", extra);
    } else {
        print_value(e, "status", what, sizeof what);
    }
    fprintf(out, "  %s  %s  by %s", at, what, by);
    for (size_t i = 0; i < PRINT_N(extras); i++) {
        if (!*print_str(e, extras[i]))
            continue;
        char clean[CLI_FMT_CELL_LEN];
        cli_fmt_clean(print_str(e, extras[i]), false, clean, sizeof clean);
        fprintf(out, "; %s: %s", extras[i], clean);
    }
    fputc('\n', out);
}

void
cli_print_handoff(FILE *out, const json_t *result)
{
    const json_t *events = json_object_get(result, "events");
    size_t i;
    json_t *e;
    print_handoff_head(out, result);
    print_handoff_times(out, result);
    print_person(out, json_object_get(result, "person"));
    if (json_is_true(json_object_get(result, "restricted")))
        print_field(out, 0, "restricted", result, "restricted_at");
    print_field(out, 0, "notice", result, "redisclosure_notice");
    fputs("events:\n", out);
    if (json_array_size(events) == 0)
        fputs("  (none)\n", out);
    json_array_foreach(events, i, e) print_event(out, e);
}

static void
cell_online(const json_t *row, char *buf, size_t len)
{
    if (json_is_true(json_object_get(row, "revoked")))
        snprintf(buf, len, "revoked");
    else
        snprintf(buf, len, "%s", json_is_true(json_object_get(row, "online")) ? "yes" : "no");
}

static void
cell_last_seen(const json_t *row, char *buf, size_t len)
{
    cli_fmt_short_time(json_object_get(row, "last_seen"), buf, len);
}

static void
print_admin_nodes(FILE *out, const json_t *result)
{
    static const cli_fmt_col_t cols[] = {
        { "AGENCY", "id", NULL, 0 },        { "NAME", "name", NULL, PRINT_NAME_WIDTH },
        { "ONLINE", NULL, cell_online, 0 }, { "LAST SEEN", NULL, cell_last_seen, 0 },
        { "QUEUED", "queued", NULL, 0 },
    };
    cli_fmt_table(out, cols, PRINT_N(cols), json_object_get(result, "agencies"),
                  "no agencies enrolled");
}

/* "median time to accept: 3 min 12 s" or "-" when there is no sample yet. */
static void
print_median(FILE *out, const char *label, const json_t *seconds, const char *samples)
{
    char value[128], text[256];
    if (!json_is_number(seconds)) {
        cli_fmt_field(out, 0, 0, label, "- (none yet)");
        return;
    }
    cli_fmt_duration(json_number_value(seconds), value, sizeof value);
    snprintf(text, sizeof text, "%s%s", value, samples);
    cli_fmt_field(out, 0, 0, label, text);
}

static void
print_admin_flow(FILE *out, const json_t *result)
{
    static const cli_fmt_col_t cols[] = {
        { "FROM", "from", NULL, 0 },
        { "TO", "to", NULL, 0 },
        { "STATUS", "status", NULL, 0 },
        { "COUNT", "count", NULL, 0 },
    };
    char n[64], samples[96];
    cli_fmt_table(out, cols, PRINT_N(cols), json_object_get(result, "flow"), "no handoffs yet");
    fputc('\n', out);
    print_value(result, "handoffs", n, sizeof n);
    cli_fmt_field(out, 0, 0, "handoffs", n);
    print_value(result, "accepted_samples", n, sizeof n);
    snprintf(samples, sizeof samples, " (over %s accepted)", n);
    print_median(out, "median time to accept", json_object_get(result, "median_accept_seconds"),
                 samples);
    print_median(out, "median time to first contact",
                 json_object_get(result, "median_first_contact_seconds"), "");
}

static void
print_admin_dead(FILE *out, const json_t *result)
{
    static const cli_fmt_col_t cols[] = {
        { "HANDOFF", "handoff_id", NULL, 0 },
        { "FROM", "from", NULL, 0 },
        { "TO", "to", NULL, 0 },
        { "STORED", "stored_at", NULL, 0 },
        { "EXPIRED", "expired_at", NULL, 0 },
    };
    cli_fmt_table(out, cols, PRINT_N(cols), json_object_get(result, "dead_letters"),
                  "no dead letters");
}

void
cli_print_admin(FILE *out, const json_t *result)
{
    if (json_object_get(result, "dead_letters"))
        print_admin_dead(out, result);
    else if (json_object_get(result, "flow"))
        print_admin_flow(out, result);
    else
        print_admin_nodes(out, result);
}

static void
cell_audit_at(const json_t *row, char *buf, size_t len)
{
    cli_fmt_short_time(json_object_get(row, "at"), buf, len);
}

void
cli_print_audit(FILE *out, const json_t *result)
{
    static const cli_fmt_col_t cols[] = {
        { "SEQ", "seq", NULL, 0 },
        { "AT", NULL, cell_audit_at, 0 },
        { "EVENT", "event", NULL, 0 },
        { "FROM", "discloser", NULL, 0 },
        { "TO", "recipient", NULL, 0 },
        { "PERSON", "person", NULL, 0 },
        { "CATEGORIES", "categories", NULL, 0 },
        { "CONSENT", "consent", NULL, 0 },
        { "HANDOFF", "handoff", NULL, 0 },
        { "ACTOR", "actor", NULL, 0 },
    };
    cli_fmt_table(out, cols, PRINT_N(cols), json_object_get(result, "entries"), "no audit entries");
}

void
cli_print_audit_verify(FILE *out, const json_t *result)
{
    json_int_t n = json_integer_value(json_object_get(result, "entries"));
    fprintf(out, "audit log valid: %lld entries\n", (long long)n);
}
