/* Unit tests of cli: global options, dispatch, help, exit statuses and output streams.
 *
 * Commands that talk to a node run against a small ROUTER in a thread that stands in for the
 * node's API socket (framing only, canned answers) in a mkdtemp folder. The real node is
 * covered by the integration tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "cli_table.h"
#include "refnet_error.h"
#include "xmalloc.h"

#define FAKE_MAX_MS  30000
#define FAKE_POLL_MS 20

typedef struct {
    char dir[64];
    char path[128];
    void *ctx;
    void *router;
    pthread_t thread;
    atomic_int stop;
} fake_node_t;

/* Canned answers by operation; "search" echoes its args so tests can see what was sent. */
static char *
fake_answer(const char *op, json_t *args)
{
    static const char *const canned[][2] = {
        { "status", "{\"ok\":true,\"result\":{\"agency\":\"harbor\",\"connected\":true,"
                    "\"directory_seq\":42}}" },
        { "person.add", "{\"ok\":true,\"result\":{\"id\":\"p-1\"}}" },
        { "handoff.start", "{\"ok\":false,\"error\":{\"code\":\"consent\",\"message\":"
                           "\"no valid consent covers agency bridge for referral\"}}" },
        { "consent.revoke", "{\"ok\":false,\"error\":{\"code\":\"invalid\",\"message\":"
                            "\"consent c-1 is already revoked\"}}" },
        { "handoff.show", "{\"ok\":false,\"error\":{\"code\":\"not-found\",\"message\":"
                          "\"no handoff h-9\"}}" },
        { "service.withdraw", "{\"ok\":false,\"error\":{\"code\":\"forbidden\",\"message\":"
                              "\"service detox-1 belongs to bridge\"}}" },
    };
    for (size_t i = 0; i < sizeof canned / sizeof canned[0]; i++)
        if (strcmp(op, canned[i][0]) == 0)
            return xstrdup(canned[i][1]);
    json_t *ans = json_pack("{s:b, s:{s:[], s:O}}", "ok", 1, "result", "services", "echo", args);
    char *text = json_dumps(ans, JSON_COMPACT);
    json_decref(ans);
    return text;
}

static void
fake_serve_one(fake_node_t *f)
{
    zmq_msg_t id, delim, body;
    zmq_msg_init(&id);
    zmq_msg_init(&delim);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&id, f->router, 0) >= 0 && zmq_msg_recv(&delim, f->router, 0) >= 0 &&
        zmq_msg_recv(&body, f->router, 0) >= 0) {
        json_t *req = json_loadb(zmq_msg_data(&body), zmq_msg_size(&body), 0, NULL);
        const char *op = json_string_value(json_object_get(req, "op"));
        char *answer = fake_answer(op ? op : "", json_object_get(req, "args"));
        zmq_msg_send(&id, f->router, ZMQ_SNDMORE);
        zmq_send(f->router, "", 0, ZMQ_SNDMORE);
        zmq_send(f->router, answer, strlen(answer), 0);
        free(answer);
        json_decref(req);
    }
    zmq_msg_close(&id);
    zmq_msg_close(&delim);
    zmq_msg_close(&body);
}

static void *
fake_run(void *arg)
{
    fake_node_t *f = arg;
    for (int i = 0; i < FAKE_MAX_MS / FAKE_POLL_MS && !atomic_load(&f->stop); i++) {
        zmq_pollitem_t item = { f->router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, FAKE_POLL_MS) > 0)
            fake_serve_one(f);
    }
    return NULL;
}

static int
fake_setup(void **state)
{
    fake_node_t *f = xcalloc(1, sizeof *f);
    char endpoint[160];
    int linger = 0;
    snprintf(f->dir, sizeof f->dir, "/tmp/refnet-cli-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/api.sock", f->dir);
    snprintf(endpoint, sizeof endpoint, "ipc://%s", f->path);
    f->ctx = zmq_ctx_new();
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    zmq_setsockopt(f->router, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(f->router, endpoint) != 0 || pthread_create(&f->thread, NULL, fake_run, f) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
fake_teardown(void **state)
{
    fake_node_t *f = *state;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* One CLI run: its exit status and what it wrote on each stream. */
typedef struct {
    int status;
    char *out;
    char *err;
} run_t;

static run_t
run_words(const char *node, char **words)
{
    run_t r = { 0, NULL, NULL };
    size_t olen = 0, elen = 0;
    char *argv[40];
    int argc = 0;
    argv[argc++] = xstrdup("refnet");
    for (; *words && argc < 39; words++)
        argv[argc++] = xstrdup(*words);
    argv[argc] = NULL;
    FILE *out = open_memstream(&r.out, &olen);
    FILE *err = open_memstream(&r.err, &elen);
    cli_t cli;
    cli_init(&cli, out, err);
    cli.node_dir = node;
    r.status = cli_main(&cli, argc, argv);
    cli_finish(&cli);
    fclose(out);
    fclose(err);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return r;
}

/* run(node, "word", ..., NULL) */
static run_t
run(const char *node, ...)
{
    char *words[40];
    int n = 0;
    va_list ap;
    va_start(ap, node);
    for (char *w = va_arg(ap, char *); w && n < 39; w = va_arg(ap, char *))
        words[n++] = w;
    va_end(ap);
    words[n] = NULL;
    return run_words(node, words);
}

static void
run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

/* The error stream holds exactly one line starting "refnet: ". */
static void
assert_one_error_line(const run_t *r, const char *needle)
{
    if (strncmp(r->err, "refnet: ", 8) != 0 || !strstr(r->err, needle))
        fail_msg("expected one \"refnet: ...%s...\" line, got \"%s\"", needle, r->err);
    assert_int_equal(strchr(r->err, '\n') - r->err + 1, (long)strlen(r->err));
}

static void
test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(cli_exit_code(0), CLI_EXIT_OK);
    assert_int_equal(cli_exit_code(REFNET_EINVAL), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(REFNET_ECONSENT), CLI_EXIT_REFUSED);
    assert_int_equal(cli_exit_code(REFNET_ETRANSITION), CLI_EXIT_REFUSED);
    assert_int_equal(cli_exit_code(REFNET_EFORBIDDEN), CLI_EXIT_REFUSED);
    assert_int_equal(cli_exit_code(REFNET_ENOTFOUND), CLI_EXIT_ERROR);
    assert_int_equal(cli_exit_code(REFNET_EUNAVAIL), CLI_EXIT_ERROR);
    assert_int_equal(cli_exit_code(REFNET_ETIMEOUT), CLI_EXIT_ERROR);
    assert_int_equal(cli_exit_code(REFNET_EDECODE), CLI_EXIT_ERROR);
}

static void
test_help_everywhere(void **state)
{
    (void)state;
    run_t r = run(NULL, "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: refnet"));
    assert_string_equal(r.err, "");
    run_free(&r);
    r = run(NULL, "help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "handoff milestone"));
    run_free(&r);
    r = run(NULL, "help", "handoff", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "handoff start"));
    run_free(&r);
    r = run(NULL, "--version", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "refnet "));
    run_free(&r);

    /* Every command explains itself, without a node, on stdout, exit 0. */
    size_t n;
    const cli_command_t *cmds = cli_table_commands(&n);
    for (size_t i = 0; i < n; i++) {
        char *words[4] = { (char *)cmds[i].name, (char *)cmds[i].sub, NULL, NULL };
        words[cmds[i].sub ? 2 : 1] = (char *)"--help";
        r = run_words(NULL, words);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "usage: refnet"));
        assert_non_null(strstr(r.out, cmds[i].name));
        assert_string_equal(r.err, "");
        run_free(&r);
        /* And through "refnet help ...". */
        char *help_words[4] = { (char *)"help", (char *)cmds[i].name, (char *)cmds[i].sub, NULL };
        r = run_words(NULL, help_words);
        assert_int_equal(r.status, 0);
        char start[24];
        snprintf(start, sizeof start, "%s", cmds[i].help); /* the help is wrapped later on */
        assert_non_null(strstr(r.out, start));
        run_free(&r);
    }
}

static void
test_usage_errors_exit_2(void **state)
{
    (void)state;
    struct {
        const char *words[10];
        const char *needle;
    } cases[] = {
        { { NULL }, "no command given" },
        { { "bogus", NULL }, "unknown command \"bogus\"" },
        { { "service", NULL }, "service needs a sub-command: publish, availability, withdraw" },
        { { "service", "frob", NULL }, "unknown command \"service frob\"" },
        { { "--bogus", "status", NULL }, "unknown option --bogus" },
        { { "--timeout", "0", "status", NULL }, "--timeout must be between" },
        { { "--node", NULL }, "--node needs a value" },
        { { "help", "bogus", NULL }, "unknown command \"bogus\"" },
        { { "search", "--near", "91,0", NULL }, "latitude" },
        { { "person", "add", NULL }, "person add needs --name NAME" },
        { { "handoff", "show", NULL }, "handoff show needs ID" },
        { { "handoff", "milestone", "h1", "lunch", NULL }, "MILESTONE must be one of" },
        { { "consent", "grant", "--person", "p", "--to", "b", "--purpose", NULL },
          "--purpose needs a value" },
        { { "status", "extra", NULL }, "unexpected argument \"extra\"" },
        /* No node anywhere: a usage problem, said plainly. */
        { { "status", NULL }, "no node given: use --node DIR or set REFNET_NODE" },
        { { "admin", "nodes", NULL }, "no broker data folder given" },
        /* "audit" is both a plain command and a group with "verify". */
        { { "audit", "--since", "2026-02-30", NULL }, "--since needs a real date" },
        { { "audit", "frob", NULL }, "unknown command \"audit frob\"" },
        { { "audit", NULL }, "no node given" },
        { { "audit", "verify", NULL }, "no node given" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_t r = run_words(NULL, (char **)cases[i].words);
        if (r.status != CLI_EXIT_USAGE)
            fail_msg("case %zu: exit %d, stderr \"%s\"", i, r.status, r.err);
        assert_one_error_line(&r, cases[i].needle);
        assert_string_equal(r.out, "");
        run_free(&r);
    }
}

static void
test_node_not_running_exits_1(void **state)
{
    (void)state;
    char dir[] = "/tmp/refnet-cli-XXXXXX";
    assert_non_null(mkdtemp(dir));
    run_t r = run(dir, "status", NULL);
    assert_int_equal(r.status, CLI_EXIT_ERROR);
    char want[128];
    snprintf(want, sizeof want, "refnet: cannot reach the node at %s (is refnet-node running?)\n",
             dir);
    assert_string_equal(r.err, want);
    assert_string_equal(r.out, "");
    run_free(&r);
    /* The broker side says the same kind of thing. */
    r = run(NULL, "admin", "--broker-data", dir, "nodes", NULL);
    assert_int_equal(r.status, CLI_EXIT_ERROR);
    assert_one_error_line(&r, "admin.cert_secret");
    run_free(&r);
    rmdir(dir);
}

static void
test_results_and_refusals(void **state)
{
    fake_node_t *f = *state;
    run_t r = run(f->dir, "person", "add", "--name", "Ana", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "p-1\n"); /* the bare id, for $(...) */
    assert_string_equal(r.err, "");
    run_free(&r);

    r = run(f->dir, "status", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "agency:        harbor\n"));
    assert_non_null(strstr(r.out, "connected:     true\n"));
    assert_non_null(strstr(r.out, "directory_seq: 42\n"));
    run_free(&r);

    r = run(f->dir, "handoff", "start", "--person", "p-1", "--service", "detox-1", NULL);
    assert_int_equal(r.status, CLI_EXIT_REFUSED);
    assert_one_error_line(&r, "no valid consent covers agency bridge");
    assert_string_equal(r.out, "");
    run_free(&r);

    r = run(f->dir, "service", "withdraw", "detox-1", NULL);
    assert_int_equal(r.status, CLI_EXIT_REFUSED);
    run_free(&r);

    r = run(f->dir, "consent", "revoke", "c-1", NULL);
    assert_int_equal(r.status, CLI_EXIT_USAGE); /* the node's "invalid" */
    assert_one_error_line(&r, "already revoked");
    run_free(&r);

    r = run(f->dir, "handoff", "show", "h-9", NULL);
    assert_int_equal(r.status, CLI_EXIT_ERROR); /* "not-found" */
    run_free(&r);
}

static void
test_json_is_one_document_of_the_request(void **state)
{
    fake_node_t *f = *state;
    run_t r = run(f->dir, "search", "detox", "beds", "--near", "45.5,-122.6", "--radius-km", "10",
                  "--available", "--taxonomy", "detox", "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    json_error_t jerr;
    /* json_loads refuses anything after the document, so this proves there is just one. */
    json_t *doc = json_loads(r.out, 0, &jerr);
    if (!doc)
        fail_msg("stdout is not one JSON document: %s\n%s", jerr.text, r.out);
    assert_true(json_is_array(json_object_get(doc, "services")));
    json_t *sent = json_object_get(doc, "echo");
    assert_string_equal(json_string_value(json_object_get(sent, "text")), "detox beds");
    assert_string_equal(json_string_value(json_object_get(sent, "taxonomy")), "detox");
    assert_true(json_is_true(json_object_get(sent, "available")));
    assert_true(json_is_number(json_object_get(sent, "radius_km")));
    assert_true(json_is_number(json_object_get(json_object_get(sent, "near"), "lat")));
    json_decref(doc);
    run_free(&r);

    /* Without --json the same result is a table. */
    r = run(f->dir, "search", "detox", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "no services found\n");
    run_free(&r);

    /* --json works for commands that create things too. */
    r = run(f->dir, "person", "add", "--name", "Ana", "--json", NULL);
    assert_int_equal(r.status, 0);
    doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "id")), "p-1");
    json_decref(doc);
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_help_everywhere),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_node_not_running_exits_1),
        cmocka_unit_test_setup_teardown(test_results_and_refusals, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_json_is_one_document_of_the_request, fake_setup,
                                        fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
