/*
 * Test-only helpers to run the loopback servers of tests/servers/ from a C
 * test binary: a private temporary directory, starting a server and waiting
 * (bounded) for the port it chose, and stopping it.
 *
 * Cleanup even on failure: every started server is killed from an atexit
 * handler and on SIGINT/SIGTERM/SIGABRT/SIGSEGV; and each server exits by
 * itself when this process dies (it watches its parent) or after its
 * --lifetime. The temporary directory is removed at exit.
 *
 * Also the throw-away OCSP test PKI (tests/servers/mkpki.sh) and reading
 * its certificates.
 *
 * Header-only with static functions so each test binary gets its own copy.
 */
#ifndef GPA_TEST_SPAWN_H
#define GPA_TEST_SPAWN_H

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#define SPAWN_MAX 16

static pid_t spawn_pids[SPAWN_MAX];
static char spawn_tmp[256];

static void spawn_kill_all(void)
{
	for (int i = 0; i < SPAWN_MAX; i++) {
		if (spawn_pids[i] > 0) {
			kill(spawn_pids[i], SIGTERM);
			waitpid(spawn_pids[i], NULL, 0);
			spawn_pids[i] = 0;
		}
	}
}

static void spawn_cleanup(void)
{
	char cmd[400];

	spawn_kill_all();
	if (spawn_tmp[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spawn_tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: could not remove %s\n", spawn_tmp);
		spawn_tmp[0] = 0;
	}
}

static void spawn_on_signal(int sig)
{
	for (int i = 0; i < SPAWN_MAX; i++)
		if (spawn_pids[i] > 0)
			kill(spawn_pids[i], SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Creates the private temporary directory (once) and returns it. */
static const char *spawn_tmpdir(void)
{
	if (spawn_tmp[0] == 0) {
		const char *base = getenv("TMPDIR");
		snprintf(spawn_tmp, sizeof(spawn_tmp), "%s/gpuattest-test-XXXXXX",
		    base && *base ? base : "/tmp");
		if (mkdtemp(spawn_tmp) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(spawn_cleanup);
		signal(SIGINT, spawn_on_signal);
		signal(SIGTERM, spawn_on_signal);
		signal(SIGABRT, spawn_on_signal);
		signal(SIGSEGV, spawn_on_signal);
	}
	return spawn_tmp;
}

__attribute__((unused)) static long long spawn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts argv (argv[0] found on PATH) with "--port-file FILE" appended, and
 * waits up to 10 s for the port. Returns the port, or -1. */
__attribute__((unused)) static int spawn_server(char *const argv[], const char *name)
{
	char pf[400], *args[64];
	int n = 0, slot = -1;
	long long deadline;
	pid_t pid;

	for (int i = 0; i < SPAWN_MAX; i++)
		if (spawn_pids[i] == 0) {
			slot = i;
			break;
		}
	if (slot < 0)
		return -1;
	snprintf(pf, sizeof(pf), "%s/%s.port", spawn_tmpdir(), name);
	unlink(pf);
	while (argv[n] && n < 60) {
		args[n] = argv[n];
		n++;
	}
	args[n++] = "--port-file";
	args[n++] = pf;
	args[n] = NULL;
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execvp(args[0], args);
		_exit(127);
	}
	spawn_pids[slot] = pid;
	deadline = spawn_now_ms() + 10000;
	while (spawn_now_ms() < deadline) {
		FILE *f = fopen(pf, "r");
		int port = -1;
		if (f != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = -1;
			fclose(f);
			if (port > 0)
				return port;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			spawn_pids[slot] = 0;
			return -1;
		}
		usleep(20000);
	}
	return -1;
}

/* A loopback port nothing listens on (bound, then closed). */
__attribute__((unused)) static int spawn_closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

/* Runs a shell command, 0 on success. */
__attribute__((unused)) static int spawn_sh(const char *cmd)
{
	int rc = system(cmd);

	return rc == 0 ? 0 : -1;
}

/* Builds the OCSP test PKI (tests/servers/mkpki.sh) in <tmpdir>/pki and
 * puts that path in dir. 0 on success. */
__attribute__((unused)) static int spawn_mkpki(char *dir, size_t len)
{
	char cmd[800];

	snprintf(dir, len, "%s/pki", spawn_tmpdir());
	snprintf(cmd, sizeof(cmd), "bash tests/servers/mkpki.sh '%s' >/dev/null 2>&1", dir);
	return spawn_sh(cmd);
}

/* The certificate <pki>/<name>.pem, or NULL. */
__attribute__((unused)) static X509 *spawn_pki_cert(const char *pki, const char *name)
{
	char p[700];
	FILE *f;
	X509 *x;

	snprintf(p, sizeof(p), "%s/%s.pem", pki, name);
	if ((f = fopen(p, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

#endif
