/* Unit tests of broker/counters: a failed group commit takes back exactly the counters of
 * writes, and the log lines name every counter with its value. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "counters.h"
#include "log.h"

/* Gives every counter a distinct value: field i (in declaration order) = base + i. */
static void
fill(counters_t *c, uint64_t base)
{
    uint64_t *f = (uint64_t *)c;
    for (size_t i = 0; i < sizeof *c / sizeof(uint64_t); i++)
        f[i] = base + i;
}

static void
test_undo_restores_write_counters_only(void **state)
{
    (void)state;
    counters_t before, c;
    fill(&before, 100);
    fill(&c, 500);
    counters_t want = c;
    want.stored = before.stored;
    want.duplicates = before.duplicates;
    want.acked = before.acked;
    want.stray_acks = before.stray_acks;
    want.receipts = before.receipts;
    want.dir_changes = before.dir_changes;
    counters_undo_writes(&c, &before);
    assert_memory_equal(&c, &want, sizeof c);
    /* What happened on the wire stays counted. */
    assert_int_equal(c.frames, 500);
    assert_int_equal(c.delivered, 507);
    assert_int_equal(c.commits, 515);
    assert_int_equal(c.commit_failures, 516);
    assert_int_equal(c.stored, 104);
    assert_int_equal(c.dir_changes, 113);
}

/* Runs counters_log with stderr sent to a temporary file; returns its text (caller frees). */
static char *
captured_log(const counters_t *c)
{
    char path[] = "/tmp/refnet-counters-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    counters_log(c);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *text = calloc(1, 4096);
    if (text && lseek(fd, 0, SEEK_SET) == 0 && read(fd, text, 4095) < 0)
        text[0] = '\0';
    close(fd);
    unlink(path);
    return text;
}

static void
test_log_names_every_counter(void **state)
{
    (void)state;
    static const char *const names[] = {
        "frames",        "bad_frames",      "refused",        "forbidden",        "stored",
        "duplicates",    "queue_full",      "delivered",      "redelivered",      "acked",
        "stray_acks",    "receipts",        "expired",        "dir_changes",      "dir_updates",
        "commits",       "commit_failures", "peer_busy",      "peer_gone",        "admin_requests",
        "admin_refused", "shuns",           "shunned_frames", "key_rotations",    "revocations",
        "replays",       "batches_in",      "batches_out",    "early_deliveries",
    };
    assert_int_equal(sizeof names / sizeof names[0], sizeof(counters_t) / sizeof(uint64_t));
    counters_t c;
    fill(&c, 1000);
    log_init("refnet-test", LOG_LEVEL_INFO);
    char *text = captured_log(&c);
    assert_non_null(text);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, " %s=%zu", names[i], 1000 + i);
        assert_non_null(strstr(text, want));
    }
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_undo_restores_write_counters_only),
        cmocka_unit_test(test_log_names_every_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
