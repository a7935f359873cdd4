/* bench_stats: the benchmarks' clock and latency percentiles (see bench_stats.h). */
#include "bench_stats.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "xmalloc.h"

struct bench_stats {
    uint64_t *samples;
    size_t capacity;
    size_t count;
    size_t dropped;
    bool sorted;
};

uint64_t
bench_stats_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
bench_stats_cpu_us(bool children)
{
    struct rusage ru;
    if (getrusage(children ? RUSAGE_CHILDREN : RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

bench_stats_t *
bench_stats_new(size_t capacity)
{
    bench_stats_t *self = xcalloc(1, sizeof *self);
    self->samples = xcalloc(capacity ? capacity : 1, sizeof *self->samples);
    self->capacity = capacity;
    return self;
}

void
bench_stats_destroy(bench_stats_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->samples);
    free(*self_p);
    *self_p = NULL;
}

void
bench_stats_add(bench_stats_t *self, uint64_t us)
{
    if (self->count == self->capacity) {
        self->dropped++;
        return;
    }
    self->samples[self->count++] = us;
    self->sorted = false;
}

size_t
bench_stats_count(const bench_stats_t *self)
{
    return self->count;
}

size_t
bench_stats_dropped(const bench_stats_t *self)
{
    return self->dropped;
}

static int
bench_stats_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t
bench_stats_percentile(bench_stats_t *self, double pct)
{
    if (self->count == 0)
        return 0;
    if (!self->sorted) {
        qsort(self->samples, self->count, sizeof *self->samples, bench_stats_cmp);
        self->sorted = true;
    }
    if (pct <= 0)
        return self->samples[0];
    /* Nearest rank: the smallest sample with at least pct% of the samples at or below it. */
    double rank = pct / 100.0 * (double)self->count;
    size_t idx = (size_t)rank;
    if ((double)idx < rank)
        idx++;
    if (idx == 0)
        idx = 1;
    if (idx > self->count)
        idx = self->count;
    return self->samples[idx - 1];
}
