/* refnet: the command-line client of a refnet node and of the broker's admin socket.
 *
 * main() only reads the environment, hands the command line to cli_main() (cli.h) and returns
 * its exit status: 0 ok, 1 error, 2 usage, 3 refused by a rule. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "log.h"

int
main(int argc, char **argv)
{
    cli_t cli;
    /* Library modules log only real faults (e.g. a key file with loose permissions). */
    log_init("refnet", LOG_LEVEL_ERROR);
    cli_init(&cli, stdout, stderr);
    cli.node_dir = getenv("REFNET_NODE");
    cli.broker_dir = getenv("REFNET_BROKER_DATA");
    int rc = cli_main(&cli, argc, argv);
    cli_finish(&cli);
    return rc;
}
