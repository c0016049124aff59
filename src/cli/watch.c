/*
 * gpuattest watch: keeps re-attesting the live system and withdraws the
 * GPUs' ready state the moment a re-attestation does not pass.
 *
 * Each round is a fresh `gpuattest verify --set-ready` process: every
 * option of verify applies unchanged, and a crash, hang or leak in one round
 * cannot leave the watcher in a strange state. The round itself marks the
 * GPUs READY only after a pass and NOT READY on any failure or error; the
 * watcher marks them NOT READY again itself whenever a round did not pass
 * (a round killed by a signal had no chance to). A new start of the watcher
 * re-attests before anything is renewed, so a watcher killed after a
 * failure never leaves READY behind it.
 *
 * Rounds run at start, every --interval seconds, on SIGHUP, and as soon as
 * polling NVML (every --poll seconds) shows another driver version or
 * another set of GPUs (a driver reload, a GPU that appeared or went away).
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect/collect.h"

void cli_usage_watch(FILE *f)
{
	fputs(
	    "usage: gpuattest watch [OPTIONS] [-- VERIFY-OPTIONS...]\n"
	    "\n"
	    "Re-attests this machine's GPUs again and again and keeps their ready state\n"
	    "true to the last result: each round runs 'gpuattest verify --set-ready' with\n"
	    "VERIFY-OPTIONS, which marks the GPUs READY only after a pass and NOT READY\n"
	    "after anything else; a round that did not pass is logged with its reasons.\n"
	    "\n"
	    "A round runs at start (before anything is renewed, so a watcher that was\n"
	    "killed never leaves a stale READY behind), every --interval seconds, on\n"
	    "SIGHUP, and at once when the driver is reloaded or a GPU appears or goes\n"
	    "away (NVML is polled every --poll seconds for the driver version and the\n"
	    "GPUs' UUIDs). SIGTERM or SIGINT stop the watcher after the round in flight.\n"
	    "\n"
	    "Options:\n"
	    "  --interval SECONDS   time between rounds (default 3600; 1..604800)\n"
	    "  --poll SECONDS       how often NVML is asked for driver/GPU changes\n"
	    "                       (default 10; 0 turns polling off)\n"
	    "  --exit-on-failure    stop after the first round that does not pass, with\n"
	    "                       its exit code (default: keep watching)\n"
	    "  --max-rounds N       stop after N rounds (default: never)\n"
	    "  --nvml-lib PATH      the NVML library (also passed to each round)\n"
	    "  -h, --help           this text\n"
	    "\n"
	    "VERIFY-OPTIONS are any options of 'gpuattest verify' for the live system\n"
	    "(e.g. --expect-gpus 8, --rim-dir DIR, --ocsp-cache-ok); --set-ready is\n"
	    "always added; options for recorded evidence and --gpu are refused, since\n"
	    "the ready state is system-wide.\n"
	    "\n"
	    "Logging: one line per round on stderr; under systemd (JOURNAL_STREAM set)\n"
	    "with syslog priority prefixes, so 'journalctl -u gpu-attestation-watch'\n"
	    "shows failures as errors.\n"
	    "\n"
	    "Exit: 0 after SIGTERM/SIGINT or --max-rounds; with --exit-on-failure the\n"
	    "failed round's code (1 failed, 2 bad input, 3 could not complete); 2 for\n"
	    "bad usage.\n"
	    "\n"
	    "Example (the shipped gpu-attestation-watch.service does this):\n"
	    "  gpuattest watch --interval 86400 -- --expect-gpus 8\n", f);
}

struct watch_opts {
	long interval, poll, max_rounds;
	bool exit_on_failure;
	const char *nvml_lib;
	char **verify_argv;	/* VERIFY-OPTIONS */
	int verify_argc;
};

static volatile sig_atomic_t got_hup, got_stop;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

/* Under systemd, stderr goes to the journal, which reads "<N>" prefixes as
 * syslog priorities; elsewhere a timestamp helps a person reading along. */
static void wlog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wlog(int prio, const char *fmt, ...)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	if (getenv("JOURNAL_STREAM") != NULL) {
		fprintf(stderr, "<%d>gpuattest watch: ", prio);
	} else {
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "%s gpuattest watch: ", ts);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

enum { LOG_ERR = 3, LOG_WARNING = 4, LOG_INFO = 6 };

static int watch_usage(const char *msg)
{
	fprintf(stderr, "gpuattest watch: %s (see 'gpuattest help watch')\n", msg);
	return GPUATTEST_BAD_INPUT;
}

static long parse_seconds(const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	return v;
}

/* VERIFY-OPTIONS that make no sense for a system-wide watcher. */
static const char *refused_verify_option(char **argv, int argc)
{
	static const char *const refused[] = {"--evidence", "--report", "--cert-chain",
	    "--switch-evidence", "--gpu", "--format", "--output", "--nonce", NULL};

	for (int i = 0; i < argc; i++)
		for (int k = 0; refused[k] != NULL; k++) {
			size_t n = strlen(refused[k]);

			if (strncmp(argv[i], refused[k], n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
				return refused[k];
		}
	return NULL;
}

/* 0 to watch, -1 after --help, else an exit code. */
static int parse_watch_args(int argc, char **argv, struct watch_opts *w)
{
	enum { O_INTERVAL = 256, O_POLL, O_EXIT, O_ROUNDS, O_NVML, O_HELP };
	static const struct option opts[] = {
		{"interval", required_argument, NULL, O_INTERVAL},
		{"poll", required_argument, NULL, O_POLL},
		{"exit-on-failure", no_argument, NULL, O_EXIT},
		{"max-rounds", required_argument, NULL, O_ROUNDS},
		{"nvml-lib", required_argument, NULL, O_NVML},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *bad;
	int c;

	*w = (struct watch_opts){.interval = 3600, .poll = 10, .max_rounds = -1};
	optind = 1;
	/* "+": stop at the first non-option, so VERIFY-OPTIONS after "--" stay ours to pass on. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case O_INTERVAL:
			if ((w->interval = parse_seconds(optarg, 1, 604800)) < 0)
				return watch_usage("--interval needs a number of seconds, 1..604800");
			break;
		case O_POLL:
			if ((w->poll = parse_seconds(optarg, 0, 86400)) < 0)
				return watch_usage("--poll needs a number of seconds, 0..86400");
			break;
		case O_EXIT: w->exit_on_failure = true; break;
		case O_ROUNDS:
			if ((w->max_rounds = parse_seconds(optarg, 1, LONG_MAX)) < 0)
				return watch_usage("--max-rounds needs a positive number");
			break;
		case O_NVML: w->nvml_lib = optarg; break;
		case 'h':
		case O_HELP: cli_usage_watch(stdout); return -1;
		default: return watch_usage("unknown option (verify's options go after '--')");
		}
	}
	w->verify_argv = argv + optind;
	w->verify_argc = argc - optind;
	if ((bad = refused_verify_option(w->verify_argv, w->verify_argc)) != NULL) {
		fprintf(stderr, "gpuattest watch: %s cannot be used: the watcher attests the whole live "
		    "system and sets its ready state (see 'gpuattest help watch')\n", bad);
		return GPUATTEST_BAD_INPUT;
	}
	return 0;
}

/* The running program, to start rounds with: /proc/self/exe, which stays
 * right even if argv[0] was a relative name and the cwd changed. */
static int self_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

struct round {
	int rc;			/* verify's exit code; 3 when it died */
	int signal;		/* the signal that ended it, 0 if none */
	char *json;		/* its --format json output */
};

static char *read_all(int fd)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);
	ssize_t n;

	if (buf == NULL)
		return NULL;
	for (;;) {
		if (len + 1 >= cap) {
			char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;

			if (nb == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static void exec_round(const char *self, const struct watch_opts *w, int out_fd)
{
	int n = 0;
	char **av = calloc((size_t)w->verify_argc + 8, sizeof(*av));

	if (av == NULL)
		_exit(GPUATTEST_INCOMPLETE);
	av[n++] = (char *)"gpuattest";
	av[n++] = (char *)"verify";
	av[n++] = (char *)"--set-ready";
	av[n++] = (char *)"--format=json";
	if (w->nvml_lib != NULL) {
		av[n++] = (char *)"--nvml-lib";
		av[n++] = (char *)w->nvml_lib;
	}
	for (int i = 0; i < w->verify_argc; i++)
		av[n++] = w->verify_argv[i];
	av[n] = NULL;
	if (dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(GPUATTEST_INCOMPLETE);
	close(out_fd);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	execv(self, av);
	fprintf(stderr, "gpuattest watch: cannot run %s: %s\n", self, strerror(errno));
	_exit(GPUATTEST_INCOMPLETE);
}

static int run_round(const char *self, const struct watch_opts *w, struct round *r)
{
	int pfd[2], status;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(pfd) != 0)
		return -1;
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		exec_round(self, w, pfd[1]);
	}
	close(pfd[1]);
	r->json = read_all(pfd[0]);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status)) {
		r->rc = WEXITSTATUS(status);
	} else {
		r->rc = GPUATTEST_INCOMPLETE;
		r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	return 0;
}

static bool outcome_is_bad(const char *o)
{
	return o != NULL && (strcmp(o, "fail") == 0 || strcmp(o, "bad-input") == 0 ||
	    strcmp(o, "not-done") == 0);
}

/* Appends "where: id (detail)" for every check that did not pass, at most a
 * few, so the journal line says why without being a report. */
static void add_bad_checks(json_t *checks, const char *where, char *buf, size_t len, int *shown, int *total)
{
	size_t i;
	json_t *c;

	if (!json_is_array(checks))
		return;
	json_array_foreach(checks, i, c) {
		const char *o = json_string_value(json_object_get(c, "outcome"));
		const char *id = json_string_value(json_object_get(c, "check"));
		const char *detail = json_string_value(json_object_get(c, "detail"));
		size_t used = strlen(buf);

		if (!outcome_is_bad(o))
			continue;
		if (++*total > 3 || used + 8 >= len)
			continue;
		(*shown)++;
		snprintf(buf + used, len - used, "%s%s: %s %s%s%s%s", used ? "; " : "", where,
		    id ? id : "?", o, detail && *detail ? " (" : "", detail ? detail : "",
		    detail && *detail ? ")" : "");
	}
}

/* Why a round did not pass, from its JSON result; "" if it has none. */
static void round_reasons(const struct round *r, char *buf, size_t len)
{
	json_t *doc, *devs, *d;
	int shown = 0, total = 0;
	size_t i;

	buf[0] = '\0';
	if (r->json == NULL || (doc = json_loads(r->json, 0, NULL)) == NULL)
		return;
	add_bad_checks(json_object_get(json_object_get(doc, "system"), "checks"), "system", buf, len,
	    &shown, &total);
	devs = json_object_get(doc, "devices");
	if (json_is_array(devs))
		json_array_foreach(devs, i, d) {
			const char *label = json_string_value(json_object_get(d, "device"));

			add_bad_checks(json_object_get(d, "checks"), label ? label : "device", buf, len, &shown,
			    &total);
		}
	if (total > shown) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, "; and %d more", total - shown);
	}
	json_decref(doc);
}

static int round_genuine(const struct round *r)
{
	json_t *doc;
	int n = -1;

	if (r->json != NULL && (doc = json_loads(r->json, 0, NULL)) != NULL) {
		json_t *g = json_object_get(doc, "genuine_gpus");

		if (json_is_integer(g))
			n = (int)json_integer_value(g);
		json_decref(doc);
	}
	return n;
}

/* The round set the ready state itself; this makes sure that a round that
 * did not pass, however it ended, leaves the GPUs NOT READY. */
static void withdraw_ready(const struct watch_opts *w)
{
	struct gpa_live_opts o = {.nvml_lib = w->nvml_lib};
	struct gpa_live l;
	struct gpa_err e = {{0}};

	if (live_open(&l, &o, &e) != 0 || live_set_ready(&l, false, &e) != 0)
		wlog(LOG_ERR, "WARNING: the GPUs could not be marked NOT READY: %s", e.msg);
	live_close(&l);
}

/* "" when NVML cannot be asked: that, too, is a change worth a round. */
static void system_fingerprint(const struct watch_opts *w, char *buf, size_t len)
{
	struct gpa_live_opts o = {.nvml_lib = w->nvml_lib};
	struct gpa_live l;
	struct gpa_err e = {{0}};

	if (live_open(&l, &o, &e) != 0 || live_fingerprint(&l, buf, len, &e) != 0)
		snprintf(buf, len, "NVML unavailable: %s", e.msg);
	live_close(&l);
}

static int report_round(const struct watch_opts *w, const struct round *r, long n)
{
	char why[1024];

	if (r->rc == 0) {
		wlog(LOG_INFO, "round %ld: VERIFICATION SUCCESSFUL, %d GPU(s) verified; ready state renewed "
		    "(READY)", n, round_genuine(r));
		return 0;
	}
	round_reasons(r, why, sizeof(why));
	if (r->signal != 0)
		snprintf(why, sizeof(why), "the verification process was killed by signal %d", r->signal);
	withdraw_ready(w);
	wlog(LOG_ERR, "round %ld: re-attestation did not pass (exit %d: %s)%s%s; GPUs set NOT READY", n, r->rc,
	    r->rc == 1 ? "failed" : r->rc == 2 ? "bad input" : "could not complete", why[0] ? ": " : "",
	    why[0] ? why : " (see the messages above)");
	return r->rc;
}

/* Sleeps until the next round is due: the interval has passed, SIGHUP came,
 * the driver or the GPU set changed, or a stop was asked for. */
static void wait_for_next(const struct watch_opts *w, const char *last_fp)
{
	struct timespec start, now;
	long since_poll = 0;
	char fp[4096];

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (got_stop)
			return;
		if (got_hup) {
			got_hup = 0;
			wlog(LOG_INFO, "SIGHUP: re-attesting now");
			return;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= w->interval)
			return;
		if (w->poll > 0 && since_poll >= w->poll) {
			since_poll = 0;
			system_fingerprint(w, fp, sizeof(fp));
			if (strcmp(fp, last_fp) != 0) {
				wlog(LOG_WARNING, "the driver or the GPU set changed (%s; was %s): re-attesting now",
				    fp, last_fp);
				return;
			}
		}
		/* One-second steps: a signal ends sleep() early anyway. */
		sleep(1);
		since_poll++;
	}
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int cli_watch(int argc, char **argv)
{
	struct watch_opts w;
	char self[PATH_MAX], fp[4096];
	long n = 0;
	int rc = parse_watch_args(argc, argv, &w);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (self_path(self, sizeof(self)) != 0) {
		fprintf(stderr, "gpuattest watch: cannot find its own program (/proc/self/exe)\n");
		return GPUATTEST_INCOMPLETE;
	}
	install_signals();
	wlog(LOG_INFO, "started: a round every %lds%s", w.interval,
	    w.poll > 0 ? ", NVML polled for driver/GPU changes" : "");
	while (!got_stop) {
		struct round r;

		/* Taken before the round, so a change during it triggers the next. */
		system_fingerprint(&w, fp, sizeof(fp));
		if (run_round(self, &w, &r) != 0) {
			wlog(LOG_ERR, "cannot start a round: %s; GPUs set NOT READY", strerror(errno));
			rc = GPUATTEST_INCOMPLETE;
			withdraw_ready(&w);
		} else {
			rc = report_round(&w, &r, ++n);
			free(r.json);
		}
		if (rc != 0 && w.exit_on_failure)
			return rc;
		if (w.max_rounds > 0 && n >= w.max_rounds)
			break;
		wait_for_next(&w, fp);
	}
	wlog(LOG_INFO, "stopped after %ld round(s)", n);
	return 0;
}
