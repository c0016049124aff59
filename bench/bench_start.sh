#!/usr/bin/env bash
# bench_start.sh [N]: what loading libxml2 + xmlsec1 (and libcurl) on first
# use saves every process. Times `gpuattest help` (reads no RIM, makes no
# request) exec to exit, N runs (default 100) after one warm-up, for
#   lazy     $BUILD/gpuattest as built: the XML libraries and libcurl are
#            dlopen'ed when first needed (src/rim/xmllib.c, src/net/http.c)
#   linked   the same objects linked here with xmlsec1-openssl, libxml2 and
#            libcurl as ordinary dependencies (--no-as-needed), as a program
#            that called them directly would be
# alternating the two, one run each in turn, so the VM's drifting speed
# weighs on both alike. Reports min and median of each and the difference.
#
# Owns: a temporary directory, removed on exit (bench/lib.sh). A benchmark,
# not a test: fails only when a build or a run fails.
#
#   BUILD=build bash bench/bench_start.sh [N]
set -u
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=bench/lib.sh
. bench/lib.sh bench_start
N=${1:-${BENCH_N:-100}}

bench_count N "$N"
bench_need_build "$BDIR/libgpuattest.a"
bench_need python3 "timing"
bench_need pkg-config
bench_tmp

# shellcheck disable=SC2046
if ! ${CC:-cc} -o "$TMP/gpuattest-linked" "$BDIR"/obj/src/cli/*.o "$BDIR/libgpuattest.a" \
    $(pkg-config --libs openssl nettle hogweed jansson jose libmicrohttpd sqlite3 libpq gnutls) -lgmp -ldl -lpthread \
    -Wl,--no-as-needed $(pkg-config --libs xmlsec1-openssl libxml-2.0 libcurl) 2>"$TMP/ld.log"; then
	cat "$TMP/ld.log" >&2
	exit 1
fi

python3 - "$N" "$CLI" "$TMP/gpuattest-linked" <<-'EOF'
import os, statistics, subprocess, sys, time
n, lazy, linked = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def once(path):
    t = time.perf_counter()
    rc = subprocess.run([path, "help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    if rc != 0:
        sys.stderr.write("bench_start: %s help exited %d\n" % (path, rc))
        sys.exit(1)
    return (time.perf_counter() - t) * 1000.0
once(lazy); once(linked)
a, b = [], []
for _ in range(n):
    a.append(once(lazy)); b.append(once(linked))
ma, mb = statistics.median(a), statistics.median(b)
print("bench_start: 'gpuattest help', %d runs each, alternating" % n)
print("bench_start: lazy (dlopen on first use): min %.2f ms, median %.2f ms" % (min(a), ma))
print("bench_start: linked (xmlsec1, libxml2, libcurl at start): min %.2f ms, median %.2f ms" % (min(b), mb))
print("bench_start: saved per process: %.2f ms median (%.2f ms min)" % (mb - ma, min(b) - min(a)))
EOF
