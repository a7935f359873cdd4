/* enums: the text names of the protocol's enums (see enums.h).
 *
 * One table per enum maps values to the names the CLI, the local API and JSON use; both
 * directions look the same table up, so a name and its value can never drift apart. Parsing
 * ignores case and accepts '_' for '-', so "IN_PROGRESS" and "in-progress" are the same status;
 * the "unspecified" zero values have a name but are never parsed, because no user ever means
 * them. Stateless; the tables are const. */
#include "enums.h"

#include <stdbool.h>
#include <stddef.h>

#include "refnet_error.h"

typedef struct {
    int value;
    const char *name;
} enums_entry_t;

#define ENUMS_N(table) (sizeof(table) / sizeof((table)[0]))

/* Name of every zero ("unspecified") value, which callers print but users never type. */
#define ENUMS_UNSPECIFIED "unspecified"
#define ENUMS_UNKNOWN     "unknown"

static const enums_entry_t ENUMS_STATUS[] = {
    { REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED, "requested" },
    { REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED, "accepted" },
    { REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REJECTED, "rejected" },
    { REFNET__HANDOFF_STATUS__HANDOFF_STATUS_IN_PROGRESS, "in-progress" },
    { REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD, "on-hold" },
    { REFNET__HANDOFF_STATUS__HANDOFF_STATUS_COMPLETED, "completed" },
    { REFNET__HANDOFF_STATUS__HANDOFF_STATUS_FAILED, "failed" },
    { REFNET__HANDOFF_STATUS__HANDOFF_STATUS_CANCELLED, "cancelled" },
};

static const enums_entry_t ENUMS_MILESTONE[] = {
    { REFNET__MILESTONE__MILESTONE_INTRODUCED, "introduced" },
    { REFNET__MILESTONE__MILESTONE_FIRST_CONTACT_CONFIRMED, "first-contact-confirmed" },
    { REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DUE, "follow-up-due" },
    { REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DONE, "follow-up-done" },
};

static const enums_entry_t ENUMS_OUTCOME[] = {
    { REFNET__OUTCOME__OUTCOME_GOT_HELP, "got-help" },
    { REFNET__OUTCOME__OUTCOME_COULDNT_CONTACT, "couldnt-contact" },
    { REFNET__OUTCOME__OUTCOME_NO_SHOW, "no-show" },
    { REFNET__OUTCOME__OUTCOME_NOT_ELIGIBLE, "not-eligible" },
    { REFNET__OUTCOME__OUTCOME_NO_CAPACITY, "no-capacity" },
    { REFNET__OUTCOME__OUTCOME_PERSON_DECLINED, "person-declined" },
    { REFNET__OUTCOME__OUTCOME_RE_ROUTED, "re-routed" },
    { REFNET__OUTCOME__OUTCOME_EXPIRED, "expired" },
};

static const enums_entry_t ENUMS_MODE[] = {
    { REFNET__CONTACT_MODE__CONTACT_MODE_IN_PERSON, "in-person" },
    { REFNET__CONTACT_MODE__CONTACT_MODE_PHONE, "phone" },
    { REFNET__CONTACT_MODE__CONTACT_MODE_VIDEO, "video" },
};

static const enums_entry_t ENUMS_CATEGORY[] = {
    { REFNET__CATEGORY__CATEGORY_CONTACT, "contact" },
    { REFNET__CATEGORY__CATEGORY_NEEDS, "needs" },
    { REFNET__CATEGORY__CATEGORY_OWN_WORDS, "own-words" },
    { REFNET__CATEGORY__CATEGORY_NOTES, "notes" },
    { REFNET__CATEGORY__CATEGORY_SUBSTANCE_USE, "substance-use" },
};

static const enums_entry_t ENUMS_CAPACITY_STATUS[] = {
    { REFNET__CAPACITY_STATUS__CAPACITY_STATUS_CAPACITY, "capacity" },
    { REFNET__CAPACITY_STATUS__CAPACITY_STATUS_NO_CAPACITY, "no-capacity" },
    { REFNET__CAPACITY_STATUS__CAPACITY_STATUS_WAITLIST, "waitlist" },
    { REFNET__CAPACITY_STATUS__CAPACITY_STATUS_ADDITIONAL_ASSESSMENT_REQUIRED,
      "additional-assessment-required" },
};

static const char *
enums_lookup_name(const enums_entry_t *table, size_t n, int value)
{
    if (value == 0)
        return ENUMS_UNSPECIFIED;
    for (size_t i = 0; i < n; i++)
        if (table[i].value == value)
            return table[i].name;
    return ENUMS_UNKNOWN;
}

static char
enums_fold(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    if (c == '_')
        return '-';
    return c;
}

static bool
enums_same(const char *text, const char *name)
{
    size_t i = 0;
    for (; text[i] && name[i]; i++)
        if (enums_fold(text[i]) != name[i])
            return false;
    return text[i] == '\0' && name[i] == '\0';
}

static int
enums_lookup_value(const enums_entry_t *table, size_t n, const char *name, int *out)
{
    if (!name)
        return REFNET_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (enums_same(name, table[i].name)) {
            *out = table[i].value;
            return 0;
        }
    }
    return REFNET_EINVAL;
}

const char *
enums_status_name(Refnet__HandoffStatus s)
{
    return enums_lookup_name(ENUMS_STATUS, ENUMS_N(ENUMS_STATUS), (int)s);
}

int
enums_status_parse(const char *name, Refnet__HandoffStatus *out)
{
    int v = 0;
    int rc = enums_lookup_value(ENUMS_STATUS, ENUMS_N(ENUMS_STATUS), name, &v);
    if (rc == 0 && out)
        *out = (Refnet__HandoffStatus)v;
    return rc;
}

const char *
enums_milestone_name(Refnet__Milestone m)
{
    return enums_lookup_name(ENUMS_MILESTONE, ENUMS_N(ENUMS_MILESTONE), (int)m);
}

int
enums_milestone_parse(const char *name, Refnet__Milestone *out)
{
    int v = 0;
    int rc = enums_lookup_value(ENUMS_MILESTONE, ENUMS_N(ENUMS_MILESTONE), name, &v);
    if (rc == 0 && out)
        *out = (Refnet__Milestone)v;
    return rc;
}

const char *
enums_outcome_name(Refnet__Outcome o)
{
    return enums_lookup_name(ENUMS_OUTCOME, ENUMS_N(ENUMS_OUTCOME), (int)o);
}

int
enums_outcome_parse(const char *name, Refnet__Outcome *out)
{
    int v = 0;
    int rc = enums_lookup_value(ENUMS_OUTCOME, ENUMS_N(ENUMS_OUTCOME), name, &v);
    if (rc == 0 && out)
        *out = (Refnet__Outcome)v;
    return rc;
}

const char *
enums_mode_name(Refnet__ContactMode m)
{
    return enums_lookup_name(ENUMS_MODE, ENUMS_N(ENUMS_MODE), (int)m);
}

int
enums_mode_parse(const char *name, Refnet__ContactMode *out)
{
    int v = 0;
    int rc = enums_lookup_value(ENUMS_MODE, ENUMS_N(ENUMS_MODE), name, &v);
    if (rc == 0 && out)
        *out = (Refnet__ContactMode)v;
    return rc;
}

const char *
enums_category_name(Refnet__Category c)
{
    return enums_lookup_name(ENUMS_CATEGORY, ENUMS_N(ENUMS_CATEGORY), (int)c);
}

int
enums_category_parse(const char *name, Refnet__Category *out)
{
    int v = 0;
    int rc = enums_lookup_value(ENUMS_CATEGORY, ENUMS_N(ENUMS_CATEGORY), name, &v);
    if (rc == 0 && out)
        *out = (Refnet__Category)v;
    return rc;
}

const char *
enums_capacity_status_name(Refnet__CapacityStatus s)
{
    return enums_lookup_name(ENUMS_CAPACITY_STATUS, ENUMS_N(ENUMS_CAPACITY_STATUS), (int)s);
}

int
enums_capacity_status_parse(const char *name, Refnet__CapacityStatus *out)
{
    int v = 0;
    int rc = enums_lookup_value(ENUMS_CAPACITY_STATUS, ENUMS_N(ENUMS_CAPACITY_STATUS), name, &v);
    if (rc == 0 && out)
        *out = (Refnet__CapacityStatus)v;
    return rc;
}
