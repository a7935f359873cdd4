/* Unit tests of node: creating a data folder, the folder lock, and the local API served over
 * the real ipc socket by node_run() in a thread (no broker: it stays disconnected). */
#include "test_node_fixture.h"

#include <czmq.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "keys.h"
#include "node.h"
#include "refnet_error.h"

#define BROKER_KEY "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"

typedef struct {
    char dir[64];
    volatile sig_atomic_t stop;
    int open_rc;
    volatile int ready;
} t_t;

static int
setup(void **state)
{
    t_t *t = xcalloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/refnet-node-test-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    t_t *t = *state;
    nfx_rmrf(t->dir);
    free(t);
    return 0;
}

static void
test_create_refuses_overwrite(void **state)
{
    t_t *t = *state;
    char pub[KEYS_Z85_LEN], pub2[KEYS_Z85_LEN];
    char sub[128];
    snprintf(sub, sizeof sub, "%s/n", t->dir);
    assert_int_equal(node_create(sub, "harbor", "Harbor House", "tcp://127.0.0.1:1", BROKER_KEY,
                                 (size_t)16 << 20, pub),
                     0);
    assert_true(keys_z85_valid(pub));
    assert_int_equal(node_create(sub, "harbor", "Harbor House", "tcp://127.0.0.1:1", BROKER_KEY,
                                 (size_t)16 << 20, pub2),
                     REFNET_EEXIST);
    struct stat sb;
    assert_int_equal(stat(sub, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
    /* An uninitialised folder cannot be opened. */
    node_t *node = NULL;
    node_config_t cfg = { t->dir, 1000, (size_t)16 << 20 };
    assert_int_equal(node_open(&node, &cfg), REFNET_ENOTFOUND);
    assert_null(node);
}

static void *
run_node(void *arg)
{
    t_t *t = arg;
    node_t *node = NULL;
    node_config_t cfg = { t->dir, 1000, (size_t)16 << 20 };
    t->open_rc = node_open(&node, &cfg);
    t->ready = 1;
    if (t->open_rc == 0)
        node_run(node, &t->stop);
    node_destroy(&node);
    return NULL;
}

/* One request over the API socket; returns the parsed answer. */
static json_t *
request(const char *dir, const char *text)
{
    zsock_t *req = zsock_new(ZMQ_REQ);
    zsock_set_rcvtimeo(req, 5000);
    zsock_set_linger(req, 0);
    assert_int_equal(zsock_connect(req, "ipc://%s/api.sock", dir), 0);
    assert_int_equal(zstr_send(req, text), 0);
    char *answer = zstr_recv(req);
    zsock_destroy(&req);
    assert_non_null(answer);
    json_t *doc = json_loads(answer, 0, NULL);
    zstr_free(&answer);
    return doc;
}

static void
test_serves_the_api_socket(void **state)
{
    t_t *t = *state;
    char pub[KEYS_Z85_LEN], sock[128];
    pthread_t th;
    assert_int_equal(node_create(t->dir, "harbor", "Harbor House", "tcp://127.0.0.1:1", BROKER_KEY,
                                 (size_t)16 << 20, pub),
                     0);
    assert_int_equal(pthread_create(&th, NULL, run_node, t), 0);
    for (int i = 0; i < 500 && !t->ready; i++)
        usleep(10000);
    assert_int_equal(t->open_rc, 0);

    snprintf(sock, sizeof sock, "%s/api.sock", t->dir);
    struct stat sb;
    assert_int_equal(stat(sock, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* A second daemon on the same folder is refused by the lock. */
    node_t *other = NULL;
    node_config_t cfg = { t->dir, 1000, (size_t)16 << 20 };
    assert_int_equal(node_open(&other, &cfg), REFNET_EEXIST);

    json_t *doc = request(t->dir, "{\"v\":1,\"op\":\"status\"}");
    json_t *r = json_object_get(doc, "result");
    assert_string_equal(json_string_value(json_object_get(r, "agency")), "harbor");
    assert_string_equal(json_string_value(json_object_get(r, "name")), "Harbor House");
    assert_true(json_is_false(json_object_get(r, "connected")));
    json_decref(doc);
    doc = request(t->dir, "{\"op\":\"person.add\",\"args\":{\"name\":\"Sam\"}}");
    assert_true(json_is_true(json_object_get(doc, "ok")));
    json_decref(doc);
    doc = request(t->dir, "garbage");
    assert_true(json_is_false(json_object_get(doc, "ok")));
    json_decref(doc);

    t->stop = 1;
    assert_int_equal(pthread_join(th, NULL), 0);
    /* A clean stop removes the socket file. */
    assert_int_not_equal(stat(sock, &sb), 0);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_refuses_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serves_the_api_socket, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
