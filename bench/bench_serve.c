/*
 * A bounded HTTP load client for `gpuattest serve` on loopback: CONNS
 * keep-alive connections (one thread each) send TOTAL POST requests of one
 * body in all, and it reports throughput, p50 / p99 / max latency and the
 * status codes. It stops by itself after TOTAL requests or LIMIT seconds.
 *
 *   bench_serve PORT PATH BODY-FILE CONNS TOTAL [LIMIT-S] [API-KEY]
 *
 * Only 127.0.0.1 is ever contacted. Exit 1 when a request did not get 200.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static const char *path, *key;
static char *body;
static size_t body_len;
static long total;
static double limit_s, t0;
static atomic_long next_req, ok_count, bad_count;
static double *lat;		/* seconds, one per request done */
static atomic_long nlat;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_lo(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one response (Content-Length framed); returns the status or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *hdr_end = NULL;
	long clen = -1;
	int status;

	while (hdr_end == NULL) {
		if (have + 1 >= cap)
			return -1;
		ssize_t r = recv(fd, buf + have, cap - 1 - have, 0);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (char *p = buf; p < hdr_end; p = strstr(p, "\r\n") + 2) {
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = strtol(p + 15, NULL, 10);
		if (strstr(p, "\r\n") == NULL)
			break;
	}
	if (clen < 0)
		return -1;
	size_t want = (size_t)(hdr_end + 4 - buf) + (size_t)clen;
	while (have < want) {
		char tmp[65536];
		size_t room = want - have < sizeof(tmp) ? want - have : sizeof(tmp);
		ssize_t r = recv(fd, tmp, room, 0);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	return status;
}

static void *worker(void *arg)
{
	char hdr[512], *buf = malloc(1 << 20);
	int fd = -1;

	(void)arg;
	for (;;) {
		long i = atomic_fetch_add(&next_req, 1);
		if (i >= total || now() - t0 > limit_s)
			break;
		if (fd < 0 && (fd = connect_lo()) < 0) {
			atomic_fetch_add(&bad_count, 1);
			continue;
		}
		int n = snprintf(hdr, sizeof(hdr), "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n%s%s%s\r\n", path, port,
		    body_len, key ? "Authorization: Bearer " : "", key ? key : "", key ? "\r\n" : "");
		double t = now();
		int st = send_all(fd, hdr, (size_t)n) == 0 && send_all(fd, body, body_len) == 0 ?
		    read_response(fd, buf, 1 << 20) : -1;
		double dt = now() - t;
		if (st == 200) {
			atomic_fetch_add(&ok_count, 1);
			lat[atomic_fetch_add(&nlat, 1)] = dt;
		} else {
			atomic_fetch_add(&bad_count, 1);
			if (st < 0) {
				close(fd);
				fd = -1;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	FILE *f;
	int conns;
	pthread_t th[256];

	if (argc < 6) {
		fprintf(stderr, "usage: bench_serve PORT PATH BODY-FILE CONNS TOTAL [LIMIT-S] [API-KEY]\n");
		return 2;
	}
	port = atoi(argv[1]);
	path = argv[2];
	conns = atoi(argv[4]);
	total = atol(argv[5]);
	limit_s = argc > 6 ? atof(argv[6]) : 60;
	key = argc > 7 ? argv[7] : NULL;
	if (port <= 0 || conns < 1 || conns > 256 || total < 1 || total > 1000000 || limit_s <= 0) {
		fprintf(stderr, "bench_serve: bad arguments\n");
		return 2;
	}
	if ((f = fopen(argv[3], "rb")) == NULL) {
		fprintf(stderr, "bench_serve: %s: %s\n", argv[3], strerror(errno));
		return 2;
	}
	fseek(f, 0, SEEK_END);
	body_len = (size_t)ftell(f);
	rewind(f);
	body = malloc(body_len + 1);
	if (body == NULL || fread(body, 1, body_len, f) != body_len) {
		fprintf(stderr, "bench_serve: cannot read %s\n", argv[3]);
		return 2;
	}
	fclose(f);
	lat = calloc((size_t)total, sizeof(*lat));
	t0 = now();
	for (int i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	double el = now() - t0;
	long n = atomic_load(&nlat);
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("requests %ld ok %ld failed %ld in %.2f s: %.0f/s, latency p50 %.2f ms p99 %.2f ms max %.2f ms\n",
	    n + atomic_load(&bad_count), n, atomic_load(&bad_count), el, n / el,
	    n ? lat[n / 2] * 1e3 : 0, n ? lat[(long)(n * 0.99)] * 1e3 : 0, n ? lat[n - 1] * 1e3 : 0);
	free(lat);
	free(body);
	return atomic_load(&bad_count) ? 1 : 0;
}
