/* cli_table: the table of every refnet CLI command.
 *
 * Each row describes one command (cli_command.h): its words, the operation it calls, its
 * options and arguments with their limits and help, and how its result is printed. The
 * dispatcher (cli.c) only looks commands up here. The table is const data. */
#ifndef REFNET_CLI_TABLE_H
#define REFNET_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli_command.h"

/* Returns the table and its length in *n (borrowed, static). */
const cli_command_t *cli_table_commands(size_t *n);
/* Finds the command `name` `sub` (sub NULL for a command without sub-commands). Returns NULL
 * when there is none. */
const cli_command_t *cli_table_find(const char *name, const char *sub);
/* Returns true when `name` is a command group with sub-commands ("service", "handoff"). */
bool cli_table_has_subs(const char *name);
/* Returns true when `name` is the first word of some command. */
bool cli_table_known(const char *name);

#endif
