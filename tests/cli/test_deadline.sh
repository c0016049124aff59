#!/usr/bin/env bash
# One deadline, visible waits, a quiet gate that still says why (issue 10.9),
# against the loopback RIM service and OCSP responder (tests/servers):
#   - --total-timeout covers the whole verification: a RIM service and an
#     OCSP responder that are each slow, each phase alone within the
#     deadline, together past it -> exit 3 with the deadline message;
#   - on a terminal (a pty from python3's pty module) a waiting line on
#     stderr names what is awaited and from where, and is cleared when the
#     answer comes; not with --quiet, not with --format json, not to a pipe;
#   - --quiet: stdout empty, and one line on stderr saying why for exit 1,
#     2 and 3 (nothing for exit 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"

# Each phase alone leaves 1.5 s to spare; both together are always 1.5 s
# over, however slow the machine (only the servers' delays add up).
SLOW=3000 DEADLINE=4500

deadline_cases() {
	# Each slow phase alone fits.
	online --rim-url "$URL_rim/delay=$SLOW" --total-timeout "$DEADLINE"
	expect_rc 0 "slow RIM service alone fits the deadline"
	online --ocsp-url "$URL_ocsp/delay=$SLOW" --total-timeout "$DEADLINE"
	expect_rc 0 "slow OCSP responder alone fits the deadline"
	# Both together do not: the OCSP phase gets what the RIM phase left.
	online --rim-url "$URL_rim/delay=$SLOW" --ocsp-url "$URL_ocsp/delay=$SLOW" --total-timeout "$DEADLINE"
	expect_rc 3 "slow RIM service and slow OCSP responder together exceed the deadline"
	expect_out "total deadline of $DEADLINE ms for the whole verification reached (RIM and OCSP together) before an answer came" \
		"both slow: the deadline message"
	expect_out "[ -- ]" "both slow: a check not done"
	expect_no_out "VERIFICATION SUCCESSFUL" "both slow: no pass"
	# The environment variable sets the same deadline.
	GPUATTEST_HTTP_TOTAL_TIMEOUT_MS=$DEADLINE online --rim-url "$URL_rim/delay=$SLOW" \
		--ocsp-url "$URL_ocsp/delay=$SLOW"
	expect_rc 3 "GPUATTEST_HTTP_TOTAL_TIMEOUT_MS: both slow exceed it"
	expect_out "for the whole verification reached" "GPUATTEST_HTTP_TOTAL_TIMEOUT_MS: the message"
	online --total-timeout 0
	expect_rc 2 "--total-timeout 0 is refused"
	expect_out "--total-timeout needs 1..3600000 milliseconds" "--total-timeout 0: the message"
}

# on_tty ARGS...: verify ARGS... with stdin, stdout and stderr on a pty;
# $out is everything the terminal got, escape sequences included.
on_tty() {
	out=$(python3 - "$GPUATTEST" "$@" <<-'EOF'
	import os, pty, sys
	import fcntl, struct, termios
	pid, fd = pty.fork()
	if pid == 0:
	    # A wide terminal, so that no waiting line is cut to fit.
	    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 400, 0, 0))
	    os.environ["TERM"] = os.environ.get("TERM_FOR_TEST", "xterm")
	    os.execv(sys.argv[1], sys.argv[1:])
	chunks = []
	while True:
	    try:
	        b = os.read(fd, 65536)
	    except OSError:
	        break
	    if not b:
	        break
	    chunks.append(b)
	_, status = os.waitpid(pid, 0)
	sys.stdout.write(b"".join(chunks).decode("utf-8", "replace"))
	sys.exit(os.waitstatus_to_exitcode(status))
	EOF
	)
	rc=$?
}

waiting_line() {
	local tv=(verify --evidence "$TMP/ev.json" --nonce "$NONCE" "${TRUST[@]}" --no-cache
		--ocsp-url "$URL_ocsp/delay=300" --rim-url "$URL_rim/delay=300")
	on_tty "${tv[@]}"
	expect_rc 0 "on a terminal: verified"
	expect_out "gpuattest: waiting for the RIM service at $URL_rim/delay=300 (RIM $DRV, $VB) ..." \
		"on a terminal: the RIM wait names the service and the RIMs"
	expect_out "gpuattest: waiting for the OCSP responder at $URL_ocsp/delay=300 (" \
		"on a terminal: the OCSP wait names the responder"
	if grep -qF "(RIM $DRV, $VB) ..."$'\r\e[K' <<<"$out"; then ok; else bad "on a terminal: the waiting line is cleared when the answer comes"; fi
	TERM_FOR_TEST=dumb on_tty "${tv[@]}"
	expect_out "(RIM $DRV, $VB) ... done" "TERM=dumb: the waiting line is finished, not redrawn"
	on_tty "${tv[@]}" --quiet
	expect_rc 0 "on a terminal, --quiet: verified"
	expect_no_out "waiting for" "on a terminal, --quiet: no waiting line"
	on_tty "${tv[@]}" --format json
	expect_no_out "waiting for" "on a terminal, --format json: no waiting line"
	run_cli "${tv[@]}"
	expect_no_out "waiting for" "stderr not a terminal: no waiting line"
}

# quiet_case RC WHAT TEXT ARGS...: --quiet exits RC with stdout empty and
# stderr one line containing TEXT.
quiet_case() {
	local want=$1 what=$2 text=$3 err
	shift 3
	out=$("$GPUATTEST" "$@" --quiet 2>"$TMP/quiet.err"); rc=$?
	err=$(cat "$TMP/quiet.err")
	expect_rc "$want" "--quiet, $what"
	if [ -z "$out" ]; then ok; else bad "--quiet, $what: stdout is not empty"; fi
	out=$err
	if [ "$want" -eq 0 ]; then
		if [ -z "$err" ]; then ok; else bad "--quiet, $what: stderr is not empty on a pass"; fi
		return
	fi
	if [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]; then ok; else bad "--quiet, $what: not one line on stderr"; fi
	expect_out "$text" "--quiet, $what: the reason"
}

quiet_cases() {
	local base=(verify --evidence "$TMP/ev.json" "${TRUST[@]}" --no-cache --ocsp-url "$URL_ocsp" --rim-url "$URL_rim")
	quiet_case 0 "a pass" "" "${base[@]}" --nonce "$NONCE"
	quiet_case 1 "a failure (wrong nonce)" "gpuattest: VERIFICATION FAILED: GPU 0: report nonce" \
		"${base[@]}" --nonce "$(printf '%064d' 7)"
	quiet_case 2 "unreadable input" "gpuattest: $TMP/none.json: cannot open" \
		verify --evidence "$TMP/none.json" --nonce "$NONCE" "${TRUST[@]}"
	quiet_case 3 "a RIM that is not available" "gpuattest: VERIFICATION INCOMPLETE: GPU 0: NVIDIA has not published a RIM for driver 595.71.05 ($DRV)" \
		"${base[@]}" --nonce "$NONCE" --rim-url "$URL_alt"
	quiet_case 3 "the deadline" "for the whole verification reached" "${base[@]}" --nonce "$NONCE" \
		--rim-url "$URL_rim/delay=$SLOW" --ocsp-url "$URL_ocsp/delay=$SLOW" --total-timeout "$DEADLINE"
}

if need_tools; then
	if setup; then
		deadline_cases
		waiting_line
		quiet_cases
	fi
fi
stop_all
finish
