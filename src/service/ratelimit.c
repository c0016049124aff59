/*
 * Per-client rate limits: a token bucket per client name (API key name or
 * address), in a fixed hash table. When the table is full, the least
 * recently seen bucket is reused: a flood of new clients cannot grow
 * memory, only reset old clients' buckets to full.
 */
#include "service/service.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RL_SLOTS 4096
#define RL_PROBE 8

struct rl_bucket {
	char client[128];
	double tokens, last_s;
	bool used;
};

struct svc_ratelimit {
	double rate, burst;
	pthread_mutex_t mu;
	struct rl_bucket *b;
};

struct svc_ratelimit *svc_ratelimit_new(double rate, double burst)
{
	struct svc_ratelimit *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->b = calloc(RL_SLOTS, sizeof(*r->b))) == NULL) {
		free(r);
		return NULL;
	}
	r->rate = rate;
	r->burst = burst < 1 ? 1 : burst;
	pthread_mutex_init(&r->mu, NULL);
	return r;
}

void svc_ratelimit_free(struct svc_ratelimit *r)
{
	if (r != NULL) {
		pthread_mutex_destroy(&r->mu);
		free(r->b);
		free(r);
	}
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static struct rl_bucket *find(struct svc_ratelimit *r, const char *client, double now_s)
{
	uint32_t h = fnv1a(client);
	struct rl_bucket *oldest = NULL;

	for (int i = 0; i < RL_PROBE; i++) {
		struct rl_bucket *b = &r->b[(h + (uint32_t)i) % RL_SLOTS];
		if (b->used && strcmp(b->client, client) == 0)
			return b;
		if (!b->used || oldest == NULL || (oldest->used && b->last_s < oldest->last_s))
			oldest = b;
		if (!b->used)
			break;
	}
	snprintf(oldest->client, sizeof(oldest->client), "%s", client);
	oldest->used = true;
	oldest->tokens = r->burst;
	oldest->last_s = now_s;
	return oldest;
}

bool svc_ratelimit_take(struct svc_ratelimit *r, const char *client, double now_s, int *retry_after_s)
{
	struct rl_bucket *b;
	bool ok;

	*retry_after_s = 0;
	if (r == NULL || r->rate <= 0)
		return true;
	pthread_mutex_lock(&r->mu);
	b = find(r, client, now_s);
	if (now_s > b->last_s)
		b->tokens += (now_s - b->last_s) * r->rate;
	if (b->tokens > r->burst)
		b->tokens = r->burst;
	b->last_s = now_s;
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	else
		*retry_after_s = 1 + (int)((1.0 - b->tokens) / r->rate);
	pthread_mutex_unlock(&r->mu);
	return ok;
}
