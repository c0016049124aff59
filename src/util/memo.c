/*
 * A small process-wide memory of 32-byte keys (SHA-256 digests) that stand
 * for computations known to have succeeded: a certificate signature checked
 * against an issuer, a RIM document whose XML signature verified. The key
 * must bind every input of the computation; then a hit is as good as
 * redoing it. Fixed size, direct-mapped, thread-safe; a collision simply
 * evicts.
 */
#include "util/util.h"

#include <pthread.h>
#include <string.h>

#define MEMO_SLOTS 1024

#define MEMO_INFLIGHT 32

static struct {
	pthread_mutex_t lock;
	pthread_cond_t settled;		/* an in-flight key was settled */
	bool disabled;
	bool used[MEMO_SLOTS];
	uint8_t key[MEMO_SLOTS][33];
	unsigned long hits, misses;
	bool busy[MEMO_INFLIGHT];	/* keys being worked on (memo_claim) */
	uint8_t inflight[MEMO_INFLIGHT][33];
} memo = {.lock = PTHREAD_MUTEX_INITIALIZER, .settled = PTHREAD_COND_INITIALIZER};

static size_t memo_slot(uint8_t kind, const uint8_t key[32])
{
	return ((size_t)key[0] | (size_t)key[1] << 8 | (size_t)kind << 4) % MEMO_SLOTS;
}

/* With the lock held. */
static bool known(uint8_t kind, const uint8_t key[32])
{
	size_t s = memo_slot(kind, key);

	return !memo.disabled && memo.used[s] && memo.key[s][0] == kind &&
	    memcmp(memo.key[s] + 1, key, 32) == 0;
}

/* With the lock held. */
static void remember(uint8_t kind, const uint8_t key[32])
{
	size_t s = memo_slot(kind, key);

	if (memo.disabled)
		return;
	memo.used[s] = true;
	memo.key[s][0] = kind;
	memcpy(memo.key[s] + 1, key, 32);
}

bool memo_has(uint8_t kind, const uint8_t key[32])
{
	bool hit;

	pthread_mutex_lock(&memo.lock);
	hit = known(kind, key);
	hit ? memo.hits++ : memo.misses++;
	pthread_mutex_unlock(&memo.lock);
	return hit;
}

void memo_add(uint8_t kind, const uint8_t key[32])
{
	pthread_mutex_lock(&memo.lock);
	remember(kind, key);
	pthread_mutex_unlock(&memo.lock);
}

/* With the lock held: the in-flight slot of the key, or -1. */
static int inflight_find(uint8_t kind, const uint8_t key[32])
{
	for (int i = 0; i < MEMO_INFLIGHT; i++)
		if (memo.busy[i] && memo.inflight[i][0] == kind && memcmp(memo.inflight[i] + 1, key, 32) == 0)
			return i;
	return -1;
}

bool memo_claim(uint8_t kind, const uint8_t key[32])
{
	bool hit;

	pthread_mutex_lock(&memo.lock);
	while (!memo.disabled && !known(kind, key) && inflight_find(kind, key) >= 0)
		pthread_cond_wait(&memo.settled, &memo.lock);
	hit = known(kind, key);
	hit ? memo.hits++ : memo.misses++;
	if (!hit && !memo.disabled) {
		/* Ours to do. With no free in-flight slot others may do it too:
		 * only time is lost. */
		for (int i = 0; i < MEMO_INFLIGHT; i++)
			if (!memo.busy[i]) {
				memo.busy[i] = true;
				memo.inflight[i][0] = kind;
				memcpy(memo.inflight[i] + 1, key, 32);
				break;
			}
	}
	pthread_mutex_unlock(&memo.lock);
	return hit;
}

void memo_settle(uint8_t kind, const uint8_t key[32], bool ok)
{
	int i;

	pthread_mutex_lock(&memo.lock);
	if (ok)
		remember(kind, key);
	if ((i = inflight_find(kind, key)) >= 0)
		memo.busy[i] = false;
	pthread_cond_broadcast(&memo.settled);
	pthread_mutex_unlock(&memo.lock);
}

void memo_set_enabled(bool on)
{
	pthread_mutex_lock(&memo.lock);
	memo.disabled = !on;
	memset(memo.used, 0, sizeof(memo.used));
	pthread_mutex_unlock(&memo.lock);
}

void memo_stats(unsigned long *hits, unsigned long *misses)
{
	pthread_mutex_lock(&memo.lock);
	*hits = memo.hits;
	*misses = memo.misses;
	pthread_mutex_unlock(&memo.lock);
}
