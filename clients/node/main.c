/* refnet-node: command-line entry point of an agency's daemon.
 *
 *   refnet-node init --data DIR --agency ID --name NAME --broker ENDPOINT --broker-key KEY
 *   refnet-node run  --data DIR [--log-level L] [--heartbeat-ms N] [--map-size-mb N]
 *                    [--stale-after-s N]
 *   refnet-node rotate-key --data DIR
 *
 * Parses arguments, sets up logging and signals, and hands over to node.h. Exit status: 0 ok,
 * 1 error, 2 usage. The stop flag below is the only mutable global: SIGINT and SIGTERM set
 * it, and the node's loop reads it. */
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsds.h"
#include "keys.h"
#include "log.h"
#include "node.h"
#include "node_limits.h"
#include "path.h"
#include "refnet.h"
#include "refnet_error.h"
#include "rotate.h"
#include "seal.h"
#include "validate.h"
#include "xmalloc.h"

#define EXIT_USAGE 2

static volatile sig_atomic_t node_stop_flag;

typedef struct {
    const char *data, *agency, *name, *broker, *broker_key;
    const char *broker_sign_key; /* optional: hex or Z85 */
    const char *organization_id; /* optional: the agency's HSDS organization UUID */
    log_level_t level;
    long heartbeat_ms;
    long map_size_mb;
    long stale_after_s; /* search staleness; 0 = the node's default */
} main_args_t;

static const char MAIN_USAGE[] =
    "usage: refnet-node COMMAND [OPTIONS]\n"
    "\n"
    "An agency's refnet daemon: keeps the directory replica, persons, consents and handoffs\n"
    "in its own store, talks to the broker over CURVE, and serves the local API that the\n"
    "'refnet' command uses, on DIR/api.sock.\n"
    "\n"
    "commands:\n"
    "  init    create a node folder with a new keypair (prints the agency's public key last)\n"
    "  run     run the node in the foreground until SIGINT or SIGTERM\n"
    "  rotate-key  replace the agency's CURVE and sealing keys, losing no message\n"
    "\n"
    "Run 'refnet-node COMMAND --help' for a command's options.\n";

static const char INIT_USAGE[] =
    "usage: refnet-node init --data DIR --agency ID --name NAME --broker ENDPOINT\n"
    "                        --broker-key KEY [--broker-sign-key KEY]\n"
    "                        [--organization-id UUID]\n"
    "\n"
    "Creates the node folder DIR: the agency's CURVE keypair and the LMDB store with the\n"
    "agency's identity and its broker. Refuses to overwrite an existing node. Prints the\n"
    "agency's public key as the last line: enrol it with 'refnet-broker enroll'.\n"
    "\n"
    "  --data DIR           node folder (created if missing, mode 0700)\n"
    "  --agency ID          agency id: 1-64 characters from A-Z a-z 0-9 . _ : -\n"
    "  --name NAME          the agency's display name\n"
    "  --broker ENDPOINT    the broker, e.g. tcp://127.0.0.1:7400\n"
    "  --broker-key KEY     the broker's public key (40 Z85 characters, from\n"
    "                       'refnet-broker init')\n"
    "  --broker-sign-key KEY\n"
    "                       the broker's signing key (64 hex or 40 Z85 characters, printed\n"
    "                       by 'refnet-broker init'), which vouches for other agencies'\n"
    "                       sealing keys. Without it the node trusts the key the broker names\n"
    "                       at the first connection and pins it (trust on first use).\n"
    "  --organization-id UUID\n"
    "                       the agency's HSDS organization id: imports accept only its\n"
    "                       records (default: a new UUID)\n";

static const char RUN_USAGE[] =
    "usage: refnet-node run --data DIR [--log-level L] [--heartbeat-ms N] [--map-size-mb N]\n"
    "                       [--stale-after-s N]\n"
    "\n"
    "Runs the node in the foreground, logging to stderr. SIGINT or SIGTERM stops it cleanly:\n"
    "everything acknowledged is committed and the store is closed.\n"
    "\n"
    "  --data DIR          node folder made by 'refnet-node init'\n"
    "  --log-level L       error, warn, info (default) or debug\n"
    "  --heartbeat-ms N    ping interval until the broker names its own (default 1000)\n"
    "  --map-size-mb N     LMDB map size in MiB (default 256)\n"
    "  --stale-after-s N   search marks availability older than N seconds as stale\n"
    "                      (default 86400, at most 2592000)\n";

static const char ROTATE_USAGE[] =
    "usage: refnet-node rotate-key --data DIR\n"
    "\n"
    "Replaces the agency's CURVE keypair and sealing keypair. The new public keys go to the\n"
    "broker over the current authenticated connection; once the broker has stored them it\n"
    "refuses the old CURVE key, vouches for the new sealing key to every node, and the node\n"
    "reconnects with the new keys. Mail queued for the agency is kept and delivered; packets\n"
    "sealed for the old sealing key still open (the node keeps it as DIR/seal.key.prev).\n"
    "With the node running it is asked through its local API and this waits for the\n"
    "broker's answer; with the node stopped the request is queued and sent when it runs.\n"
    "\n"
    "  --data DIR          node folder\n";

/* Seconds rotate-key waits for the running node, which itself waits up to NODE_DIR_WAIT_MS
 * for the broker. */
#define MAIN_ROTATE_TIMEOUT_MS (NODE_DIR_WAIT_MS + 5000)

static void
main_on_signal(int sig)
{
    (void)sig;
    node_stop_flag = 1;
}

static void
main_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = main_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: zmq_poll returns EINTR at once */
    sigaction(SIGTERM, &sa, NULL);
}

static int main_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints one sentence and the usage to stderr; returns the usage exit status. */
static int
main_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "refnet-node: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n\n%s", usage);
    va_end(ap);
    return EXIT_USAGE;
}

/* Reads a whole decimal number in [min, max]; returns false otherwise. */
static bool
main_parse_long(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!text[0] || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static const struct option main_options[] = {
    { "data", required_argument, NULL, 'd' },
    { "agency", required_argument, NULL, 'a' },
    { "name", required_argument, NULL, 'n' },
    { "broker", required_argument, NULL, 'b' },
    { "broker-key", required_argument, NULL, 'k' },
    { "broker-sign-key", required_argument, NULL, 's' },
    { "organization-id", required_argument, NULL, 'o' },
    { "log-level", required_argument, NULL, 'l' },
    { "heartbeat-ms", required_argument, NULL, 'h' },
    { "map-size-mb", required_argument, NULL, 'm' },
    { "stale-after-s", required_argument, NULL, 'S' },
    { "help", no_argument, NULL, 'H' },
    { NULL, 0, NULL, 0 },
};

/* Parses one option into *a. Returns -1 when fine, else the exit status. */
static int
main_take_option(int opt, const char *usage, main_args_t *a)
{
    switch (opt) {
    case 'd':
        a->data = optarg;
        break;
    case 'a':
        a->agency = optarg;
        break;
    case 'n':
        a->name = optarg;
        break;
    case 'b':
        a->broker = optarg;
        break;
    case 'k':
        a->broker_key = optarg;
        break;
    case 's':
        a->broker_sign_key = optarg;
        break;
    case 'o':
        a->organization_id = optarg;
        break;
    case 'l':
        if (log_level_parse(optarg, &a->level) != 0)
            return main_usage_error(usage, "unknown log level %s", optarg);
        break;
    case 'h':
        if (!main_parse_long(optarg, NODE_HEARTBEAT_MIN_MS, NODE_HEARTBEAT_MAX_MS,
                             &a->heartbeat_ms))
            return main_usage_error(usage, "--heartbeat-ms must be 100 to 60000, not %s", optarg);
        break;
    case 'm':
        if (!main_parse_long(optarg, 1, NODE_MAP_SIZE_MAX_MB, &a->map_size_mb))
            return main_usage_error(usage, "--map-size-mb must be 1 to 65536, not %s", optarg);
        break;
    case 'S':
        if (!main_parse_long(optarg, 1, NODE_STALE_AFTER_MAX_S, &a->stale_after_s))
            return main_usage_error(usage, "--stale-after-s must be 1 to 2592000, not %s", optarg);
        break;
    case 'H':
        fputs(usage, stdout);
        return 0;
    default:
        return main_usage_error(usage, "unknown option, or an option without its value");
    }
    return -1;
}

/* Parses the options after the command word. Returns -1 when fine, else the exit status. */
static int
main_parse(int argc, char **argv, const char *usage, main_args_t *a)
{
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", main_options, NULL)) != -1) {
        int rc = main_take_option(opt, usage, a);
        if (rc >= 0)
            return rc;
    }
    if (optind < argc)
        return main_usage_error(usage, "unexpected argument %s", argv[optind]);
    if (!a->data)
        return main_usage_error(usage, "--data DIR is required");
    return -1;
}

/* Checks init's arguments: ids, name, endpoint and key. Returns -1 or the exit status. */
static int
main_check_init(const main_args_t *a)
{
    if (!a->agency || !a->name || !a->broker || !a->broker_key)
        return main_usage_error(INIT_USAGE,
                                "--agency, --name, --broker and --broker-key are required");
    if (!validate_ident(a->agency))
        return main_usage_error(INIT_USAGE, "--agency %s is not an identifier", a->agency);
    if (!validate_text(a->name, 1, WIRE_MAX_NAME))
        return main_usage_error(INIT_USAGE, "--name must be 1 to %d bytes of text", WIRE_MAX_NAME);
    if (strlen(a->broker) >= NODE_MAX_ENDPOINT ||
        (strncmp(a->broker, "tcp://", 6) != 0 && strncmp(a->broker, "ipc://", 6) != 0))
        return main_usage_error(INIT_USAGE, "--broker %s is not a tcp:// or ipc:// endpoint",
                                a->broker);
    if (!keys_z85_valid(a->broker_key))
        return main_usage_error(INIT_USAGE, "--broker-key %s is not a 40-character Z85 key",
                                a->broker_key);
    uint8_t sign[SEAL_KEY_LEN];
    if (a->broker_sign_key && seal_key_parse(a->broker_sign_key, sign) != 0)
        return main_usage_error(INIT_USAGE,
                                "--broker-sign-key %s is not 64 hex or 40 Z85 characters",
                                a->broker_sign_key);
    if (a->organization_id && !uid_is_uuid(a->organization_id))
        return main_usage_error(INIT_USAGE, "--organization-id %s is not a UUID",
                                a->organization_id);
    return -1;
}

static int
main_init(const main_args_t *a)
{
    char pub[KEYS_Z85_LEN];
    int rc = main_check_init(a);
    if (rc >= 0)
        return rc;
    rc = node_create(a->data, a->agency, a->name, a->broker, a->broker_key,
                     (size_t)a->map_size_mb << 20, pub);
    if (rc == REFNET_EEXIST) {
        fprintf(stderr, "refnet-node: %s already holds a node; refusing to overwrite it\n",
                a->data);
        return 1;
    }
    uint8_t sign[SEAL_KEY_LEN];
    if (rc == 0)
        rc = node_create_seal(
            a->data,
            a->broker_sign_key && seal_key_parse(a->broker_sign_key, sign) == 0 ? sign : NULL,
            (size_t)a->map_size_mb << 20);
    char org[UID_STR_LEN] = "", db[PATH_MAX_LEN];
    if (rc == 0)
        rc = path_join(db, sizeof db, a->data, "db");
    if (rc == 0)
        rc = hsds_init(db, (size_t)a->map_size_mb << 20, a->organization_id, org);
    if (rc != 0) {
        fprintf(stderr, "refnet-node: cannot create %s: %s\n", a->data, refnet_strerror(rc));
        return 1;
    }
    printf("node %s (%s) created in %s\n", a->agency, a->name, a->data);
    printf("HSDS organization id: %s\n", org);
    printf("enrol it on the broker with: refnet-broker enroll --data BROKER_DIR --agency %s "
           "--key %s\n",
           a->agency, pub);
    printf("%s\n", pub);
    return 0;
}

static int
main_run(const main_args_t *a)
{
    node_t *node = NULL;
    node_config_t cfg = { a->data, (int)a->heartbeat_ms, (size_t)a->map_size_mb << 20 };
    main_install_signals();
    if (node_open(&node, &cfg) != 0)
        return 1;
    if (a->stale_after_s > 0)
        node_set_stale_after(node, (uint64_t)a->stale_after_s * 1000);
    int rc = node_run(node, &node_stop_flag);
    node_destroy(&node);
    return rc == 0 ? 0 : 1;
}

/* Takes DIR/node.lock as refnet-node run does. Returns the descriptor holding it, -1 when a
 * node holds it (it is then asked through its local API), or -2 when the folder has none. */
static int
main_lock_node(const char *dir)
{
    return path_trylock(dir, "node.lock", true);
}

static int
main_rotate_online(const main_args_t *a)
{
    refnet_client_t *client = NULL;
    refnet_client_error_t err = { 0 };
    json_t *result = NULL;
    int rc = refnet_client_open(&client, a->data, &err);
    if (rc == 0) {
        refnet_client_set_timeout(client, MAIN_ROTATE_TIMEOUT_MS);
        rc = refnet_client_call(client, "key.rotate", NULL, &result, &err);
    }
    refnet_client_destroy(&client);
    if (rc != 0) {
        fprintf(stderr, "refnet-node: rotate-key failed: %s\n", err.message);
        return 1;
    }
    if (json_is_true(json_object_get(result, "queued")))
        printf("new keys made; the broker has not answered yet: the node finishes the rotation "
               "when it does\n");
    else
        printf("keys rotated: the broker has the new keys and the node reconnected with them\n");
    json_decref(result);
    return 0;
}

static int
main_rotate(const main_args_t *a)
{
    uint8_t msg_id[UID_MSGID_LEN];
    char db[PATH_MAX_LEN];
    if (path_join(db, sizeof db, a->data, "db") != 0 || !path_exists(db)) {
        fprintf(stderr, "refnet-node: %s is not a node folder (run refnet-node init)\n", a->data);
        return 1;
    }
    int lock = main_lock_node(a->data);
    if (lock == -1)
        return main_rotate_online(a);
    /* Holding the lock: no node can start on the folder until the request is queued. */
    int rc = lock >= 0 ? rotate_offline(a->data, (size_t)a->map_size_mb << 20, msg_id) : REFNET_EIO;
    if (lock >= 0)
        close(lock);
    if (rc == REFNET_EEXIST) {
        fprintf(stderr, "refnet-node: a key rotation of %s is already under way\n", a->data);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "refnet-node: rotate-key failed: %s\n", refnet_strerror(rc));
        return 1;
    }
    printf("new keys made; the node is not running: it asks the broker to take them when it "
           "runs\n");
    return 0;
}

int
main(int argc, char **argv)
{
    main_args_t a = { .level = LOG_LEVEL_INFO,
                      .heartbeat_ms = NODE_HEARTBEAT_DEFAULT_MS,
                      .map_size_mb = NODE_MAP_SIZE_DEFAULT_MB };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(MAIN_USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *cmd = argv[1];
    bool init = strcmp(cmd, "init") == 0, run = strcmp(cmd, "run") == 0;
    bool rotate = strcmp(cmd, "rotate-key") == 0;
    if (!init && !run && !rotate)
        return main_usage_error(MAIN_USAGE, "unknown command %s", cmd);
    umask(077);             /* the node's files are the agency's alone */
    zsys_handler_set(NULL); /* signals are ours (main_install_signals), not czmq's */
    json_set_alloc_funcs(xmalloc, free);
    int rc =
        main_parse(argc - 1, argv + 1, init ? INIT_USAGE : (rotate ? ROTATE_USAGE : RUN_USAGE), &a);
    if (rc >= 0)
        return rc;
    log_init("refnet-node", a.level);
    if (rotate)
        return main_rotate(&a);
    return init ? main_init(&a) : main_run(&a);
}
