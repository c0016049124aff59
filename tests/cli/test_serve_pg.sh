#!/usr/bin/env bash
# gpuattest serve on a real PostgreSQL server (Debian's postgresql: initdb
# and pg_ctl in a temporary directory, listening on 127.0.0.1 only): two
# replicas share it, one is killed with SIGKILL during a load run and the
# audit trail holds exactly the verdicts the clients received (plus, at
# most, rows of the requests the kill cut off before their answer), whole;
# the store going down is a 503, never a verdict, and coming back heals.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
. "$(dirname "$0")/serve_lib.sh"

export GPUATTEST_STATE_DIR=$TMP/state GPUATTEST_CACHE_DIR=$TMP/cache
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PGROOT=""

# The server refuses to run as root: as root, it runs as the postgres user,
# in a directory of its own outside $TMP (which only root may enter), and
# from / (the checkout may sit in a directory only root may enter; psql
# then warns "could not change directory" into the output it returns).
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

pg_start() { as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/log" -w -t 30 start >/dev/null; }
pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast -w stop >/dev/null 2>&1; }

pg_setup() {
	PGROOT=$(mktemp -d /tmp/gpa-pg.XXXXXX)
	chmod 755 "$PGROOT"
	[ "$(id -u)" -eq 0 ] && chown postgres "$PGROOT"
	trap 'pg_stop; stop_all; rm -rf "$TMP" "$PGROOT"' EXIT
	PGPORT=$(closed_port)
	if ! as_pg "$PGBIN/initdb" -D "$PGROOT/data" -A trust -U gpa --no-sync >"$PGROOT/initdb.log" 2>&1; then
		out=$(cat "$PGROOT/initdb.log") rc=1
		bad "initdb failed"
		return 1
	fi
	cat >>"$PGROOT/data/postgresql.conf" <<-EOF
	listen_addresses = '127.0.0.1'
	port = $PGPORT
	unix_socket_directories = '$PGROOT'
	max_connections = 60
	EOF
	if ! pg_start; then
		out=$(cat "$PGROOT/log") rc=1
		bad "pg_ctl start failed"
		return 1
	fi
	as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U gpa audit &&
	as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U gpa unit || { bad "createdb failed"; return 1; }
	PGURL=postgresql://gpa@127.0.0.1:$PGPORT/audit
	ok
}

store_unit_tests() {
	out=$(GPUATTEST_TEST_PG_URL=postgresql://gpa@127.0.0.1:$PGPORT/unit "$BUILD_DIR/tests/audit/test_audit" 2>&1)
	rc=$?
	expect_rc 0 "the audit store's unit tests on PostgreSQL"
	expect_out "0 failed, 0 skipped" "test_audit ran every test, PostgreSQL's included"
}

two_replicas_share_the_store() {
	"$GPUATTEST" serve --add-key fleet --api-keys "$TMP/keys" >"$TMP/key" 2>/dev/null
	KEY=$(cat "$TMP/key")
	local common=(--api-keys "$TMP/keys" --rim-dir "$TMP/rims" --no-ocsp --at "$AZ_AT" --db "$PGURL")
	# Both start at once on a new database and a new state directory: the
	# schema is made once, and both end up with the one signing key.
	launch_serve a "${common[@]}" --replica replica-a
	launch_serve b "${common[@]}" --replica replica-b
	wait_serve a && wait_serve b || return 1
	# The replicas share the signing key of the state directory, so a
	# client may be answered by either and check the same JWKS.
	http GET "$SURL_a/.well-known/jwks.json"
	local ja=$out
	http GET "$SURL_b/.well-known/jwks.json"
	[ "$ja" = "$out" ] && ok || bad "the replicas publish different keys"
	http POST "$SURL_a/v4/attest/gpu" -H "Authorization: Bearer $KEY" --data-binary @"$AZ_EVIDENCE"
	expect_code 200 "replica a verifies"
	http POST "$SURL_b/v4/attest/gpu" -H "Authorization: Bearer $KEY" --data-binary @"$AZ_EVIDENCE"
	expect_code 200 "replica b verifies"
	run_cli_stdout audit list --db "$PGURL"
	[ "$(grep -c . <<<"$out")" = 2 ] && ok || bad "audit on PostgreSQL: $(grep -c . <<<"$out") rows, expected 2"
	run_cli_stdout audit export --db "$PGURL"
	expect_out '"replica":"replica-a"' "the audit trail names replica a"
	expect_out '"replica":"replica-b"' "the audit trail names replica b"
	out=$(as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U gpa -d audit -Atc \
	    'SELECT count(*), max(version) FROM gpuattest_schema' 2>&1)
	[ "$out" = "2|2" ] && ok || bad "schema table: '$out', expected two steps recorded once each"
}

replica_killed_under_load() {
	azure_tampered "$TMP/tampered.json"
	local before
	before=$("$GPUATTEST" audit export --db "$PGURL" | grep -c .)
	"$PY" "$SRV/load_client.py" "$TMP/load.json" "$KEY" 3000 12 "$AZ_EVIDENCE,$TMP/tampered.json" \
	    "$SURL_a" "$SURL_b" >"$TMP/load.log" 2>&1 &
	local lpid=$!
	sleep 1.5
	kill -0 "$lpid" 2>/dev/null && ok || bad "the load run ended before the kill"
	kill -9 "$SPID_a"
	wait "$lpid" "$SPID_a" 2>/dev/null
	out=$(cat "$TMP/load.log")
	expect_out "answered" "the load run finished"
	"$GPUATTEST" audit export --db "$PGURL" >"$TMP/rows.jsonl"
	out=$(python3 - "$TMP/load.json" "$TMP/rows.jsonl" "$SURL_a" "$before" <<-'EOF'
	import json, sys
	load = json.load(open(sys.argv[1]))
	rows = [json.loads(l) for l in open(sys.argv[2])][int(sys.argv[4]):]
	by_id = {r["request_id"]: r for r in rows}
	got = load["received"]
	a_answers = sum(1 for g in got if g["url"] == sys.argv[3])
	missing = [g["request_id"] for g in got if g["request_id"] not in by_id]
	wrong = [g["request_id"] for g in got if g["request_id"] in by_id and
	         (by_id[g["request_id"]]["verdict"] == "pass") != g["overall"]]
	token_differs = [g["request_id"] for g in got if g["request_id"] in by_id and
	                 by_id[g["request_id"]]["token"] != g["token"]]
	torn = [r["request_id"] for r in rows if not isinstance(r["devices"], list) or
	        not isinstance(r["claims"], dict) or not r["token"].startswith('[["JWT",')]
	extra = [r for r in rows if r["request_id"] not in {g["request_id"] for g in got}]
	cut_off = load["errors"].get(sys.argv[3], 0)
	print("answered %d (%d by replica a before the kill), rows %d, extra %d, cut off %d, other %s" % (
	    len(got), a_answers, len(rows), len(extra), cut_off, sorted(set(load["other"]))))
	print("missing", len(missing), "wrong", len(wrong), "token-differs", len(token_differs), "torn", len(torn))
	print("extra-on-a", all(r["replica"] == "replica-a" for r in extra), "extra-within-in-flight", len(extra) <= min(cut_off, 4))
	print("both-verdicts", {g["overall"] for g in got} == {True, False})
	print("b-after-kill", sum(1 for g in got if g["url"] != sys.argv[3]) > a_answers)
	EOF
	)
	expect_out "missing 0 wrong 0 token-differs 0 torn 0" "every verdict a client received is in the trail, whole"
	expect_out "extra-on-a True extra-within-in-flight True" "rows no client saw: only the (at most 4) requests in flight on replica a at the kill"
	expect_out "both-verdicts True" "the load had passes and failures"
	expect_out "b-after-kill True" "replica b went on answering after a was killed"
	grep -qE 'answered [0-9]{2,} \([1-9][0-9]* by replica a' <<<"$out" && ok ||
		bad "the kill was not during the load (replica a answered nothing)"
	echo "    $out" | head -n 1
}

store_down_is_503() {
	pg_stop
	http POST "$SURL_b/v4/attest/gpu" -H "Authorization: Bearer $KEY" --data-binary @"$AZ_EVIDENCE"
	expect_code 503 "store down: 503"
	expect_json 'd["error"]' audit-unavailable "store down: says why"
	grep -qi '^Retry-After:' <<<"$hdr" && ok || bad "store down: no Retry-After"
	expect_no_out '"JWT"' "store down: no token"
	http GET "$SURL_b/health"
	expect_code 503 "store down: health 503"
	expect_json 'd["store"]' unavailable "store down: health names the store"
	pg_start || { bad "PostgreSQL did not come back"; return; }
	http POST "$SURL_b/v4/attest/gpu" -H "Authorization: Bearer $KEY" --data-binary @"$AZ_EVIDENCE"
	expect_code 200 "store back: verifications again"
	http GET "$SURL_b/metrics"
	expect_out 'gpuattest_errors_total{kind="audit"} 1' "metrics: the audit failure counted"
	run_cli serve --db "postgresql://gpa@127.0.0.1:$(closed_port)/audit?connect_timeout=2" --port 0
	expect_rc 3 "serve with an unreachable PostgreSQL"
	expect_out "cannot connect" "unreachable PostgreSQL: says so"
}

BUILD_DIR=$(cd "$(dirname "$GPUATTEST")" && pwd)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
	skip "PostgreSQL server not installed (/usr/lib/postgresql/*/bin/initdb; bootstrap installs postgresql)"
elif ! have_pyjwt; then
	skip "python3-jwt not installed (bootstrap installs it)"
elif need_shared && pg_setup; then
	azure_rims
	store_unit_tests
	if two_replicas_share_the_store; then
		replica_killed_under_load
		store_down_is_503
	fi
fi
finish
