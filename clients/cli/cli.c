/* cli: global options, dispatch through the command table, and running one command
 * (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "admin.h"
#include "cli_args.h"
#include "cli_command.h"
#include "cli_fmt.h"
#include "cli_table.h"
#include "refnet_error.h"

#ifndef REFNET_VERSION
#    define REFNET_VERSION "0"
#endif

/* An answer may wait on the broker (5 s inside the node); an hour is surely a typing error. */
#define CLI_MAX_TIMEOUT_S 3600
/* Width of the command column in the general help. */
#define CLI_HELP_COL 26

void
cli_init(cli_t *cli, FILE *out, FILE *err)
{
    memset(cli, 0, sizeof *cli);
    cli->out = out;
    cli->err = err;
}

void
cli_finish(cli_t *cli)
{
    refnet_client_destroy(&cli->client);
}

int
cli_exit_code(int code)
{
    switch (code) {
    case 0:
        return CLI_EXIT_OK;
    case REFNET_EINVAL:
        return CLI_EXIT_USAGE;
    case REFNET_ECONSENT:
    case REFNET_ETRANSITION:
    case REFNET_EFORBIDDEN:
        return CLI_EXIT_REFUSED;
    default:
        return CLI_EXIT_ERROR;
    }
}

/* Prints "refnet: SENTENCE" on one line and returns `status`. */
static int cli_fail(cli_t *cli, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
cli_fail(cli_t *cli, int status, const char *fmt, ...)
{
    char text[CLI_FMT_CELL_LEN], clean[CLI_FMT_CELL_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* Messages may quote what the node or the user sent: keep them to one clean line. */
    cli_fmt_clean(text, false, clean, sizeof clean);
    fprintf(cli->err, "refnet: %s\n", clean);
    return status;
}

static int
cli_report(cli_t *cli, int code, const refnet_client_error_t *err)
{
    return cli_fail(cli, cli_exit_code(code), "%s", err->message);
}

static void
cli_help_row(FILE *out, const char *left, const char *summary)
{
    fprintf(out, "  %-*s%s\n", CLI_HELP_COL - 2, left, summary);
}

void
cli_help(FILE *out)
{
    size_t n;
    char title[64];
    const cli_command_t *cmds = cli_table_commands(&n);
    fputs("usage: refnet [--node DIR] [--timeout SECONDS] COMMAND [ARGS...] [--json]\n\n"
          "refnet is the command-line client of a refnet agency node, and of the broker's\n"
          "admin socket. Every command takes --help and --json.\n\ncommands:\n",
          out);
    for (size_t i = 0; i < n; i++) {
        cli_command_title(&cmds[i], title, sizeof title);
        if (cmds[i].target == CLI_TARGET_BROKER)
            snprintf(title, sizeof title, "%s %s", cmds[i].name, cmds[i].pos[0].meta);
        cli_help_row(out, title, cmds[i].summary);
    }
    fputs("\nglobal options:\n", out);
    cli_help_row(out, "--node DIR", "the node's data folder (default: $REFNET_NODE)");
    cli_help_row(out, "--timeout SECONDS", "how long to wait for an answer (default 10)");
    cli_help_row(out, "--help", "this help; refnet COMMAND [SUB] --help for one command");
    cli_help_row(out, "--version", "print the version");
    fputs("\nexit status: 0 ok, 1 error, 2 usage, 3 refused by a rule (consent, state machine,\n"
          "permission).\n",
          out);
}

/* Usage of every sub-command of a group, e.g. all "handoff ..." lines. */
static void
cli_group_help(FILE *out, const char *name)
{
    size_t n;
    const cli_command_t *cmds = cli_table_commands(&n);
    fputs("usage:\n", out);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cmds[i].name, name) != 0)
            continue;
        fputs("  ", out);
        cli_command_usage(&cmds[i], out);
    }
    fprintf(out, "\nrefnet %s SUB --help explains one of them.\n", name);
}

static int
cli_output(cli_t *cli, const cli_command_t *cmd, bool json, const json_t *result)
{
    if (json) {
        json_dumpf(result, cli->out, JSON_INDENT(2));
        fputc('\n', cli->out);
    } else {
        cmd->print(cli->out, result);
    }
    if (fflush(cli->out) != 0 || ferror(cli->out))
        return cli_fail(cli, CLI_EXIT_ERROR, "cannot write the output: %s", strerror(errno));
    return CLI_EXIT_OK;
}

static int
cli_run_node(cli_t *cli, const cli_command_t *cmd, cli_parsed_t *parsed)
{
    refnet_client_error_t err;
    json_t *result = NULL, *args = parsed->args;
    int rc;
    if (!cli->node_dir || !*cli->node_dir)
        return cli_fail(cli, CLI_EXIT_USAGE, "no node given: use --node DIR or set REFNET_NODE");
    if (!cli->client) {
        rc = refnet_client_open(&cli->client, cli->node_dir, &err);
        if (rc != 0)
            return cli_report(cli, rc, &err);
        refnet_client_set_timeout(cli->client, cli->timeout_ms);
    }
    parsed->args = NULL; /* the call takes it */
    rc = refnet_client_call(cli->client, cmd->op, args, &result, &err);
    if (rc != 0)
        return cli_report(cli, rc, &err);
    rc = cli_output(cli, cmd, parsed->json, result);
    json_decref(result);
    return rc;
}

static int
cli_run_broker(cli_t *cli, const cli_command_t *cmd, const cli_parsed_t *parsed)
{
    refnet_client_error_t err;
    refnet_admin_t *admin = NULL;
    json_t *result = NULL;
    const char *dir = json_string_value(json_object_get(parsed->local, "broker_data"));
    const char *what = json_string_value(json_object_get(parsed->local, "what"));
    int rc;
    if (!dir)
        dir = cli->broker_dir;
    if (!dir || !*dir)
        return cli_fail(cli, CLI_EXIT_USAGE,
                        "no broker data folder given: use --broker-data DIR or set "
                        "REFNET_BROKER_DATA");
    rc = refnet_admin_open(&admin, dir, &err);
    if (rc == 0) {
        refnet_admin_set_timeout(admin, cli->timeout_ms);
        if (what && strcmp(what, "flow") == 0)
            rc = refnet_admin_flow(admin, &result, &err);
        else if (what && strcmp(what, "dead-letters") == 0)
            rc = refnet_admin_dead_letters(admin, &result, &err);
        else
            rc = refnet_admin_nodes(admin, &result, &err);
    }
    refnet_admin_destroy(&admin);
    if (rc != 0)
        return cli_report(cli, rc, &err);
    rc = cli_output(cli, cmd, parsed->json, result);
    json_decref(result);
    return rc;
}

/* Parses and runs one command; argv[0] is its last word. */
static int
cli_run(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    cli_parsed_t parsed;
    char why[CLI_COMMAND_WHY_LEN], title[64];
    int rc;
    cli_command_title(cmd, title, sizeof title);
    if (cli_command_parse(cmd, argc, argv, &parsed, why) != 0) {
        cli_parsed_clear(&parsed);
        return cli_fail(cli, CLI_EXIT_USAGE, "%s (see refnet %s --help)", why, title);
    }
    if (parsed.help) {
        cli_command_help(cmd, cli->out);
        rc = CLI_EXIT_OK;
    } else if (cmd->target == CLI_TARGET_BROKER) {
        rc = cli_run_broker(cli, cmd, &parsed);
    } else {
        rc = cli_run_node(cli, cmd, &parsed);
    }
    cli_parsed_clear(&parsed);
    return rc;
}

static bool
cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* `refnet help [COMMAND [SUB]]`. */
static int
cli_help_command(cli_t *cli, int argc, char **argv)
{
    const cli_command_t *cmd;
    if (argc < 2) {
        cli_help(cli->out);
        return CLI_EXIT_OK;
    }
    if (!cli_table_known(argv[1]))
        return cli_fail(cli, CLI_EXIT_USAGE, "unknown command \"%s\" (see refnet --help)", argv[1]);
    if (!cli_table_has_subs(argv[1])) {
        cli_command_help(cli_table_find(argv[1], NULL), cli->out);
        return CLI_EXIT_OK;
    }
    if (argc < 3 && cli_table_find(argv[1], NULL)) {
        cli_command_help(cli_table_find(argv[1], NULL), cli->out);
        return CLI_EXIT_OK;
    }
    if (argc < 3) {
        cli_group_help(cli->out, argv[1]);
        return CLI_EXIT_OK;
    }
    cmd = cli_table_find(argv[1], argv[2]);
    if (!cmd)
        return cli_fail(cli, CLI_EXIT_USAGE, "unknown command \"%s %s\" (see refnet %s --help)",
                        argv[1], argv[2], argv[1]);
    cli_command_help(cmd, cli->out);
    return CLI_EXIT_OK;
}

/* Writes "publish, availability, withdraw" for group `name`. */
static void
cli_sub_names(const char *name, char *buf, size_t len)
{
    size_t n, used = 0;
    const cli_command_t *cmds = cli_table_commands(&n);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cmds[i].name, name) != 0 || !cmds[i].sub)
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", cmds[i].sub);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

/* Finds the command named by argv[0] (and argv[1] for a group) and runs it. */
static int
cli_dispatch(cli_t *cli, int argc, char **argv)
{
    const char *name = argv[0];
    if (strcmp(name, "help") == 0)
        return cli_help_command(cli, argc, argv);
    if (!cli_table_known(name))
        return cli_fail(cli, CLI_EXIT_USAGE, "unknown command \"%s\" (see refnet --help)", name);
    if (!cli_table_has_subs(name))
        return cli_run(cli, cli_table_find(name, NULL), argc, argv);
    /* A group may have a plain command too ("audit" beside "audit verify"): it runs, or
     * explains itself, when no sub-command follows, only options. */
    const cli_command_t *plain = cli_table_find(name, NULL);
    if (plain && (argc < 2 || argv[1][0] == '-'))
        return cli_run(cli, plain, argc, argv);
    if (argc < 2) {
        char subs[256];
        cli_sub_names(name, subs, sizeof subs);
        return cli_fail(cli, CLI_EXIT_USAGE, "%s needs a sub-command: %s (see refnet %s --help)",
                        name, subs, name);
    }
    if (cli_is_help(argv[1])) {
        cli_group_help(cli->out, name);
        return CLI_EXIT_OK;
    }
    const cli_command_t *cmd = cli_table_find(name, argv[1]);
    if (!cmd)
        return cli_fail(cli, CLI_EXIT_USAGE, "unknown command \"%s %s\" (see refnet %s --help)",
                        name, argv[1], name);
    return cli_run(cli, cmd, argc - 1, argv + 1);
}

enum { CLI_GOPT_NODE = 256, CLI_GOPT_TIMEOUT, CLI_GOPT_VERSION };

/* Parses the options before the command. Returns -1 to go on, or an exit status. */
static int
cli_global_options(cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "node", required_argument, NULL, CLI_GOPT_NODE },
        { "timeout", required_argument, NULL, CLI_GOPT_TIMEOUT },
        { "version", no_argument, NULL, CLI_GOPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char why[CLI_ARGS_WHY_LEN];
    long seconds;
    int c;
    optind = 0;
    opterr = 0;
    /* "+": stop at the command name; its own options are parsed by its description. */
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case CLI_GOPT_NODE:
            cli->node_dir = optarg;
            break;
        case CLI_GOPT_TIMEOUT:
            if (cli_args_int(optarg, 1, CLI_MAX_TIMEOUT_S, "--timeout", &seconds, why) != 0)
                return cli_fail(cli, CLI_EXIT_USAGE, "%s", why);
            cli->timeout_ms = (int)seconds * 1000;
            break;
        case CLI_GOPT_VERSION:
            fprintf(cli->out, "refnet %s\n", REFNET_VERSION);
            return CLI_EXIT_OK;
        case 'h':
            cli_help(cli->out);
            return CLI_EXIT_OK;
        case ':':
            return cli_fail(cli, CLI_EXIT_USAGE, "%s needs a value", argv[optind - 1]);
        default:
            return cli_fail(cli, CLI_EXIT_USAGE, "unknown option %s (see refnet --help)",
                            argv[optind - 1]);
        }
    }
    return -1;
}

int
cli_main(cli_t *cli, int argc, char **argv)
{
    int rc = cli_global_options(cli, argc, argv);
    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return cli_fail(cli, CLI_EXIT_USAGE, "no command given (see refnet --help)");
    int first = optind;
    return cli_dispatch(cli, argc - first, argv + first);
}
