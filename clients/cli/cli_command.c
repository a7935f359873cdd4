/* cli_command: argv -> request args by a command's description, and its usage and help
 * texts (see cli_command.h). */
#include "cli_command.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "cli_args.h"
#include "refnet_error.h"
#include "xmalloc.h"

/* getopt_long values: options of the description are numbered from here, above every char. */
#define COMMAND_OPT_BASE 256
#define COMMAND_OPT_JSON 255
/* Usage and help are wrapped to fit a classic terminal. */
#define COMMAND_WRAP 80
/* Column where option help lines start. */
#define COMMAND_HELP_COL 28
/* Longest word list a "rest" positional may join into one value. */
#define COMMAND_REST_MAX 4096

static int command_fail(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
command_fail(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, CLI_COMMAND_WHY_LEN, fmt, ap);
    va_end(ap);
    return REFNET_EINVAL;
}

void
cli_command_title(const cli_command_t *cmd, char *buf, size_t len)
{
    if (cmd->sub)
        snprintf(buf, len, "%s %s", cmd->name, cmd->sub);
    else
        snprintf(buf, len, "%s", cmd->name);
}

static bool
command_opt_takes_value(const cli_opt_t *opt)
{
    return opt->kind != CLI_OPT_FLAG && opt->kind != CLI_OPT_CONST;
}

/* Stores `value` (reference stolen) under the option's key, in args or local. */
static int
command_store(const cli_opt_t *opt, json_t *value, cli_parsed_t *out, char *why)
{
    if (!value)
        return command_fail(why, "--%s is not valid UTF-8 text", opt->flag);
    json_object_set_new(opt->local ? out->local : out->args, opt->key, value);
    return 0;
}

static int
command_list(const cli_opt_t *opt, const char *text, cli_parsed_t *out, char *why)
{
    char what[64];
    json_t *target = opt->local ? out->local : out->args;
    json_t *list = json_object_get(target, opt->key);
    snprintf(what, sizeof what, "--%s", opt->flag);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(target, opt->key, list);
    }
    if (cli_args_list(text, (size_t)opt->max, opt->choices, what, list, why) != 0)
        return REFNET_EINVAL;
    return 0;
}

static int
command_const(const cli_opt_t *opt, cli_parsed_t *out, char *why)
{
    json_t *target = opt->local ? out->local : out->args;
    const char *prev = json_string_value(json_object_get(target, opt->key));
    if (prev && strcmp(prev, opt->value) != 0)
        return command_fail(why, "--%s cannot be combined with --%s", opt->flag, prev);
    return command_store(opt, json_string(opt->value), out, why);
}

/* Parses one option's value by its kind. */
static int
command_value(const cli_opt_t *opt, const char *text, cli_parsed_t *out, char *why)
{
    char what[64];
    long l;
    double d, lat, lon;
    bool b;
    snprintf(what, sizeof what, "--%s", opt->flag);
    switch (opt->kind) {
    case CLI_OPT_STRING:
        return command_store(opt, json_string(text), out, why);
    case CLI_OPT_INT:
        if (cli_args_int(text, (long)opt->min, (long)opt->max, what, &l, why) != 0)
            return REFNET_EINVAL;
        return command_store(opt, json_integer(l), out, why);
    case CLI_OPT_NUMBER:
        if (cli_args_number(text, opt->min, opt->max, what, &d, why) != 0)
            return REFNET_EINVAL;
        return command_store(opt, json_real(d), out, why);
    case CLI_OPT_LIST:
        return command_list(opt, text, out, why);
    case CLI_OPT_FLAG:
        return command_store(opt, json_true(), out, why);
    case CLI_OPT_YESNO:
        if (cli_args_yesno(text, what, &b, why) != 0)
            return REFNET_EINVAL;
        return command_store(opt, json_boolean(b), out, why);
    case CLI_OPT_LATLON:
        if (cli_args_latlon(text, what, &lat, &lon, why) != 0)
            return REFNET_EINVAL;
        return command_store(opt, json_pack("{s:f, s:f}", "lat", lat, "lon", lon), out, why);
    case CLI_OPT_CONST:
        return command_const(opt, out, why);
    case CLI_OPT_CHOICE:
        if (cli_args_choice(text, opt->choices, what, why) != 0)
            return REFNET_EINVAL;
        return command_store(opt, json_string(text), out, why);
    }
    return command_fail(why, "--%s has an unknown kind", opt->flag);
}

static struct option *
command_longopts(const cli_command_t *cmd)
{
    struct option *o = xcalloc(cmd->n_opts + 3, sizeof *o);
    for (size_t i = 0; i < cmd->n_opts; i++) {
        o[i].name = cmd->opts[i].flag;
        o[i].has_arg = command_opt_takes_value(&cmd->opts[i]) ? required_argument : no_argument;
        o[i].val = COMMAND_OPT_BASE + (int)i;
    }
    o[cmd->n_opts].name = "json";
    o[cmd->n_opts].val = COMMAND_OPT_JSON;
    o[cmd->n_opts + 1].name = "help";
    o[cmd->n_opts + 1].val = 'h';
    return o;
}

/* Runs getopt_long over argv. Returns 0, 1 when --help was seen, or REFNET_EINVAL. */
static int
command_options(const cli_command_t *cmd, int argc, char **argv, cli_parsed_t *out, char *why)
{
    struct option *longopts = command_longopts(cmd);
    int c, rc = 0;
    optind = 0; /* glibc: 0 restarts the scan completely, for every parse in one process */
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            rc = 1;
        } else if (c == COMMAND_OPT_JSON) {
            out->json = true;
        } else if (c == ':') {
            rc = command_fail(why, "%s needs a value", argv[optind - 1]);
        } else if (c == '?' || c < COMMAND_OPT_BASE) {
            if (optopt > 0 && optopt < COMMAND_OPT_BASE && optopt != COMMAND_OPT_JSON)
                rc = command_fail(why, "unknown option -%c", optopt);
            else
                rc = command_fail(why, "unknown option %s", argv[optind - 1]);
        } else {
            rc = command_value(&cmd->opts[c - COMMAND_OPT_BASE], optarg, out, why);
        }
    }
    free(longopts);
    return rc;
}

/* Joins argv[from..argc) with spaces. */
static int
command_rest(const cli_pos_t *pos, int argc, char **argv, int from, cli_parsed_t *out, char *why)
{
    char buf[COMMAND_REST_MAX];
    size_t used = 0;
    buf[0] = '\0';
    for (int i = from; i < argc; i++) {
        int n = snprintf(buf + used, sizeof buf - used, "%s%s", i > from ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof buf - used)
            return command_fail(why, "%s is over %d bytes", pos->meta, COMMAND_REST_MAX - 1);
        used += (size_t)n;
    }
    json_t *s = json_string(buf);
    if (!s)
        return command_fail(why, "%s is not valid UTF-8 text", pos->meta);
    json_object_set_new(pos->local ? out->local : out->args, pos->key, s);
    return 0;
}

static int
command_positional(const cli_command_t *cmd, int argc, char **argv, cli_parsed_t *out, char *why)
{
    char title[64];
    int i = optind;
    cli_command_title(cmd, title, sizeof title);
    for (size_t p = 0; p < cmd->n_pos; p++) {
        const cli_pos_t *pos = &cmd->pos[p];
        if (i >= argc) {
            if (pos->required)
                return command_fail(why, "%s needs %s", title, pos->meta);
            return 0;
        }
        if (pos->rest)
            return command_rest(pos, argc, argv, i, out, why);
        if (pos->choices && cli_args_choice(argv[i], pos->choices, pos->meta, why) != 0)
            return REFNET_EINVAL;
        json_t *s = json_string(argv[i]);
        if (!s)
            return command_fail(why, "%s is not valid UTF-8 text", pos->meta);
        json_object_set_new(pos->local ? out->local : out->args, pos->key, s);
        i++;
    }
    if (i < argc)
        return command_fail(why, "unexpected argument \"%s\" for %s", argv[i], title);
    return 0;
}

static int
command_required(const cli_command_t *cmd, const cli_parsed_t *out, char *why)
{
    char title[64];
    cli_command_title(cmd, title, sizeof title);
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const cli_opt_t *opt = &cmd->opts[i];
        const json_t *target = opt->local ? out->local : out->args;
        if (opt->required && !json_object_get(target, opt->key))
            return command_fail(why, "%s needs --%s%s%s", title, opt->flag, opt->meta ? " " : "",
                                opt->meta ? opt->meta : "");
    }
    return 0;
}

int
cli_command_parse(const cli_command_t *cmd, int argc, char **argv, cli_parsed_t *out, char *why)
{
    int rc;
    memset(out, 0, sizeof *out);
    out->args = json_object();
    out->local = json_object();
    why[0] = '\0';
    rc = command_options(cmd, argc, argv, out, why);
    if (rc == 1) {
        out->help = true;
        return 0;
    }
    if (rc != 0)
        return rc;
    if ((rc = command_positional(cmd, argc, argv, out, why)) != 0 ||
        (rc = command_required(cmd, out, why)) != 0)
        return rc;
    if (cmd->fixed_key)
        json_object_set_new(out->args, cmd->fixed_key, json_string(cmd->fixed_value));
    if (cmd->check && (rc = cmd->check(out->args, why)) != 0)
        return rc;
    return 0;
}

void
cli_parsed_clear(cli_parsed_t *parsed)
{
    json_decref(parsed->args);
    json_decref(parsed->local);
    memset(parsed, 0, sizeof *parsed);
}

/* Appends one word to a wrapped line; `col` is the current column. */
static void command_word(FILE *out, size_t *col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
command_word(FILE *out, size_t *col, const char *fmt, ...)
{
    char word[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(word, sizeof word, fmt, ap);
    va_end(ap);
    size_t n = strlen(word);
    if (*col + 1 + n > COMMAND_WRAP) {
        fputs("\n       ", out);
        *col = 7;
    }
    fprintf(out, " %s", word);
    *col += 1 + n;
}

static void
command_opt_word(FILE *out, size_t *col, const cli_opt_t *opt)
{
    const char *open = opt->required ? "" : "[";
    const char *close = opt->required ? "" : "]";
    if (command_opt_takes_value(opt))
        command_word(out, col, "%s--%s %s%s", open, opt->flag, opt->meta, close);
    else
        command_word(out, col, "%s--%s%s", open, opt->flag, close);
}

void
cli_command_usage(const cli_command_t *cmd, FILE *out)
{
    size_t col = strlen("refnet");
    fputs("refnet", out);
    if (cmd->target == CLI_TARGET_NODE)
        command_word(out, &col, "[--node DIR]");
    command_word(out, &col, "%s", cmd->name);
    if (cmd->sub)
        command_word(out, &col, "%s", cmd->sub);
    for (size_t i = 0; i < cmd->n_pos; i++) {
        const cli_pos_t *p = &cmd->pos[i];
        command_word(out, &col, "%s%s%s%s", p->required ? "" : "[", p->meta, p->rest ? "..." : "",
                     p->required ? "" : "]");
    }
    for (size_t i = 0; i < cmd->n_opts; i++)
        command_opt_word(out, &col, &cmd->opts[i]);
    command_word(out, &col, "[--json]");
    fputc('\n', out);
}

/* Writes `text` wrapped at COMMAND_WRAP (words are split at spaces and '|'), starting at
 * column `col` and indenting continuation lines by `indent` spaces. */
static void
command_wrapped(FILE *out, const char *text, size_t col, size_t indent)
{
    const char *p = text;
    bool line_start = true, space = false;
    while (*p) {
        if (*p == ' ') {
            space = !line_start;
            p++;
            continue;
        }
        size_t n = strcspn(p, " |");
        if (p[n] == '|')
            n++; /* keep the bar with the word before it */
        if (!line_start && col + (space ? 1 : 0) + n > COMMAND_WRAP) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
            space = false;
        }
        if (space)
            fputc(' ', out);
        fwrite(p, 1, n, out);
        col += n + (space ? 1 : 0);
        p += n;
        line_start = false;
        space = false;
    }
    fputc('\n', out);
}

/* "  --flag META" padded to the help column, then the help text wrapped below it. */
static void
command_help_line(FILE *out, const char *left, const char *help)
{
    int pad = COMMAND_HELP_COL - 2 - (int)strlen(left);
    fprintf(out, "  %s", left);
    if (pad < 1) {
        fputc('\n', out);
        pad = COMMAND_HELP_COL;
    }
    fprintf(out, "%*s", pad, "");
    command_wrapped(out, help, COMMAND_HELP_COL, COMMAND_HELP_COL);
}

void
cli_command_help(const cli_command_t *cmd, FILE *out)
{
    char left[128];
    fputs("usage: ", out);
    cli_command_usage(cmd, out);
    fputc('\n', out);
    command_wrapped(out, cmd->help, 0, 0);
    if (cmd->n_pos > 0)
        fputs("\narguments:\n", out);
    for (size_t i = 0; i < cmd->n_pos; i++)
        command_help_line(out, cmd->pos[i].meta, cmd->pos[i].help);
    fputs("\noptions:\n", out);
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const cli_opt_t *opt = &cmd->opts[i];
        if (command_opt_takes_value(opt))
            snprintf(left, sizeof left, "--%s %s", opt->flag, opt->meta);
        else
            snprintf(left, sizeof left, "--%s", opt->flag);
        command_help_line(out, left, opt->help);
    }
    command_help_line(out, "--json", "print the result as one JSON document");
    command_help_line(out, "--help", "print this help");
}
