/* bench_stats: the clock and the latency samples of the refnet benchmarks (tests/bench).
 *
 * bench_stats_now_us() is the monotonic clock in microseconds that every benchmark program
 * times with. A bench_stats_t collects latency samples in microseconds, up to a capacity fixed
 * when it is made, and answers percentiles over them. Samples beyond the capacity are counted
 * but not kept, so a run that goes on longer than planned stays bounded in memory.
 *
 * Ownership: the caller owns a bench_stats_t (bench_stats_destroy). Not thread-safe: one
 * thread adds and reads. */
#ifndef REFNET_BENCH_STATS_H
#define REFNET_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bench_stats bench_stats_t;

/* Microseconds on the monotonic clock (arbitrary origin). */
uint64_t bench_stats_now_us(void);
/* CPU time (user + system) in microseconds used so far by this process, or with `children`
 * by its waited-for child processes. On a machine whose cores are shared with other work, CPU
 * per message is the figure that stays comparable from run to run. */
uint64_t bench_stats_cpu_us(bool children);

/* Returns a new collection with room for `capacity` samples; aborts on out of memory only. */
bench_stats_t *bench_stats_new(size_t capacity);
/* Frees the collection. Accepts NULL; nulls *self_p. */
void bench_stats_destroy(bench_stats_t **self_p);

/* Records one sample of `us` microseconds (dropped, but counted, once the collection is full). */
void bench_stats_add(bench_stats_t *self, uint64_t us);
/* The number of samples kept. */
size_t bench_stats_count(const bench_stats_t *self);
/* The number of samples offered beyond the capacity. */
size_t bench_stats_dropped(const bench_stats_t *self);
/* The `pct`-th percentile (0..100, nearest rank) of the samples kept, in microseconds; 0 when
 * there are none. Sorts the samples in place; later adds are allowed. */
uint64_t bench_stats_percentile(bench_stats_t *self, double pct);

#endif
