/* cli_table: every command of the refnet CLI, as data (see cli_table.h and cli_command.h).
 *
 * Limits come from proto/wire_limits.h so the CLI refuses what the network would refuse, with
 * the same numbers. Choice lists use the names of proto/enums.h; a unit test checks that every
 * word listed here parses there. */
#include "cli_table.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cli_print.h"
#include "clock.h"
#include "refnet_error.h"
#include "wire_limits.h"

#define TABLE_N(a)    (sizeof(a) / sizeof((a)[0]))
#define TABLE_OPTS(a) .opts = (a), .n_opts = TABLE_N(a)
#define TABLE_POS(a)  .pos = (a), .n_pos = TABLE_N(a)

/* The protocol's names for contact modes, outcomes, statuses, categories and milestones. */
#define CHOICES_MODE "in-person|phone|video"
#define CHOICES_OUTCOME                                                                            \
    "got-help|couldnt-contact|no-show|not-eligible|no-capacity|person-declined|re-routed|expired"
/* Handoff statuses (FHIR Task). */
#define CHOICES_STATUS "requested|accepted|rejected|in-progress|on-hold|completed|failed|cancelled"
/* Categories of person information a consent covers. */
#define CHOICES_CATEGORY  "contact|needs|own-words|notes|substance-use"
#define CHOICES_MILESTONE "introduced|first-contact-confirmed|follow-up-due|follow-up-done"
/* Half the Earth's circumference: every place is within this distance. */
#define TABLE_MAX_RADIUS_KM 20038.0
/* A handoff may live at most WIRE_MAX_TTL_MS (30 days). */
#define TABLE_MAX_TTL_HOURS 720
/* Largest page of search results the node returns (API.md). */
#define TABLE_MAX_LIMIT 1000
/* Highest page number the node accepts (API.md). */
#define TABLE_MAX_PAGE 1000000
/* Search orders (API.md "search"). */
#define CHOICES_SORT "default|distance|name|updated|available"

static int
table_fail(char *why, const char *text)
{
    snprintf(why, CLI_COMMAND_WHY_LEN, "%s", text);
    return REFNET_EINVAL;
}

/* --- service --------------------------------------------------------------------------------- */

static const cli_opt_t OPTS_PUBLISH[] = {
    { .flag = "id",
      .kind = CLI_OPT_STRING,
      .key = "id",
      .meta = "ID",
      .help = "the service's id, unique in the network (A-Z a-z 0-9 . _ : -)",
      .required = true },
    { .flag = "name",
      .kind = CLI_OPT_STRING,
      .key = "name",
      .meta = "NAME",
      .help = "the service's name as people know it",
      .required = true },
    { .flag = "taxonomy",
      .kind = CLI_OPT_LIST,
      .key = "taxonomy",
      .meta = "CODE[,CODE...]",
      .help = "taxonomy term codes, e.g. detox,peer-support",
      .required = true,
      .max = WIRE_MAX_TAXONOMY },
    { .flag = "description",
      .kind = CLI_OPT_STRING,
      .key = "description",
      .meta = "TEXT",
      .help = "what the service offers, for whom" },
    { .flag = "lat",
      .kind = CLI_OPT_NUMBER,
      .key = "lat",
      .meta = "LAT",
      .help = "latitude of its location (WGS84 degrees)",
      .min = -90,
      .max = 90 },
    { .flag = "lon",
      .kind = CLI_OPT_NUMBER,
      .key = "lon",
      .meta = "LON",
      .help = "longitude of its location (WGS84 degrees)",
      .min = -180,
      .max = 180 },
    { .flag = "language",
      .kind = CLI_OPT_LIST,
      .key = "languages",
      .meta = "CODE,...",
      .help = "languages served (ISO 639 codes)",
      .max = WIRE_MAX_LANGUAGES },
    { .flag = "capacity",
      .kind = CLI_OPT_INT,
      .key = "capacity",
      .meta = "N",
      .help = "total places",
      .max = WIRE_MAX_CAPACITY },
    { .flag = "available",
      .kind = CLI_OPT_INT,
      .key = "available",
      .meta = "N",
      .help = "places free now",
      .max = WIRE_MAX_CAPACITY },
    { .flag = "unit",
      .kind = CLI_OPT_STRING,
      .key = "unit",
      .meta = "UNIT",
      .help = "what is counted: bed, slot, appointment..." },
    { .flag = "accepting",
      .kind = CLI_OPT_YESNO,
      .key = "accepting",
      .meta = "yes|no",
      .help = "whether it accepts referrals now (default yes)" },
    { .flag = "waitlist",
      .kind = CLI_OPT_INT,
      .key = "waitlist",
      .meta = "N",
      .help = "people waiting",
      .max = WIRE_MAX_CAPACITY },
};

/* Places free cannot exceed places in total; a location needs both coordinates. */
static int
check_capacity(const json_t *args, char *why)
{
    const json_t *avail = json_object_get(args, "available");
    const json_t *cap = json_object_get(args, "capacity");
    if (avail && cap && json_integer_value(avail) > json_integer_value(cap))
        return table_fail(why, "--available cannot be more than --capacity");
    return 0;
}

static int
check_publish(const json_t *args, char *why)
{
    if (!json_object_get(args, "lat") != !json_object_get(args, "lon"))
        return table_fail(why, "a location needs both --lat and --lon");
    return check_capacity(args, why);
}

static const cli_pos_t POS_SERVICE_ID[] = {
    { .key = "id",
      .meta = "ID",
      .help = "the id of one of this agency's services",
      .required = true },
};

static const cli_opt_t OPTS_AVAILABILITY[] = {
    { .flag = "available",
      .kind = CLI_OPT_INT,
      .key = "available",
      .meta = "N",
      .help = "places free now",
      .required = true,
      .max = WIRE_MAX_CAPACITY },
    { .flag = "capacity",
      .kind = CLI_OPT_INT,
      .key = "capacity",
      .meta = "N",
      .help = "total places (unchanged when not given)",
      .max = WIRE_MAX_CAPACITY },
    { .flag = "waitlist",
      .kind = CLI_OPT_INT,
      .key = "waitlist",
      .meta = "N",
      .help = "people waiting (unchanged when not given)",
      .max = WIRE_MAX_CAPACITY },
    { .flag = "accepting",
      .kind = CLI_OPT_YESNO,
      .key = "accepting",
      .meta = "yes|no",
      .help = "whether it accepts referrals now (unchanged when not given)" },
};

/* --- search ---------------------------------------------------------------------------------- */

static const cli_pos_t POS_SEARCH[] = {
    { .key = "text",
      .meta = "TEXT",
      .help = "words that must all appear in the name, description or taxonomy codes",
      .rest = true },
};

static const cli_opt_t OPTS_SEARCH[] = {
    { .flag = "taxonomy",
      .kind = CLI_OPT_STRING,
      .key = "taxonomy",
      .meta = "CODE",
      .help = "only this taxonomy code (or codes under it, e.g. detox for detox-youth)" },
    { .flag = "near",
      .kind = CLI_OPT_LATLON,
      .key = "near",
      .meta = "LAT,LON",
      .help = "sort by distance from this place and show distance_km" },
    { .flag = "radius-km",
      .kind = CLI_OPT_NUMBER,
      .key = "radius_km",
      .meta = "R",
      .help = "only services within R km of --near",
      .max = TABLE_MAX_RADIUS_KM },
    { .flag = "available",
      .kind = CLI_OPT_FLAG,
      .key = "available",
      .meta = NULL,
      .help = "only services with places free that accept referrals" },
    { .flag = "accepting",
      .kind = CLI_OPT_FLAG,
      .key = "accepting",
      .meta = NULL,
      .help = "only services accepting referrals" },
    { .flag = "language",
      .kind = CLI_OPT_STRING,
      .key = "language",
      .meta = "CODE",
      .help = "only services offered in this language (ISO 639 code, e.g. es)" },
    { .flag = "age",
      .kind = CLI_OPT_INT,
      .key = "age",
      .meta = "YEARS",
      .help = "only services whose age range includes YEARS",
      .min = 0,
      .max = WIRE_MAX_AGE },
    { .flag = "open-now",
      .kind = CLI_OPT_FLAG,
      .key = "open_now",
      .meta = NULL,
      .help = "only services whose schedule is open now (node's local time)" },
    { .flag = "sort",
      .kind = CLI_OPT_CHOICE,
      .key = "sort",
      .meta = CHOICES_SORT,
      .help = "order: ready (available, accepting, fresh) first, then distance (default); "
              "or distance, name, updated, available",
      .choices = CHOICES_SORT },
    { .flag = "limit",
      .kind = CLI_OPT_INT,
      .key = "limit",
      .meta = "N",
      .help = "at most N results per page (default 50)",
      .min = 1,
      .max = TABLE_MAX_LIMIT },
    { .flag = "page",
      .kind = CLI_OPT_INT,
      .key = "page",
      .meta = "P",
      .help = "show page P of the results (default 1)",
      .min = 1,
      .max = TABLE_MAX_PAGE },
};

static int
check_search(const json_t *args, char *why)
{
    if (json_object_get(args, "radius_km") && !json_object_get(args, "near"))
        return table_fail(why, "--radius-km needs --near LAT,LON");
    return 0;
}

/* --- person and consent ---------------------------------------------------------------------- */

static const cli_opt_t OPTS_PERSON_ADD[] = {
    { .flag = "name",
      .kind = CLI_OPT_STRING,
      .key = "name",
      .meta = "NAME",
      .help = "the person's name as they want it written (required unless --from-handoff)" },
    { .flag = "from-handoff",
      .kind = CLI_OPT_STRING,
      .key = "from_handoff",
      .meta = "ID",
      .help = "take the person from a received handoff's shared data (refused once restricted)" },
    { .flag = "contact",
      .kind = CLI_OPT_STRING,
      .key = "contact",
      .meta = "TEXT",
      .help = "how to reach them: phone, e-mail, instructions" },
    { .flag = "preferred-contact",
      .kind = CLI_OPT_CHOICE,
      .key = "preferred_contact",
      .meta = CHOICES_MODE,
      .help = "how they prefer to be contacted",
      .choices = CHOICES_MODE },
    { .flag = "language",
      .kind = CLI_OPT_STRING,
      .key = "language",
      .meta = "CODE",
      .help = "preferred language (ISO 639 code)" },
};

static const cli_opt_t OPTS_CONSENT_GRANT[] = {
    { .flag = "person",
      .kind = CLI_OPT_STRING,
      .key = "person",
      .meta = "P",
      .help = "the person's id (from person add)",
      .required = true },
    { .flag = "to",
      .kind = CLI_OPT_STRING,
      .key = "to",
      .meta = "AGENCY",
      .help = "the agency that may receive, or * for any agency in the network",
      .required = true },
    { .flag = "purpose",
      .kind = CLI_OPT_STRING,
      .key = "purpose",
      .meta = "PURPOSE",
      .help = "what the disclosure is for: referral",
      .required = true },
    { .flag = "share",
      .kind = CLI_OPT_LIST,
      .key = "share",
      .meta = "CATEGORY[,...]",
      .help = "what may be shared: " CHOICES_CATEGORY,
      .required = true,
      .max = WIRE_MAX_CATEGORIES,
      .choices = CHOICES_CATEGORY },
    { .flag = "expires",
      .kind = CLI_OPT_STRING,
      .key = "expires",
      .meta = "YYYY-MM-DD",
      .help = "last day the consent is valid (UTC)" },
    { .flag = "expires-on-event",
      .kind = CLI_OPT_STRING,
      .key = "expires_on_event",
      .meta = "EVENT",
      .help = "an event that ends the consent, e.g. end-of-treatment" },
    { .flag = "obtained",
      .kind = CLI_OPT_CHOICE,
      .key = "obtained",
      .meta = "signed|verbal-witnessed",
      .help = "how the consent was obtained",
      .choices = "signed|verbal-witnessed" },
    { .flag = "recorded-by",
      .kind = CLI_OPT_STRING,
      .key = "recorded_by",
      .meta = "NAME",
      .help = "who recorded the consent" },
};

/* A person is typed in, or taken from a received handoff: one of the two. */
static int
check_person_add(const json_t *args, char *why)
{
    bool from = json_object_get(args, "from_handoff") != NULL;
    if (from == (json_object_get(args, "name") != NULL))
        return table_fail(why, "person add needs --name NAME, or --from-handoff ID instead");
    if (from && (json_object_get(args, "contact") || json_object_get(args, "preferred_contact") ||
                 json_object_get(args, "language")))
        return table_fail(why, "--from-handoff takes the person's details from the handoff");
    return 0;
}

/* Every consent ends: by a date, an event, or both. */
static int
check_consent(const json_t *args, char *why)
{
    const char *expires = json_string_value(json_object_get(args, "expires"));
    uint64_t ms;
    if (!expires && !json_object_get(args, "expires_on_event"))
        return table_fail(why, "a consent needs --expires YYYY-MM-DD or --expires-on-event EVENT");
    if (expires && clock_parse_date_end(expires, &ms) != 0)
        return table_fail(why, "--expires needs a real date as YYYY-MM-DD");
    return 0;
}

static const cli_pos_t POS_CONSENT_ID[] = {
    { .key = "id", .meta = "ID", .help = "the consent's id", .required = true },
};

static const cli_opt_t OPTS_CONSENT_LIST[] = {
    { .flag = "person",
      .kind = CLI_OPT_STRING,
      .key = "person",
      .meta = "P",
      .help = "only this person's consents" },
};

/* --- audit ----------------------------------------------------------------------------------- */

static const cli_opt_t OPTS_AUDIT_LIST[] = {
    { .flag = "person",
      .kind = CLI_OPT_STRING,
      .key = "person",
      .meta = "P",
      .help = "only this person's entries" },
    { .flag = "since",
      .kind = CLI_OPT_STRING,
      .key = "since",
      .meta = "DATE",
      .help = "only entries from this day on (YYYY-MM-DD, UTC)" },
};

static int
check_audit_list(const json_t *args, char *why)
{
    const char *since = json_string_value(json_object_get(args, "since"));
    uint64_t ms;
    if (since && clock_parse_date_end(since, &ms) != 0)
        return table_fail(why, "--since needs a real date as YYYY-MM-DD");
    return 0;
}

/* --- handoff --------------------------------------------------------------------------------- */

static const cli_opt_t OPTS_HANDOFF_START[] = {
    { .flag = "person",
      .kind = CLI_OPT_STRING,
      .key = "person",
      .meta = "P",
      .help = "the person's id (from person add)",
      .required = true },
    { .flag = "service",
      .kind = CLI_OPT_STRING,
      .key = "service",
      .meta = "SERVICE_ID",
      .help = "the service to hand off to (from search)",
      .required = true },
    { .flag = "note",
      .kind = CLI_OPT_STRING,
      .key = "note",
      .meta = "TEXT",
      .help = "the peer supporter's notes for the receiving agency" },
    { .flag = "own-words",
      .kind = CLI_OPT_STRING,
      .key = "own_words",
      .meta = "TEXT",
      .help = "the person's goals in their own words" },
    { .flag = "needs",
      .kind = CLI_OPT_STRING,
      .key = "needs",
      .meta = "TEXT",
      .help = "a summary of needs" },
    { .flag = "mode",
      .kind = CLI_OPT_CHOICE,
      .key = "mode",
      .meta = CHOICES_MODE,
      .help = "how the introduction happens",
      .choices = CHOICES_MODE },
    { .flag = "accompany",
      .kind = CLI_OPT_FLAG,
      .key = "accompany",
      .meta = NULL,
      .help = "the peer supporter goes with the person" },
    { .flag = "substance-use",
      .kind = CLI_OPT_FLAG,
      .key = "substance_use",
      .meta = NULL,
      .help = "what is shared includes substance-use information (42 CFR Part 2): needs a "
              "consent naming substance-use; the Part 2 redisclosure notice travels with it" },
    { .flag = "proposed-at",
      .kind = CLI_OPT_STRING,
      .key = "proposed_at",
      .meta = "TIME",
      .help = "proposed first meeting, ISO 8601 (2026-11-22T15:00:00Z)" },
    { .flag = "ttl-hours",
      .kind = CLI_OPT_INT,
      .key = "ttl_hours",
      .meta = "N",
      .help = "hours the referral may wait for delivery",
      .min = 1,
      .max = TABLE_MAX_TTL_HOURS },
};

static const cli_pos_t POS_HANDOFF_ID[] = {
    { .key = "id", .meta = "ID", .help = "the handoff's id", .required = true },
};

static const cli_opt_t OPTS_HANDOFF_UPDATE[] = {
    { .flag = "reason",
      .kind = CLI_OPT_STRING,
      .key = "reason",
      .meta = "TEXT",
      .help = "why; required to decline, hold, fail or cancel" },
    { .flag = "outcome",
      .kind = CLI_OPT_CHOICE,
      .key = "outcome",
      .meta = "CODE",
      .help = "outcome: " CHOICES_OUTCOME,
      .choices = CHOICES_OUTCOME },
};

static const cli_opt_t OPTS_HANDOFF_LIST[] = {
    { .flag = "inbox",
      .kind = CLI_OPT_CONST,
      .key = "box",
      .meta = NULL,
      .help = "only handoffs this agency received",
      .value = "inbox" },
    { .flag = "outbox",
      .kind = CLI_OPT_CONST,
      .key = "box",
      .meta = NULL,
      .help = "only handoffs this agency sent",
      .value = "outbox" },
    { .flag = "status",
      .kind = CLI_OPT_CHOICE,
      .key = "status",
      .meta = "S",
      .help = "only handoffs with this status: " CHOICES_STATUS,
      .choices = CHOICES_STATUS },
};

static const cli_pos_t POS_MILESTONE[] = {
    { .key = "id", .meta = "ID", .help = "the handoff's id", .required = true },
    { .key = "milestone",
      .meta = "MILESTONE",
      .help = CHOICES_MILESTONE,
      .required = true,
      .choices = CHOICES_MILESTONE },
};

static const cli_opt_t OPTS_MILESTONE[] = {
    { .flag = "mode",
      .kind = CLI_OPT_CHOICE,
      .key = "mode",
      .meta = CHOICES_MODE,
      .help = "how it happened (for introduced)",
      .choices = CHOICES_MODE },
};

/* --- admin ----------------------------------------------------------------------------------- */

static const cli_pos_t POS_ADMIN[] = {
    { .key = "what",
      .meta = "nodes|flow|dead-letters",
      .help = "nodes: enrolled agencies and presence; flow: handoff counts and timings; "
              "dead-letters: messages that expired undelivered",
      .required = true,
      .local = true,
      .choices = "nodes|flow|dead-letters" },
};

static const cli_opt_t OPTS_ADMIN[] = {
    { .flag = "broker-data",
      .kind = CLI_OPT_STRING,
      .key = "broker_data",
      .meta = "DIR",
      .help = "the broker's data folder (or REFNET_BROKER_DATA)",
      .local = true },
};

/* --- directory import / export (HSDS 3.0) ---------------------------------------------------- */

static const cli_pos_t POS_IMPORT[] = {
    { .key = "path",
      .meta = "PATH",
      .help = "an HSDS 3.0 CSV datapackage folder, or an HSDS JSON file",
      .required = true },
};

static const cli_pos_t POS_EXPORT[] = {
    { .key = "dir",
      .meta = "DIR",
      .help = "the folder to write (created if missing)",
      .required = true },
};

static const cli_opt_t OPTS_EXPORT[] = {
    { .flag = "format",
      .kind = CLI_OPT_CHOICE,
      .key = "format",
      .meta = "FORMAT",
      .help = "hsds-json: DIR/organizations/ID.json and DIR/services/ID.json; hsds-csv: a "
              "datapackage folder",
      .required = true,
      .choices = "hsds-json|hsds-csv" },
    { .flag = "own",
      .kind = CLI_OPT_FLAG,
      .key = "own",
      .help = "only this agency's own records, not the rest of the directory" },
};

/* The node reads and writes the files itself and does not share this process's working
 * folder, so a relative path is made absolute here. This is the one check that amends the
 * arguments it checks. */
static int
table_absolute(const json_t *args, const char *key, char *why)
{
    char cwd[4096], buf[8192];
    const char *p = json_string_value(json_object_get(args, key));
    if (!p || p[0] == '/')
        return 0;
    if (!getcwd(cwd, sizeof cwd))
        return table_fail(why, "cannot read the working folder to make the path absolute");
    int n = snprintf(buf, sizeof buf, "%s/%s", cwd, p);
    if (n < 0 || (size_t)n >= sizeof buf)
        return table_fail(why, "the path is too long");
    json_object_set_new((json_t *)args, key, json_string(buf));
    return 0;
}

static int
check_import(const json_t *args, char *why)
{
    return table_absolute(args, "path", why);
}

static int
check_export(const json_t *args, char *why)
{
    return table_absolute(args, "dir", why);
}

/* --- the table ------------------------------------------------------------------------------- */

/* The receiving agency's actions (and cancel, either side's) differ only in words. */
#define HANDOFF_ACTION(act, summary_, help_)                                                       \
    {                                                                                              \
        .name = "handoff", .sub = act, .summary = summary_, .op = "handoff.update",                \
        .fixed_key = "action", .fixed_value = act, TABLE_POS(POS_HANDOFF_ID),                      \
        TABLE_OPTS(OPTS_HANDOFF_UPDATE), .print = cli_print_handoff_status,                        \
        .help =                                                                                    \
            help_ " The state machine decides who may do this and from which status; a refusal "   \
                  "names the rule and exits 3."                                                    \
    }

static const cli_command_t TABLE[] = {
    { .name = "status",
      .summary = "this node's agency, broker connection and directory position",
      .help = "Prints the node's agency, whether it is connected to the broker (true from the "
              "broker's Welcome until the connection drops: three missed heartbeats), the "
              "directory sequence number it has applied, its broker endpoint, the messages "
              "waiting in its outbox and the services in its directory replica.",
      .op = "status",
      .print = cli_print_kv },
    { .name = "service",
      .sub = "publish",
      .summary = "publish or replace one of this agency's services",
      .help = "Publishes a service of this agency to the whole network's directory, or replaces it "
              "when the id exists. The broker refuses an id that belongs to another agency (exit "
              "3). When the broker does not answer within 5 s the change stays queued in the "
              "node's outbox and is sent on reconnect.",
      .op = "service.publish",
      TABLE_OPTS(OPTS_PUBLISH),
      .check = check_publish,
      .print = cli_print_dir_change },
    { .name = "service",
      .sub = "availability",
      .summary = "update places free, capacity, waitlist, accepting",
      .help = "Updates the availability of one of this agency's services. Values not given keep "
              "their current values.",
      .op = "service.availability",
      TABLE_POS(POS_SERVICE_ID),
      TABLE_OPTS(OPTS_AVAILABILITY),
      .check = check_capacity,
      .print = cli_print_dir_change },
    { .name = "service",
      .sub = "withdraw",
      .summary = "withdraw one of this agency's services",
      .help = "Withdraws one of this agency's services from the network's directory.",
      .op = "service.withdraw",
      TABLE_POS(POS_SERVICE_ID),
      .print = cli_print_dir_change },
    { .name = "search",
      .summary = "search the local replica of the network's directory",
      .help = "Searches this node's replica of the directory, which works while the broker is "
              "down. Every word of TEXT must be a word of the name, description or a taxonomy "
              "code, ignoring case. --taxonomy also matches the codes under it. Results that "
              "are available, accepting and fresh come first, then by distance from --near "
              "(which adds distance_km), then by name. Availability older than the node's "
              "--stale-after-s (default 24 h) is marked stale. --json prints an HSDS API page: "
              "total_items, total_pages, page_number, size, contents.",
      .op = "search",
      TABLE_POS(POS_SEARCH),
      TABLE_OPTS(OPTS_SEARCH),
      .check = check_search,
      .print = cli_print_services },
    { .name = "directory",
      .sub = "import",
      .summary = "import this agency's HSDS 3.0 records and publish its services",
      .help = "Imports an HSDS 3.0 CSV datapackage folder or an HSDS JSON file (one object, a "
              "list, or a page with contents) into this node, and publishes every imported "
              "service that has a taxonomy term to the network's directory. Only records of "
              "this agency's own organization (refnet-node init --organization-id) are taken; "
              "others are refused and listed. A bad row names its file, row and field, and "
              "nothing is imported.",
      .op = "directory.import",
      TABLE_POS(POS_IMPORT),
      .check = check_import,
      .print = cli_print_kv },
    { .name = "directory",
      .sub = "export",
      .summary = "export the directory as HSDS 3.0 JSON or CSV",
      .help = "Writes this agency's HSDS records and, without --own, every other service of "
              "the directory replica as a minimal HSDS service, to DIR.",
      .op = "directory.export",
      TABLE_POS(POS_EXPORT),
      TABLE_OPTS(OPTS_EXPORT),
      .check = check_export,
      .print = cli_print_kv },
    { .name = "directory",
      .sub = "verify",
      .summary = "check that this node's directory replica equals the broker's",
      .help = "Asks the broker for the digest of its directory at its current sequence number "
              "and compares it with this node's replica at the same number (asking again while "
              "the node catches up, for up to 5 s). Prints equal, seq, services and digest; a "
              "difference is reported with both counts and exits 1.",
      .op = "directory.verify",
      .print = cli_print_kv },
    { .name = "person",
      .sub = "add",
      .summary = "record a person (kept on this node only); prints the id",
      .help = "Records a person in this node's store; nothing about them leaves the node without "
              "their consent. With --from-handoff, takes the person a received handoff shared "
              "(refused once the sending agency revoked the consent). Prints the new person id.",
      .op = "person.add",
      TABLE_OPTS(OPTS_PERSON_ADD),
      .check = check_person_add,
      .print = cli_print_id },
    { .name = "person",
      .sub = "list",
      .summary = "list the persons recorded on this node",
      .help = "Lists the persons recorded on this node.",
      .op = "person.list",
      .print = cli_print_persons },
    { .name = "consent",
      .sub = "grant",
      .summary = "record a person's consent to share; prints the id",
      .help = "Records a person's consent: which agency may receive (or * for any agency in the "
              "network), for what purpose, which categories of information, and until when. Every "
              "consent ends, by --expires or --expires-on-event. Prints the new consent id.",
      .op = "consent.grant",
      TABLE_OPTS(OPTS_CONSENT_GRANT),
      .check = check_consent,
      .print = cli_print_id },
    { .name = "consent",
      .sub = "revoke",
      .summary = "revoke a consent now, and tell the agencies that received data",
      .help = "Revokes a consent at once: no new handoff can rely on it, and every agency that "
              "received the person's data under it is sent a revocation; it restricts that data "
              "(never shown or sent onward) and acknowledges. consent show lists the "
              "acknowledgements.",
      .op = "consent.revoke",
      TABLE_POS(POS_CONSENT_ID),
      .print = cli_print_revoked },
    { .name = "consent",
      .sub = "list",
      .summary = "list consents and whether each is valid",
      .help = "Lists the consents recorded on this node, or one person's, with whether each is "
              "valid now.",
      .op = "consent.list",
      TABLE_OPTS(OPTS_CONSENT_LIST),
      .print = cli_print_consents },
    { .name = "consent",
      .sub = "show",
      .summary = "show one consent in full",
      .help = "Shows every element of one consent: person, discloser, recipient, intermediary, "
              "purpose, categories, dates, how it was obtained and by whom, and its revocation "
              "with each agency told: \"revocation acknowledged by AGENCY at TIME\", or pending.",
      .op = "consent.show",
      TABLE_POS(POS_CONSENT_ID),
      .print = cli_print_consent },
    { .name = "handoff",
      .sub = "start",
      .summary = "start a warm handoff to a service; prints the id",
      .help =
          "Starts a warm handoff of a person to a service of another agency. A valid consent of "
          "the person must cover that agency, the purpose referral and every category sent "
          "(contact when the person has contact details, own-words, needs and notes when given, "
          "substance-use with --substance-use, which only a consent naming it covers and which "
          "sends the 42 CFR Part 2 redisclosure notice along); a person whose data came from a "
          "handoff now restricted is never sent onward. Otherwise nothing leaves the node and "
          "the command exits 3. Prints the new handoff id.",
      .op = "handoff.start",
      TABLE_OPTS(OPTS_HANDOFF_START),
      .print = cli_print_id },
    HANDOFF_ACTION("accept",
                   "accept a requested handoff (receiver)",
                   "Accepts a requested handoff; the receiving agency does this."),
    HANDOFF_ACTION(
        "decline",
        "decline a requested handoff, with --reason (receiver)",
        "Declines a requested handoff; the receiving agency does this and gives a --reason."),
    HANDOFF_ACTION(
        "begin",
        "first contact made, work begun (receiver)",
        "Records that first contact was made and work has begun; the receiving agency does this."),
    HANDOFF_ACTION("hold",
                   "put on hold, with --reason, e.g. waitlist (receiver)",
                   "Puts a handoff on hold, e.g. on a waitlist; the receiving agency does this and "
                   "gives a --reason."),
    HANDOFF_ACTION("complete",
                   "complete, with --outcome (receiver)",
                   "Completes a handoff, usually with an --outcome such as got-help; the receiving "
                   "agency does this."),
    HANDOFF_ACTION("fail",
                   "record that it failed, with --reason (receiver)",
                   "Records that a handoff failed (could not reach the person, no-show, not "
                   "eligible, no capacity); the receiving agency does this and gives a --reason, "
                   "and may give an --outcome."),
    HANDOFF_ACTION("cancel",
                   "cancel, with --reason (either agency)",
                   "Cancels a handoff; either agency may, with a --reason. \"The person chose not "
                   "to go\" is a reason: use --outcome person-declined."),
    { .name = "handoff",
      .sub = "list",
      .summary = "list handoffs sent and received",
      .help = "Lists the handoffs this agency sent (outbox) and received (inbox), newest first. "
              "Person data is not listed.",
      .op = "handoff.list",
      TABLE_OPTS(OPTS_HANDOFF_LIST),
      .print = cli_print_handoffs },
    { .name = "handoff",
      .sub = "show",
      .summary = "show one handoff with the person's data and history",
      .help = "Shows one handoff: status, agencies, service, times, the person's shared data (a "
              "[restricted] stub once the consent was revoked), the 42 CFR Part 2 notice when "
              "substance-use data was shared, and the event history.",
      .op = "handoff.show",
      TABLE_POS(POS_HANDOFF_ID),
      .print = cli_print_handoff },
    { .name = "handoff",
      .sub = "milestone",
      .summary = "record a warm-handoff milestone",
      .help = "Records a warm-handoff milestone: introduced (the introduction happened with the "
              "person present; give --mode), first-contact-confirmed (by the receiving agency), "
              "follow-up-due and follow-up-done (the peer supporter's check-ins).",
      .op = "handoff.milestone",
      TABLE_POS(POS_MILESTONE),
      TABLE_OPTS(OPTS_MILESTONE),
      .print = cli_print_milestone },
    { .name = "audit",
      .summary = "the accounting of disclosures: consents and data sent and received",
      .help = "Lists this node's audit log: every consent granted, revoked or expired, every "
              "disclosure sent, every person's data received, every revocation sent, "
              "acknowledged or applied (data restricted), with the agencies, the person, the "
              "categories, the consent it rests on, the handoff, who acted and the message id. "
              "refnet audit verify checks that none was altered.",
      .op = "audit.list",
      TABLE_OPTS(OPTS_AUDIT_LIST),
      .check = check_audit_list,
      .print = cli_print_audit },
    { .name = "audit",
      .sub = "verify",
      .summary = "check that no audit entry was altered, removed or reordered",
      .help = "Walks the audit log's hash chain. Exits 0 when every entry verifies; otherwise "
              "exits 1 naming the first entry that was altered, removed or moved.",
      .op = "audit.verify",
      .print = cli_print_audit_verify },
    { .name = "admin",
      .summary = "the broker's view: enrolled agencies, or the handoff flow",
      .help = "Asks the broker, through its admin socket in its data folder, for the enrolled "
              "agencies and their presence (nodes) or for the handoff counts by sender, receiver "
              "and status with the median time to accept and to first contact (flow), or for "
              "the messages that expired before delivery (dead-letters). Run it on "
              "the broker's host as the broker's user. It never shows person data.",
      .target = CLI_TARGET_BROKER,
      TABLE_POS(POS_ADMIN),
      TABLE_OPTS(OPTS_ADMIN),
      .print = cli_print_admin },
};

const cli_command_t *
cli_table_commands(size_t *n)
{
    *n = TABLE_N(TABLE);
    return TABLE;
}

const cli_command_t *
cli_table_find(const char *name, const char *sub)
{
    for (size_t i = 0; i < TABLE_N(TABLE); i++) {
        const cli_command_t *c = &TABLE[i];
        if (strcmp(c->name, name) != 0)
            continue;
        if (!c->sub && !sub)
            return c;
        if (c->sub && sub && strcmp(c->sub, sub) == 0)
            return c;
    }
    return NULL;
}

bool
cli_table_has_subs(const char *name)
{
    for (size_t i = 0; i < TABLE_N(TABLE); i++)
        if (strcmp(TABLE[i].name, name) == 0 && TABLE[i].sub)
            return true;
    return false;
}

bool
cli_table_known(const char *name)
{
    for (size_t i = 0; i < TABLE_N(TABLE); i++)
        if (strcmp(TABLE[i].name, name) == 0)
            return true;
    return false;
}
