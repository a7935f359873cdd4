/* Unit tests of cli_table: every command is complete, consistent and speaks the protocol's
 * names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cli_table.h"
#include "enums.h"
#include "refnet_error.h"

/* The commands issue 2 asks for, by their words. */
static const char *const REQUIRED[][2] = {
    { "status", NULL },         { "service", "publish" },  { "service", "availability" },
    { "service", "withdraw" },  { "search", NULL },        { "person", "add" },
    { "person", "list" },       { "consent", "grant" },    { "consent", "revoke" },
    { "consent", "list" },      { "consent", "show" },     { "handoff", "start" },
    { "handoff", "accept" },    { "handoff", "decline" },  { "handoff", "begin" },
    { "handoff", "hold" },      { "handoff", "complete" }, { "handoff", "fail" },
    { "handoff", "cancel" },    { "handoff", "list" },     { "handoff", "show" },
    { "handoff", "milestone" }, { "admin", NULL },         { "audit", NULL },
    { "audit", "verify" },
};

static void
test_required_commands_exist(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof REQUIRED / sizeof REQUIRED[0]; i++) {
        const cli_command_t *c = cli_table_find(REQUIRED[i][0], REQUIRED[i][1]);
        if (!c)
            fail_msg("missing command %s %s", REQUIRED[i][0], REQUIRED[i][1] ? REQUIRED[i][1] : "");
    }
    assert_null(cli_table_find("service", NULL));
    assert_null(cli_table_find("service", "nonsense"));
    assert_null(cli_table_find("nonsense", NULL));
    assert_true(cli_table_has_subs("handoff"));
    assert_false(cli_table_has_subs("status"));
    assert_true(cli_table_known("admin"));
    assert_false(cli_table_known("help"));
}

static void
check_option(const cli_command_t *c, const cli_opt_t *o)
{
    bool takes_value = o->kind != CLI_OPT_FLAG && o->kind != CLI_OPT_CONST;
    assert_non_null(o->flag);
    assert_non_null(o->key);
    assert_non_null(o->help);
    assert_true(strlen(o->help) > 0);
    assert_true(strcmp(o->flag, "json") != 0 && strcmp(o->flag, "help") != 0);
    if (takes_value != (o->meta != NULL))
        fail_msg("%s %s --%s: meta must be set exactly for options with a value", c->name,
                 c->sub ? c->sub : "", o->flag);
    if (o->kind == CLI_OPT_CHOICE || (o->kind == CLI_OPT_CONST))
        assert_true(o->choices != NULL || o->value != NULL);
    if (o->kind == CLI_OPT_INT || o->kind == CLI_OPT_NUMBER)
        assert_true(o->min <= o->max && o->max > 0);
    if (o->kind == CLI_OPT_LIST)
        assert_true(o->max >= 1);
}

static void
test_every_command_is_complete(void **state)
{
    (void)state;
    size_t n;
    const cli_command_t *cmds = cli_table_commands(&n);
    assert_true(n >= sizeof REQUIRED / sizeof REQUIRED[0]);
    for (size_t i = 0; i < n; i++) {
        const cli_command_t *c = &cmds[i];
        assert_non_null(c->name);
        assert_non_null(c->summary);
        assert_non_null(c->help);
        assert_true(strlen(c->summary) > 0 && strlen(c->help) > 0);
        assert_non_null(c->print);
        if (c->target == CLI_TARGET_NODE)
            assert_non_null(c->op);
        /* Each (name, sub) once, so lookups are unambiguous. */
        assert_ptr_equal(cli_table_find(c->name, c->sub), c);
        for (size_t j = 0; j < c->n_opts; j++) {
            check_option(c, &c->opts[j]);
            for (size_t k = j + 1; k < c->n_opts; k++)
                assert_string_not_equal(c->opts[j].flag, c->opts[k].flag);
        }
        bool optional_seen = false;
        for (size_t j = 0; j < c->n_pos; j++) {
            const cli_pos_t *p = &c->pos[j];
            assert_non_null(p->meta);
            assert_non_null(p->help);
            /* Required arguments come first; a word list only last. */
            assert_false(p->required && optional_seen);
            optional_seen = optional_seen || !p->required;
            assert_false(p->rest && j + 1 != c->n_pos);
        }
    }
}

typedef int (*parse_fn)(const char *, int *);

/* Each enum parser, with an int out so one loop can call them all. */
static int
parse_mode(const char *s, int *v)
{
    Refnet__ContactMode m;
    int rc = enums_mode_parse(s, &m);
    *v = (int)m;
    return rc;
}

static int
parse_outcome(const char *s, int *v)
{
    Refnet__Outcome o;
    int rc = enums_outcome_parse(s, &o);
    *v = (int)o;
    return rc;
}

static int
parse_status(const char *s, int *v)
{
    Refnet__HandoffStatus st;
    int rc = enums_status_parse(s, &st);
    *v = (int)st;
    return rc;
}

static int
parse_category(const char *s, int *v)
{
    Refnet__Category c;
    int rc = enums_category_parse(s, &c);
    *v = (int)c;
    return rc;
}

static int
parse_milestone(const char *s, int *v)
{
    Refnet__Milestone m;
    int rc = enums_milestone_parse(s, &m);
    *v = (int)m;
    return rc;
}

/* Which enum a choice list of a given key names. */
static parse_fn
parser_for(const char *key)
{
    if (strcmp(key, "mode") == 0 || strcmp(key, "preferred_contact") == 0)
        return parse_mode;
    if (strcmp(key, "outcome") == 0)
        return parse_outcome;
    if (strcmp(key, "status") == 0)
        return parse_status;
    if (strcmp(key, "share") == 0)
        return parse_category;
    if (strcmp(key, "milestone") == 0)
        return parse_milestone;
    return NULL;
}

/* Every word of `choices` parses, and the words cover every value 1..max of the enum. */
static void
check_choices(const char *key, const char *choices, int max)
{
    parse_fn fn = parser_for(key);
    bool seen[16] = { false };
    char buf[512];
    if (!fn)
        return;
    snprintf(buf, sizeof buf, "%s", choices);
    for (char *w = strtok(buf, "|"); w; w = strtok(NULL, "|")) {
        int v = -1;
        if (fn(w, &v) != 0)
            fail_msg("choice \"%s\" of %s is not a protocol name", w, key);
        assert_true(v > 0 && v < 16);
        seen[v] = true;
    }
    for (int v = 1; v <= max; v++)
        if (!seen[v])
            fail_msg("%s leaves out enum value %d", key, v);
}

static int
enum_max(const char *key)
{
    if (strcmp(key, "outcome") == 0)
        return 8;
    if (strcmp(key, "status") == 0)
        return 8;
    if (strcmp(key, "share") == 0)
        return 5;
    if (strcmp(key, "milestone") == 0)
        return 4;
    return 3; /* contact modes */
}

static void
test_choices_are_protocol_names(void **state)
{
    (void)state;
    size_t n, checked = 0;
    const cli_command_t *cmds = cli_table_commands(&n);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < cmds[i].n_opts; j++) {
            const cli_opt_t *o = &cmds[i].opts[j];
            if (o->choices && parser_for(o->key)) {
                check_choices(o->key, o->choices, enum_max(o->key));
                checked++;
            }
        }
        for (size_t j = 0; j < cmds[i].n_pos; j++) {
            const cli_pos_t *p = &cmds[i].pos[j];
            if (p->choices && parser_for(p->key)) {
                check_choices(p->key, p->choices, enum_max(p->key));
                checked++;
            }
        }
    }
    /* mode (x3), preferred_contact, outcome (x7), status, share, milestone at least. */
    assert_true(checked >= 10);
}

static void
test_handoff_actions_carry_their_action(void **state)
{
    (void)state;
    static const char *const actions[] = { "accept",   "decline", "begin", "hold",
                                           "complete", "fail",    "cancel" };
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        const cli_command_t *c = cli_table_find("handoff", actions[i]);
        assert_non_null(c);
        assert_string_equal(c->op, "handoff.update");
        assert_string_equal(c->fixed_key, "action");
        assert_string_equal(c->fixed_value, actions[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_required_commands_exist),
        cmocka_unit_test(test_every_command_is_complete),
        cmocka_unit_test(test_choices_are_protocol_names),
        cmocka_unit_test(test_handoff_actions_carry_their_action),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
