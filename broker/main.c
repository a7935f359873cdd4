/* refnet-broker: command-line entry point of the hub.
 *
 *   refnet-broker init   --data DIR [--bind ENDPOINT]
 *   refnet-broker enroll --data DIR --agency ID --key PUBKEY [--name NAME]
 *   refnet-broker run    --data DIR [--log-level L] [--heartbeat-ms N] [--map-size-mb N]
 *                        [--max-queue N] [--max-frame BYTES] [--max-ttl-s N]
 *                        [--tombstone-retention-s N]
 *
 * Parses arguments, sets up logging and signals, and hands over to setup.h (init, enroll) or
 * broker.h (run). Exit status: 0 ok, 1 error, 2 usage. The stop flag below is the only mutable
 * global: SIGINT and SIGTERM set it, and the broker's loop reads it. */
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "broker_limits.h"
#include "lib/admin.h" /* librefnet's admin client; "admin.h" here is the broker's socket */
#include "log.h"
#include "path.h"
#include "refnet_error.h"
#include "setup.h"
#include "wire.h"

#define EXIT_USAGE 2

static atomic_int broker_stop_flag;

typedef struct {
    const char *data;
    const char *bind;
    const char *agency;
    const char *key;
    const char *name;
    log_level_t level;
    uint32_t heartbeat_ms;
    size_t map_size_mb;
    uint64_t max_queue;
    size_t max_frame;
    uint64_t max_ttl_s;
    uint64_t tombstone_retention_s;
} main_args_t;

static const char MAIN_USAGE[] =
    "usage: refnet-broker COMMAND [OPTIONS]\n"
    "\n"
    "The refnet hub: authenticates agencies by their CURVE keys, stores and forwards their\n"
    "mail, sequences the directory and reports to the administrator.\n"
    "\n"
    "commands:\n"
    "  init    create a broker folder with new keys (prints the broker's public key last)\n"
    "  enroll  enrol an agency's public key (takes effect on a running broker within 1 s)\n"
    "  run     run the broker in the foreground until SIGINT or SIGTERM\n"
    "  revoke-agency  revoke an agency now: its key is refused, no mail reaches it\n"
    "\n"
    "Run 'refnet-broker COMMAND --help' for a command's options.\n";

static const char INIT_USAGE[] =
    "usage: refnet-broker init --data DIR [--bind ENDPOINT]\n"
    "\n"
    "Creates the broker folder DIR: the broker's CURVE keypair, the admin keypair that\n"
    "'refnet admin --broker-data DIR' uses, the signing key that vouches for agencies'\n"
    "sealing keys (DIR/sign.key, mode 0600), and the LMDB store. Refuses to overwrite an\n"
    "existing broker. Prints the signing public key (64 hex characters, for\n"
    "'refnet-node init --broker-sign-key') on the line 'broker signing key ...: KEY', and the\n"
    "broker's public key as the last line.\n"
    "\n"
    "  --data DIR        broker folder (created if missing)\n"
    "  --bind ENDPOINT   where agencies connect (default tcp://127.0.0.1:7400)\n";

static const char ENROLL_USAGE[] =
    "usage: refnet-broker enroll --data DIR --agency ID --key PUBKEY [--name NAME]\n"
    "\n"
    "Enrols an agency: its node may then connect with the keypair whose public key is\n"
    "PUBKEY (printed by 'refnet-node init'). Enrolling an agency again replaces its key.\n"
    "\n"
    "  --data DIR      broker folder\n"
    "  --agency ID     agency id: 1-64 characters from A-Z a-z 0-9 . _ : -\n"
    "  --key PUBKEY    the agency's CURVE public key, 40 Z85 characters\n"
    "  --name NAME     display name (default: the id)\n";

static const char RUN_USAGE[] =
    "usage: refnet-broker run --data DIR [--log-level L] [--heartbeat-ms N] [--map-size-mb N]\n"
    "                         [--max-queue N] [--max-frame BYTES] [--max-ttl-s N]\n"
    "                         [--tombstone-retention-s N]\n"
    "\n"
    "Runs the broker in the foreground, logging to stderr. SIGINT or SIGTERM stops it\n"
    "cleanly: everything acknowledged is committed, and the store is closed.\n"
    "\n"
    "  --data DIR          broker folder\n"
    "  --log-level L       error, warn, info (default) or debug\n"
    "  --heartbeat-ms N    heartbeat asked of nodes, 50-60000 (default 1000); an agency is\n"
    "                      offline after 3 missed heartbeats\n"
    "  --map-size-mb N     LMDB map size in MiB (default 1024); a full map is answered\n"
    "                      'storage full' and the sender keeps the message to retry\n"
    "  --max-queue N       messages waiting for one agency, 1-10000000 (default 100000);\n"
    "                      over it senders are answered 'queue full' and retry later\n"
    "  --max-frame BYTES   largest request accepted, 1024 up to the protocol's limit\n"
    "                      (default and ceiling 65536); a larger one is answered\n"
    "                      'too large'\n"
    "  --max-ttl-s N       cap on every message's time to live in seconds (default: none;\n"
    "                      senders choose, up to 30 days); an expired message becomes a\n"
    "                      dead letter ('refnet admin dead-letters') and its sender is told\n"
    "  --tombstone-retention-s N\n"
    "                      how long a withdrawn service's tombstone is kept, in seconds\n"
    "                      (default 2592000, 30 days); a node offline for longer gets a\n"
    "                      snapshot of the directory when it returns\n";

static const char REVOKE_USAGE[] =
    "usage: refnet-broker revoke-agency --data DIR --agency ID\n"
    "\n"
    "Revokes an agency. On a running broker (asked through DIR/admin.sock) it takes effect\n"
    "at once: the agency's key is refused at the handshake, its live connection is told Bye\n"
    "and no longer served, mail addressed to it is refused, and every node learns of it\n"
    "(signed by the broker) and refuses new handoffs to it. On a stopped broker the\n"
    "revocation is written to its store and takes effect when it starts. Mail already\n"
    "queued for the agency is kept until its time to live runs out, then becomes a dead\n"
    "letter (its senders see it expire). Enrolling the agency again lifts the revocation.\n"
    "\n"
    "  --data DIR      broker folder\n"
    "  --agency ID     the agency to revoke\n";

static void
main_on_signal(int sig)
{
    (void)sig;
    atomic_store(&broker_stop_flag, 1);
}

static int
main_usage_error(const char *usage, const char *message)
{
    if (message)
        fprintf(stderr, "refnet-broker: %s\n", message);
    fputs(usage, stderr);
    return EXIT_USAGE;
}

static bool
main_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || !end || *end || end == text || text[0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Parses the options of every command into *a; returns 0, 1 for --help, or -1 on error. */
static int
main_parse(int argc, char **argv, main_args_t *a, const char **error)
{
    static const struct option opts[] = {
        { "data", required_argument, NULL, 'd' },
        { "bind", required_argument, NULL, 'b' },
        { "agency", required_argument, NULL, 'a' },
        { "key", required_argument, NULL, 'k' },
        { "name", required_argument, NULL, 'n' },
        { "log-level", required_argument, NULL, 'l' },
        { "heartbeat-ms", required_argument, NULL, 'H' },
        { "map-size-mb", required_argument, NULL, 'm' },
        { "max-queue", required_argument, NULL, 'q' },
        { "max-frame", required_argument, NULL, 'f' },
        { "max-ttl-s", required_argument, NULL, 't' },
        { "tombstone-retention-s", required_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->data = optarg;
            break;
        case 'b':
            a->bind = optarg;
            break;
        case 'a':
            a->agency = optarg;
            break;
        case 'k':
            a->key = optarg;
            break;
        case 'n':
            a->name = optarg;
            break;
        case 'l':
            if (log_level_parse(optarg, &a->level) != 0)
                return *error = "--log-level must be error, warn, info or debug", -1;
            break;
        case 'H':
            if (!main_parse_u64(optarg, BROKER_HEARTBEAT_MS_MIN, BROKER_HEARTBEAT_MS_MAX, &v))
                return *error = "--heartbeat-ms must be a number from 50 to 60000", -1;
            a->heartbeat_ms = (uint32_t)v;
            break;
        case 'm':
            if (!main_parse_u64(optarg, BROKER_MAP_SIZE_MB_MIN, BROKER_MAP_SIZE_MB_MAX, &v))
                return *error = "--map-size-mb must be a number from 1 to 1048576", -1;
            a->map_size_mb = (size_t)v;
            break;
        case 'q':
            if (!main_parse_u64(optarg, 1, BROKER_MAX_QUEUE_CEILING, &v))
                return *error = "--max-queue must be a number from 1 to 10000000", -1;
            a->max_queue = v;
            break;
        case 'f':
            /* Above the protocol's limit libzmq drops the connection instead of answering, so
             * larger values are clamped rather than refused. */
            if (!main_parse_u64(optarg, BROKER_MAX_FRAME_MIN, UINT32_MAX, &v))
                return *error = "--max-frame must be a number of bytes of at least 1024", -1;
            a->max_frame = v > WIRE_MAX_FRAME ? WIRE_MAX_FRAME : (size_t)v;
            break;
        case 't':
            if (!main_parse_u64(optarg, 1, WIRE_MAX_TTL_MS / 1000, &v))
                return *error = "--max-ttl-s must be a number of seconds, at least 1", -1;
            a->max_ttl_s = v;
            break;
        case 'R':
            if (!main_parse_u64(optarg, 0, BROKER_TOMBSTONE_RETENTION_S_MAX, &v))
                return *error = "--tombstone-retention-s must be a number of seconds, at most "
                                "315360000 (10 years)",
                       -1;
            a->tombstone_retention_s = v;
            break;
        case 'h':
            return 1;
        default:
            return *error = "unknown option or missing value", -1;
        }
    }
    if (optind < argc)
        return *error = "unexpected argument", -1;
    return 0;
}

static int
main_fail(const char *what, int rc, const char *why)
{
    fprintf(stderr, "refnet-broker: %s: %s\n", what, why && why[0] ? why : refnet_strerror(rc));
    return EXIT_FAILURE;
}

static int
main_init(const main_args_t *a)
{
    char key[KEYS_Z85_LEN], why[WIRE_WHY_LEN] = "";
    int rc = setup_init(a->data, a->bind, a->map_size_mb, key, why);
    if (rc)
        return main_fail("init failed", rc, why);
    printf("broker folder %s created; agencies connect to %s\n", a->data,
           a->bind ? a->bind : BROKER_DEFAULT_BIND);
    printf("admin keypair: %s/admin.cert (for 'refnet admin --broker-data %s')\n", a->data,
           a->data);
    uint8_t sign_pk[SEAL_KEY_LEN], sign_sk[SEAL_SIGN_SECRET_LEN];
    char sign_hex[SEAL_HEX_LEN];
    rc = setup_sign_key(a->data, sign_pk, sign_sk);
    if (rc)
        return main_fail("init failed", rc, "cannot read the new signing key");
    seal_key_hex(sign_pk, sign_hex);
    printf("broker signing key (refnet-node init --broker-sign-key): %s\n", sign_hex);
    printf("%s\n", key);
    return EXIT_SUCCESS;
}

static int
main_enroll(const main_args_t *a)
{
    char why[WIRE_WHY_LEN] = "";
    int rc = setup_enroll(a->data, a->agency, a->name, a->key, a->map_size_mb, why);
    if (rc)
        return main_fail("enroll failed", rc, why);
    printf("enrolled agency %s\n", a->agency);
    return EXIT_SUCCESS;
}

/* Takes DIR's broker lock as `run` does. Returns the descriptor holding it, -1 when a running
 * broker holds it (it is then asked through its admin socket), or -2 when it cannot be opened
 * (not a broker folder: setup_revoke says so). */
static int
main_lock_broker(const char *dir)
{
    return path_trylock(dir, SETUP_LOCK_FILE, false);
}

static int
main_revoke_online(const main_args_t *a)
{
    refnet_admin_t *admin = NULL;
    refnet_client_error_t err = { 0 };
    json_t *result = NULL;
    int rc = refnet_admin_open(&admin, a->data, &err);
    if (!rc)
        rc = refnet_admin_revoke(admin, a->agency, &result, &err);
    refnet_admin_destroy(&admin);
    if (rc)
        return main_fail("revoke-agency failed", rc, err.message);
    json_t *detail = json_object_get(result, "detail");
    printf("%s\n", json_is_string(detail) ? json_string_value(detail) : "revoked");
    json_decref(result);
    return EXIT_SUCCESS;
}

static int
main_revoke(const main_args_t *a)
{
    char why[WIRE_WHY_LEN] = "";
    bool already = false;
    int lock = main_lock_broker(a->data);
    if (lock == -1)
        return main_revoke_online(a);
    /* Holding the lock (when the folder has one): no broker starts until this is stored. */
    int rc = setup_revoke(a->data, a->agency, a->map_size_mb, &already, why);
    if (lock >= 0)
        close(lock);
    if (rc)
        return main_fail("revoke-agency failed", rc, why);
    printf("agency %s %s revoked (the broker is not running: it takes effect when it starts)\n",
           a->agency, already ? "was already" : "is");
    return EXIT_SUCCESS;
}

static void
main_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = main_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int
main_run(const main_args_t *a)
{
    broker_t *broker = NULL;
    broker_config_t cfg;
    broker_config_defaults(&cfg);
    cfg.heartbeat_ms = a->heartbeat_ms;
    cfg.map_size_mb = a->map_size_mb;
    cfg.max_queue = a->max_queue;
    cfg.max_frame = a->max_frame;
    cfg.max_ttl_ms = a->max_ttl_s * 1000;
    cfg.tombstone_retention_ms = a->tombstone_retention_s * 1000;
    cfg.stop = &broker_stop_flag;
    /* The daemon handles its own signals; czmq must not install its handler. */
    zsys_handler_set(NULL);
    main_signals();
    int rc = broker_open(&broker, a->data, &cfg);
    if (rc)
        return main_fail("cannot start", rc, NULL);
    rc = broker_run(broker);
    counters_log(broker_counters(broker));
    broker_destroy(&broker);
    log_info("stopped");
    return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
    main_args_t a = { .level = LOG_LEVEL_INFO,
                      .heartbeat_ms = BROKER_HEARTBEAT_MS_DEFAULT,
                      .map_size_mb = BROKER_MAP_SIZE_MB_DEFAULT,
                      .max_queue = BROKER_MAX_QUEUE,
                      .max_frame = WIRE_MAX_FRAME,
                      .tombstone_retention_s = BROKER_TOMBSTONE_RETENTION_S_DEFAULT };
    const char *error = NULL, *usage = MAIN_USAGE;
    if (argc < 2)
        return main_usage_error(MAIN_USAGE, "a command is required");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        return fputs(MAIN_USAGE, stdout), EXIT_SUCCESS;
    if (strcmp(cmd, "init") == 0)
        usage = INIT_USAGE;
    else if (strcmp(cmd, "enroll") == 0)
        usage = ENROLL_USAGE;
    else if (strcmp(cmd, "run") == 0)
        usage = RUN_USAGE;
    else if (strcmp(cmd, "revoke-agency") == 0)
        usage = REVOKE_USAGE;
    else
        return main_usage_error(MAIN_USAGE, "unknown command");
    int p = main_parse(argc - 1, argv + 1, &a, &error);
    if (p == 1)
        return fputs(usage, stdout), EXIT_SUCCESS;
    if (p < 0)
        return main_usage_error(usage, error);
    if (!a.data)
        return main_usage_error(usage, "--data DIR is required");
    log_init("refnet-broker", a.level);
    if (usage == INIT_USAGE)
        return main_init(&a);
    if (usage == ENROLL_USAGE) {
        if (!a.agency || !a.key)
            return main_usage_error(usage, "--agency and --key are required");
        return main_enroll(&a);
    }
    if (usage == REVOKE_USAGE) {
        if (!a.agency)
            return main_usage_error(usage, "--agency is required");
        return main_revoke(&a);
    }
    return main_run(&a);
}
