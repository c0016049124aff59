/*
 * util/pool: work queue (see pool.h). Threads are started by pool_run and
 * joined before it returns, so no thread outlives the work it was made for.
 */
#include "util/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL_MAX_THREADS 16

struct task {
	void (*fn)(void *);
	void *arg;
};

struct gpa_pool {
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* a task was added, or one finished */
	struct task *q;			/* ring of cap slots, n queued from head */
	size_t cap, head, n;
	unsigned running;		/* tasks being run now */
	unsigned threads;
};

unsigned cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > POOL_MAX_THREADS ? POOL_MAX_THREADS : (unsigned)n;
}

struct gpa_pool *pool_new(unsigned threads)
{
	struct gpa_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (threads == 0)
		threads = cpu_count() + 1;
	p->threads = threads > POOL_MAX_THREADS ? POOL_MAX_THREADS : threads;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	return p;
}

void pool_free(struct gpa_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->changed);
	free(p->q);
	free(p);
}

/* With the lock held. */
static int grow(struct gpa_pool *p)
{
	size_t cap = p->cap ? p->cap * 2 : 16;
	struct task *q;

	if (p->n < p->cap)
		return 0;
	if ((q = calloc(cap, sizeof(*q))) == NULL)
		return -1;
	for (size_t i = 0; i < p->n; i++)
		q[i] = p->q[(p->head + i) % p->cap];
	free(p->q);
	p->q = q;
	p->cap = cap;
	p->head = 0;
	return 0;
}

static int add(struct gpa_pool *p, void (*fn)(void *), void *arg, bool first)
{
	int rc;

	pthread_mutex_lock(&p->lock);
	if ((rc = grow(p)) == 0) {
		size_t at;
		if (first) {
			p->head = (p->head + p->cap - 1) % p->cap;
			at = p->head;
		} else {
			at = (p->head + p->n) % p->cap;
		}
		p->q[at] = (struct task){fn, arg};
		p->n++;
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int pool_add(struct gpa_pool *p, void (*fn)(void *), void *arg)
{
	return add(p, fn, arg, false);
}

int pool_add_first(struct gpa_pool *p, void (*fn)(void *), void *arg)
{
	return add(p, fn, arg, true);
}

/* Takes tasks until there is nothing queued and nothing running (a running
 * task may still add some). */
static void *work(void *arg)
{
	struct gpa_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->n > 0) {
			struct task t = p->q[p->head];
			p->head = (p->head + 1) % p->cap;
			p->n--;
			p->running++;
			pthread_mutex_unlock(&p->lock);
			t.fn(t.arg);
			pthread_mutex_lock(&p->lock);
			p->running--;
			pthread_cond_broadcast(&p->changed);
		} else if (p->running == 0) {
			break;
		} else {
			pthread_cond_wait(&p->changed, &p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void pool_run(struct gpa_pool *p)
{
	pthread_t th[POOL_MAX_THREADS];
	unsigned nth = 0;
	size_t queued;

	pthread_mutex_lock(&p->lock);
	queued = p->n;
	pthread_mutex_unlock(&p->lock);
	/* No more threads than tasks: each extra one costs ~50 us to start. */
	while (nth + 1 < p->threads && nth + 1 < queued)
		if (pthread_create(&th[nth], NULL, work, p) == 0)
			nth++;
		else
			break;
	work(p);
	for (unsigned i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
}

struct for_task {
	void (*fn)(void *, size_t);
	void *arg;
	size_t i;
};

static void for_one(void *arg)
{
	struct for_task *t = arg;

	t->fn(t->arg, t->i);
}

void parallel_for(size_t n, unsigned threads, void (*fn)(void *arg, size_t i), void *arg)
{
	struct gpa_pool *p = n > 1 ? pool_new(threads) : NULL;
	struct for_task *t = p != NULL ? calloc(n, sizeof(*t)) : NULL;
	size_t i = 0;

	if (t != NULL) {
		for (; i < n; i++) {
			t[i] = (struct for_task){fn, arg, i};
			if (pool_add(p, for_one, &t[i]) != 0)
				break;
		}
		pool_run(p);
	}
	/* What could not be queued runs here. */
	for (; i < n; i++)
		fn(arg, i);
	free(t);
	pool_free(p);
}
