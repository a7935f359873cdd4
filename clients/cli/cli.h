/* cli: the refnet command-line client: global options, dispatch and running one command.
 *
 * `refnet [--node DIR] [--timeout SECONDS] COMMAND [SUB] [ARGS...]`. The command is looked up
 * in cli_table.c, its arguments parsed by its description (cli_command.h), the request sent to
 * the node's local API (librefnet) or the broker's admin socket, and the result printed as text
 * (cli_print.h) or, with --json, as exactly one JSON document on stdout. Errors are one sentence
 * on stderr starting "refnet: ".
 *
 * Exit status: 0 ok, 1 error, 2 usage (including the node's "invalid"), 3 refused by a rule
 * (the node's "consent", "transition" and "forbidden").
 *
 * Ownership: a cli_t is the caller's; it borrows its folders and streams and owns the client
 * it opens (released by cli_finish). One thread. */
#ifndef REFNET_CLI_H
#define REFNET_CLI_H

#include <stdio.h>

#include "refnet.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_ERROR = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_REFUSED = 3,
};

typedef struct {
    const char *node_dir;    /* the node's data folder: REFNET_NODE, or --node (borrowed) */
    const char *broker_dir;  /* the broker's data folder: REFNET_BROKER_DATA (borrowed) */
    int timeout_ms;          /* how long to wait for answers; 0 keeps the library default */
    FILE *out;               /* results */
    FILE *err;               /* error sentences */
    refnet_client_t *client; /* opened on first use */
} cli_t;

/* Sets up `cli` with no folders, the default timeout and the given streams. */
void cli_init(cli_t *cli, FILE *out, FILE *err);
/* Runs one command line (argv[0] is the program name) and returns the exit status. */
int cli_main(cli_t *cli, int argc, char **argv);
/* Closes the client, if one was opened. */
void cli_finish(cli_t *cli);
/* Maps a REFNET_E* code to the exit status: 0, 1, 2 (REFNET_EINVAL) or 3 (REFNET_ECONSENT,
 * REFNET_ETRANSITION, REFNET_EFORBIDDEN). */
int cli_exit_code(int code);
/* Writes the general help: usage, every command with its summary, global options. */
void cli_help(FILE *out);

#endif
