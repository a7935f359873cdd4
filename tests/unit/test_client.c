/* Unit tests of librefnet's node client (clients/lib/refnet.h).
 *
 * A small ROUTER in a thread stands in for the node's API socket: it speaks only the framing
 * of API.md and answers canned JSON by operation. The real node is covered by the integration
 * tests. Every socket lives in a mkdtemp folder that is removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "refnet.h"
#include "refnet_error.h"
#include "xmalloc.h"

/* The fake gives up after this long even if nobody stops it. */
#define FAKE_MAX_MS  30000
#define FAKE_POLL_MS 20

typedef struct {
    char dir[64];
    char path[128];
    void *ctx;
    void *router;
    pthread_t thread;
    atomic_int stop;
    atomic_int requests;
    pthread_mutex_t lock;
    json_t *last_args; /* under lock */
} fake_node_t;

static void
fake_send(void *router, zmq_msg_t *id, const char *body, bool extra_frame)
{
    zmq_msg_send(id, router, ZMQ_SNDMORE);
    zmq_send(router, "", 0, ZMQ_SNDMORE);
    zmq_send(router, body, strlen(body), extra_frame ? ZMQ_SNDMORE : 0);
    if (extra_frame)
        zmq_send(router, "{}", 2, 0);
}

/* The canned answer for one operation; NULL means no answer at all. */
static char *
fake_answer(fake_node_t *f, const char *op, json_t *args, bool *extra)
{
    *extra = false;
    if (strcmp(op, "status") == 0)
        return xstrdup("{\"ok\":true,\"result\":{\"agency\":\"harbor\",\"connected\":true,"
                       "\"directory_seq\":42}}");
    if (strcmp(op, "echo") == 0) {
        json_t *ans = json_pack("{s:b, s:{s:O}}", "ok", 1, "result", "args", args);
        char *text = json_dumps(ans, JSON_COMPACT);
        json_decref(ans);
        return text;
    }
    if (strcmp(op, "handoff.start") == 0)
        return xstrdup("{\"ok\":false,\"error\":{\"code\":\"consent\",\"message\":\"no valid "
                       "consent covers agency bridge for referral\"}}");
    if (strcmp(op, "weird.error") == 0)
        return xstrdup("{\"ok\":false,\"error\":{\"code\":\"martian\",\"message\":\"m\"}}");
    if (strcmp(op, "garbage") == 0)
        return xstrdup("this is not json");
    if (strcmp(op, "no.ok") == 0)
        return xstrdup("{\"result\":{}}");
    if (strcmp(op, "two.frames") == 0) {
        *extra = true;
        return xstrdup("{\"ok\":true,\"result\":{}}");
    }
    if (strcmp(op, "late") == 0) {
        usleep(300 * 1000);
        return xstrdup("{\"ok\":true,\"result\":{\"late\":true}}");
    }
    (void)f;
    return NULL; /* "silent" and anything unknown */
}

/* Answers one request [id, "", json] with [id, "", answer]. */
static void
fake_reply(fake_node_t *f, zmq_msg_t *id, zmq_msg_t *body)
{
    json_t *req = json_loadb(zmq_msg_data(body), zmq_msg_size(body), 0, NULL);
    const char *op = json_string_value(json_object_get(req, "op"));
    bool extra = false;
    char *answer = NULL;
    pthread_mutex_lock(&f->lock);
    json_decref(f->last_args);
    f->last_args = json_incref(json_object_get(req, "args"));
    pthread_mutex_unlock(&f->lock);
    if (json_integer_value(json_object_get(req, "v")) != 1 || !op)
        answer = xstrdup("{\"ok\":false,\"error\":{\"code\":\"invalid\",\"message\":\"bad\"}}");
    else
        answer = fake_answer(f, op, json_object_get(req, "args"), &extra);
    if (answer)
        fake_send(f->router, id, answer, extra);
    free(answer);
    json_decref(req);
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
        atomic_fetch_add(&f->requests, 1);
        fake_reply(f, &id, &body);
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

static fake_node_t *
fake_start(void)
{
    fake_node_t *f = xcalloc(1, sizeof *f);
    char endpoint[160];
    int linger = 0;
    snprintf(f->dir, sizeof f->dir, "/tmp/refnet-client-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/api.sock", f->dir);
    snprintf(endpoint, sizeof endpoint, "ipc://%s", f->path);
    pthread_mutex_init(&f->lock, NULL);
    f->ctx = zmq_ctx_new();
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    zmq_setsockopt(f->router, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(f->router, endpoint), 0);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
    return f;
}

static void
fake_stop(fake_node_t **fp)
{
    fake_node_t *f = *fp;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    unlink(f->path);
    rmdir(f->dir);
    json_decref(f->last_args);
    pthread_mutex_destroy(&f->lock);
    free(f);
    *fp = NULL;
}

static json_t *
fake_last_args(fake_node_t *f)
{
    pthread_mutex_lock(&f->lock);
    json_t *a = json_incref(f->last_args);
    pthread_mutex_unlock(&f->lock);
    return a;
}

static void
test_open_without_socket_is_unavailable(void **state)
{
    (void)state;
    char dir[] = "/tmp/refnet-client-XXXXXX";
    refnet_client_t *c = NULL;
    refnet_client_error_t err;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(refnet_client_open(&c, dir, &err), REFNET_EUNAVAIL);
    assert_null(c);
    assert_int_equal(err.code, REFNET_EUNAVAIL);
    assert_string_equal(err.name, "unavailable");
    assert_non_null(strstr(err.message, dir));
    assert_non_null(strstr(err.message, "is refnet-node running?"));
    /* A folder that does not exist at all says the same. */
    assert_int_equal(refnet_client_open(&c, "/nonexistent/refnet", &err), REFNET_EUNAVAIL);
    rmdir(dir);
}

static void
test_open_on_stale_socket_is_unavailable(void **state)
{
    (void)state;
    char dir[] = "/tmp/refnet-client-XXXXXX";
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    refnet_client_t *c = NULL;
    refnet_client_error_t err;
    assert_non_null(mkdtemp(dir));
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/api.sock", dir);
    /* A socket file left behind by a node that died: bound once, nobody listening. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    close(fd);
    assert_int_equal(refnet_client_open(&c, dir, &err), REFNET_EUNAVAIL);
    assert_non_null(strstr(err.message, "is refnet-node running?"));
    unlink(addr.sun_path);
    rmdir(dir);
}

static void
test_open_refuses_overlong_path(void **state)
{
    (void)state;
    char dir[300];
    refnet_client_t *c = NULL;
    refnet_client_error_t err;
    memset(dir, 'a', sizeof dir - 1);
    dir[0] = '/';
    dir[sizeof dir - 1] = '\0';
    assert_int_equal(refnet_client_open(&c, dir, &err), REFNET_EINVAL);
    assert_int_equal(refnet_client_open(&c, "", &err), REFNET_EINVAL);
    assert_null(c);
}

static void
test_round_trip(void **state)
{
    (void)state;
    fake_node_t *f = fake_start();
    refnet_client_t *c = NULL;
    refnet_client_error_t err;
    json_t *result = NULL;
    assert_int_equal(refnet_client_open(&c, f->dir, &err), 0);
    assert_int_equal(refnet_client_call(c, "status", NULL, &result, &err), 0);
    assert_string_equal(json_string_value(json_object_get(result, "agency")), "harbor");
    assert_int_equal(json_integer_value(json_object_get(result, "directory_seq")), 42);
    json_decref(result);
    /* NULL args travel as {}. */
    json_t *args = fake_last_args(f);
    assert_true(json_is_object(args) && json_object_size(args) == 0);
    json_decref(args);

    /* Args arrive as given (the reference is the call's). */
    json_t *sent = json_pack("{s:s, s:[s,s], s:b}", "name", "Caf\xc3\xa9", "share", "contact",
                             "notes", "accompany", 1);
    json_t *copy = json_deep_copy(sent);
    assert_int_equal(refnet_client_call(c, "echo", sent, &result, &err), 0);
    assert_true(json_equal(json_object_get(result, "args"), copy));
    json_decref(result);
    json_decref(copy);
    /* A caller that does not want the result may pass NULL. */
    assert_int_equal(refnet_client_call(c, "status", NULL, NULL, &err), 0);
    refnet_client_destroy(&c);
    assert_null(c);
    refnet_client_destroy(&c); /* twice is fine */
    refnet_client_destroy(NULL);
    fake_stop(&f);
}

static void
test_error_answers_map_to_codes(void **state)
{
    (void)state;
    fake_node_t *f = fake_start();
    refnet_client_t *c = NULL;
    refnet_client_error_t err;
    json_t *result = (json_t *)1;
    assert_int_equal(refnet_client_open(&c, f->dir, &err), 0);
    assert_int_equal(refnet_client_call(c, "handoff.start", json_object(), &result, &err),
                     REFNET_ECONSENT);
    assert_null(result);
    assert_int_equal(err.code, REFNET_ECONSENT);
    assert_string_equal(err.name, "consent");
    assert_string_equal(err.message, "no valid consent covers agency bridge for referral");
    /* A code this library does not know keeps its name and counts as internal. */
    assert_int_equal(refnet_client_call(c, "weird.error", NULL, &result, &err), REFNET_ESTORAGE);
    assert_string_equal(err.name, "martian");
    /* The error struct is optional. */
    assert_int_equal(refnet_client_call(c, "handoff.start", NULL, &result, NULL), REFNET_ECONSENT);
    refnet_client_destroy(&c);
    fake_stop(&f);
}

static void
test_malformed_answers_are_decode_errors(void **state)
{
    (void)state;
    fake_node_t *f = fake_start();
    refnet_client_t *c = NULL;
    refnet_client_error_t err;
    json_t *result = NULL;
    assert_int_equal(refnet_client_open(&c, f->dir, &err), 0);
    assert_int_equal(refnet_client_call(c, "garbage", NULL, &result, &err), REFNET_EDECODE);
    assert_int_equal(refnet_client_call(c, "no.ok", NULL, &result, &err), REFNET_EDECODE);
    assert_int_equal(refnet_client_call(c, "two.frames", NULL, &result, &err), REFNET_EDECODE);
    /* The socket is still usable after each. */
    assert_int_equal(refnet_client_call(c, "status", NULL, &result, &err), 0);
    json_decref(result);
    refnet_client_destroy(&c);
    fake_stop(&f);
}

static void
test_timeout_then_reconnect(void **state)
{
    (void)state;
    fake_node_t *f = fake_start();
    refnet_client_t *c = NULL;
    refnet_client_error_t err;
    json_t *result = NULL;
    assert_int_equal(refnet_client_open(&c, f->dir, &err), 0);
    refnet_client_set_timeout(c, 100);
    refnet_client_set_timeout(c, 0); /* ignored */
    assert_int_equal(refnet_client_call(c, "silent", NULL, &result, &err), REFNET_ETIMEOUT);
    assert_non_null(strstr(err.message, "did not answer within 100 ms"));
    assert_int_equal(refnet_client_call(c, "status", NULL, &result, &err), 0);
    json_decref(result);
    /* The late answer of a timed-out call must never be read as the next call's answer. */
    assert_int_equal(refnet_client_call(c, "late", NULL, &result, &err), REFNET_ETIMEOUT);
    refnet_client_set_timeout(c, 2000);
    assert_int_equal(refnet_client_call(c, "status", NULL, &result, &err), 0);
    assert_null(json_object_get(result, "late"));
    assert_string_equal(json_string_value(json_object_get(result, "agency")), "harbor");
    json_decref(result);
    refnet_client_destroy(&c);
    fake_stop(&f);
}

static void
test_oversized_request_is_not_sent(void **state)
{
    (void)state;
    fake_node_t *f = fake_start();
    refnet_client_t *c = NULL;
    refnet_client_error_t err;
    json_t *result = NULL;
    size_t big = REFNET_CLIENT_MAX_REQUEST + 10;
    char *text = xmalloc(big + 1);
    memset(text, 'x', big);
    text[big] = '\0';
    assert_int_equal(refnet_client_open(&c, f->dir, &err), 0);
    assert_int_equal(refnet_client_call(c, "echo", json_pack("{s:s}", "note", text), &result, &err),
                     REFNET_EINVAL);
    assert_int_equal(atomic_load(&f->requests), 0);
    assert_int_equal(refnet_client_call(c, "", NULL, &result, &err), REFNET_EINVAL);
    assert_int_equal(refnet_client_call(c, NULL, NULL, &result, &err), REFNET_EINVAL);
    free(text);
    refnet_client_destroy(&c);
    fake_stop(&f);
}

static void
test_error_set_formats(void **state)
{
    (void)state;
    refnet_client_error_t err;
    assert_int_equal(refnet_client_error_set(&err, REFNET_EFORBIDDEN, "no %s", "way"),
                     REFNET_EFORBIDDEN);
    assert_string_equal(err.name, "forbidden");
    assert_string_equal(err.message, "no way");
    assert_int_equal(refnet_client_error_set(NULL, REFNET_EIO, "x"), REFNET_EIO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_without_socket_is_unavailable),
        cmocka_unit_test(test_open_on_stale_socket_is_unavailable),
        cmocka_unit_test(test_open_refuses_overlong_path),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_error_answers_map_to_codes),
        cmocka_unit_test(test_malformed_answers_are_decode_errors),
        cmocka_unit_test(test_timeout_then_reconnect),
        cmocka_unit_test(test_oversized_request_is_not_sent),
        cmocka_unit_test(test_error_set_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
