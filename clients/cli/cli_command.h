/* cli_command: how one refnet CLI command is described, parsed and explained.
 *
 * A command is data: its name, the local API operation it calls, its options and positional
 * arguments with their kinds, ranges and help lines, and the function that prints its result as
 * text. One parser turns argv into the request's JSON `args` by that description, and the usage
 * and help texts are generated from the same description, so they cannot drift apart. The
 * table of all commands is in cli_table.c.
 *
 * Parsing uses getopt_long (GNU: options and positional arguments may be mixed) and is
 * restarted for every call, so one process may parse many commands. Not thread-safe (getopt). */
#ifndef REFNET_CLI_COMMAND_H
#define REFNET_CLI_COMMAND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_COMMAND_WHY_LEN 256

typedef enum {
    CLI_OPT_STRING, /* text as given */
    CLI_OPT_INT,    /* whole number in [min, max] */
    CLI_OPT_NUMBER, /* decimal number in [min, max] */
    CLI_OPT_LIST,   /* "a,b,c" (the option may repeat); at most `max` items, each in `choices` */
    CLI_OPT_FLAG,   /* no value: key = true */
    CLI_OPT_YESNO,  /* yes|no: key = true/false */
    CLI_OPT_LATLON, /* "LAT,LON": key = {"lat", "lon"} */
    CLI_OPT_CONST,  /* no value: key = `value`; two such options for one key conflict */
    CLI_OPT_CHOICE, /* one word of `choices` */
} cli_opt_kind_t;

typedef struct {
    const char *flag;    /* long option name without "--" */
    cli_opt_kind_t kind; /* how the value is parsed */
    const char *key;     /* key in the request's args, or in `local` */
    const char *meta;    /* placeholder in the usage line, e.g. "N"; NULL for flags */
    const char *help;    /* one line for --help */
    bool required;
    bool local;          /* used by the CLI itself, not sent (e.g. --broker-data) */
    double min, max;     /* INT / NUMBER range; LIST: max is the item limit */
    const char *choices; /* "a|b|c" for CHOICE and LIST items; NULL allows any */
    const char *value;   /* CONST: the value stored */
} cli_opt_t;

typedef struct {
    const char *key;  /* key in the request's args, or in `local` */
    const char *meta; /* placeholder, e.g. "ID" */
    const char *help; /* one line for --help */
    bool required;
    bool rest;           /* takes all remaining words, joined with spaces (last only) */
    bool local;          /* used by the CLI itself, not sent */
    const char *choices; /* "a|b" or NULL */
} cli_pos_t;

/* Who answers the command: the node's local API or the broker's admin socket. */
typedef enum { CLI_TARGET_NODE, CLI_TARGET_BROKER } cli_target_t;

typedef struct cli_command {
    const char *name;    /* "service" */
    const char *sub;     /* "publish", or NULL for a command without sub-commands */
    const char *summary; /* one line for the list of commands */
    const char *help;    /* a paragraph for --help */
    cli_target_t target;
    const char *op;                      /* local API operation (node target) */
    const char *fixed_key, *fixed_value; /* one argument every call carries, e.g. action */
    const cli_opt_t *opts;
    size_t n_opts;
    const cli_pos_t *pos;
    size_t n_pos;
    /* Checks that span options (e.g. --lat needs --lon); NULL when none. 0 or REFNET_EINVAL
     * with a sentence in why (CLI_COMMAND_WHY_LEN bytes). */
    int (*check)(const json_t *args, char *why);
    /* Prints the result as readable text. */
    void (*print)(FILE *out, const json_t *result);
} cli_command_t;

/* What the parser found. Free with cli_parsed_clear. */
typedef struct {
    json_t *args;  /* the request's args (owned) */
    json_t *local; /* options the CLI itself uses (owned) */
    bool json;     /* --json: print the result as one JSON document */
    bool help;     /* --help: print help instead of running */
} cli_parsed_t;

/* Parses argv (argv[0] is the command's last word, argv[1..] its arguments) by the
 * description in `cmd`. Returns 0 and fills *out (caller clears), or REFNET_EINVAL with one
 * sentence in `why` (CLI_COMMAND_WHY_LEN bytes): unknown option, missing value, bad value,
 * missing required option or argument, extra argument. With --help, returns 0 with out->help
 * set and skips the checks for required arguments. */
int
cli_command_parse(const cli_command_t *cmd, int argc, char **argv, cli_parsed_t *out, char *why);
/* Releases what a parse filled in; accepts a zeroed struct. */
void cli_parsed_clear(cli_parsed_t *parsed);

/* Writes "refnet [--node DIR] service publish --id ID ... [--json]" and a newline. */
void cli_command_usage(const cli_command_t *cmd, FILE *out);
/* Writes the usage line, the help paragraph and one line per option and argument. */
void cli_command_help(const cli_command_t *cmd, FILE *out);
/* Writes "service publish" (or "status") into buf. */
void cli_command_title(const cli_command_t *cmd, char *buf, size_t len);

#endif
