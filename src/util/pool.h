/*
 * util/pool: a small work queue on a few threads, for the CPU-bound parts of
 * one verification (signature checks, RIM loading, OCSP answers).
 *
 * Tasks run in the order added, except that pool_add_first puts one at the
 * head (long tasks found late, so that they do not finish last). A task may
 * add further tasks. pool_run works too: the calling thread takes tasks
 * until the queue is empty and no task is running; so a pool whose threads
 * could not be started still does all its work, on one thread.
 *
 * Never: runs a task twice, or returns from pool_run with a task still
 * queued or running.
 */
#ifndef GPA_UTIL_POOL_H
#define GPA_UTIL_POOL_H

#include <stddef.h>

struct gpa_pool;

/* At most `threads` threads in all, the caller's (pool_run) included; 0
 * means one per online CPU, plus one (a task may wait on the network).
 * NULL when out of memory. */
struct gpa_pool *pool_new(unsigned threads);
/* 0, or -1 out of memory (the task then did not run: run it yourself). */
int pool_add(struct gpa_pool *p, void (*fn)(void *arg), void *arg);
int pool_add_first(struct gpa_pool *p, void (*fn)(void *arg), void *arg);
/* Runs every task, the ones added meanwhile included, then returns. The
 * pool may be used again. */
void pool_run(struct gpa_pool *p);
void pool_free(struct gpa_pool *p);

/* fn(arg, i) for every i in [0, n), on a pool of `threads` (as pool_new). */
void parallel_for(size_t n, unsigned threads, void (*fn)(void *arg, size_t i), void *arg);

/* Online CPUs, at least 1. */
unsigned cpu_count(void);

#endif
