#!/usr/bin/env bash
# `gpuattest cache clear|prune` never leave the cache (issue 10, point 5):
# no symbolic link is followed (the cache directory itself, a subdirectory
# or an entry), a cache directory not owned by the user (or root) or
# writable by group or others is refused (exit 2, nothing removed), and only
# files named by the cache's own scheme are removed; anything else is left
# and listed. Caches are laid out by hand here, the way net/cache.c writes
# them. Owns: nothing outside $TMP.
. "$(dirname "$0")/lib.sh"

H1=$(printf 'one' | sha256sum | cut -c1-64)
H2=$(printf 'two' | sha256sum | cut -c1-64)
H3=$(printf 'three' | sha256sum | cut -c1-64)
OUT=$TMP/outside

# fill DIR: one RIM (index + document), one OCSP answer, one JWKS, a
# temporary file, all under the cache's own names.
fill() {
	mkdir -p "$1/rims/by-id" "$1/ocsp" "$1/jwks"
	printf '<x/>' >"$1/rims/$H1.xml"
	printf '%s' "$H1" >"$1/rims/by-id/NV_GPU_DRIVER_GH100_1.0"
	printf 'not DER' >"$1/ocsp/$H2.der"
	printf '{}' >"$1/jwks/$H3.json"
	printf 'half' >"$1/rims/$H1.xml.tmp.Ab12Cd"
}
# outside: files a cache must never reach.
outside() {
	rm -rf "$OUT"
	mkdir -p "$OUT"
	printf 'keep' >"$OUT/$H1.xml"
	printf 'keep' >"$OUT/$H2.der"
	printf 'keep' >"$OUT/NV_GPU_DRIVER_GH100_1.0"
}
outside_intact() {
	local f n=0
	for f in "$OUT/$H1.xml" "$OUT/$H2.der" "$OUT/NV_GPU_DRIVER_GH100_1.0"; do
		[ "$(cat "$f" 2>/dev/null)" = keep ] && n=$((n + 1))
	done
	if [ "$n" -eq 3 ]; then ok; else bad "$1: a file outside the cache was touched ($(ls -A "$OUT" | tr '\n' ' '))"; fi
}
gone() { if [ -e "$1" ] || [ -L "$1" ]; then bad "$2: $1 is still there"; else ok; fi; }
kept() { if [ -e "$1" ] || [ -L "$1" ]; then ok; else bad "$2: $1 was removed"; fi; }

clear_removes_only_its_own() {
	local C=$TMP/c1
	fill "$C"
	printf 'mine' >"$C/ocsp/notes.txt"
	printf 'mine' >"$C/README"
	printf 'mine' >"$C/rims/by-id/not an id"
	mkdir -p "$C/rims/$H2.xml"
	run_cli cache clear --cache-dir "$C"
	expect_rc 0 "clear"
	expect_out "cache $C: removed 5 file(s); 4 entries not of this cache's making left in place" "clear: counts"
	expect_out "left in place: $C/ocsp/notes.txt (not a name this cache uses)" "clear: foreign file named"
	expect_out "left in place: $C/README (not a name this cache uses)" "clear: foreign file at the root named"
	expect_out "left in place: $C/rims/$H2.xml (not a regular file)" "clear: a directory under a file's name"
	for f in "$C/rims/$H1.xml" "$C/rims/by-id/NV_GPU_DRIVER_GH100_1.0" "$C/ocsp/$H2.der" "$C/jwks/$H3.json" \
	    "$C/rims/$H1.xml.tmp.Ab12Cd"; do
		gone "$f" "clear"
	done
	for f in "$C/ocsp/notes.txt" "$C/README" "$C/rims/by-id/not an id" "$C/rims/$H2.xml"; do
		kept "$f" "clear: foreign entry"
	done
}

links_inside_are_not_followed() {
	local C=$TMP/c2 cmd
	for cmd in clear prune; do
		rm -rf "$C"
		fill "$C"
		outside
		rm -f "$C/rims/by-id/NV_GPU_DRIVER_GH100_1.0" "$C/ocsp/$H2.der"
		# Links under the cache's own names, and a link to a directory.
		ln -s "$OUT/NV_GPU_DRIVER_GH100_1.0" "$C/rims/by-id/NV_GPU_DRIVER_GH100_1.0"
		ln -s "$OUT/$H2.der" "$C/ocsp/$H2.der"
		ln -s "$OUT" "$C/rims/evil"
		ln -s "$OUT" "$C/jwks/$H1.json"
		run_cli cache "$cmd" --cache-dir "$C"
		expect_rc 0 "$cmd with links inside"
		expect_out "left in place: $C/ocsp/$H2.der (a symbolic link)" "$cmd: link under an answer's name"
		expect_out "left in place: $C/rims/by-id/NV_GPU_DRIVER_GH100_1.0 (a symbolic link)" "$cmd: link under an id"
		expect_out "left in place: $C/rims/evil (not a name this cache uses)" "$cmd: link to a directory"
		outside_intact "$cmd with links inside"
		kept "$C/ocsp/$H2.der" "$cmd: the link itself"
	done
	# A whole subdirectory that is a link.
	rm -rf "$C"
	fill "$C"
	outside
	rm -rf "$C/ocsp"
	ln -s "$OUT" "$C/ocsp"
	run_cli cache clear --cache-dir "$C"
	expect_rc 0 "clear with ocsp/ a link"
	expect_out "left in place: $C/ocsp (a symbolic link or not a directory: left alone)" "linked subdirectory named"
	outside_intact "clear with ocsp/ a link"
	gone "$C/rims/$H1.xml" "clear with ocsp/ a link: the rest is cleared"
}

unsafe_cache_dirs_refused() {
	local C=$TMP/c3 L=$TMP/link cmd
	for cmd in clear prune; do
		rm -rf "$C" "$L"
		fill "$C"
		ln -s "$C" "$L"
		run_cli cache "$cmd" --cache-dir "$L"
		expect_rc 2 "$cmd of a symlinked cache directory"
		expect_out "refused, nothing removed: $L is a symbolic link" "$cmd: symlinked cache: message"
		kept "$C/rims/$H1.xml" "$cmd: symlinked cache"
		GPUATTEST_CACHE_DIR=$L run_cli cache "$cmd"
		expect_rc 2 "$cmd of a symlinked \$GPUATTEST_CACHE_DIR"

		chmod 0777 "$C"
		run_cli cache "$cmd" --cache-dir "$C"
		expect_rc 2 "$cmd of a world-writable cache"
		expect_out "$C is writable by others (mode 0777)" "$cmd: world-writable: message"
		kept "$C/rims/$H1.xml" "$cmd: world-writable"
		chmod 0775 "$C"
		run_cli cache "$cmd" --cache-dir "$C"
		expect_rc 2 "$cmd of a group-writable cache"
		expect_out "$C is writable by its group (mode 0775)" "$cmd: group-writable: message"
		chmod 0755 "$C"
		chmod 0777 "$C/ocsp"
		run_cli cache "$cmd" --cache-dir "$C"
		expect_rc 0 "$cmd with a world-writable subdirectory"
		expect_out "left in place: $C/ocsp (" "$cmd: world-writable subdirectory named"
		kept "$C/ocsp/$H2.der" "$cmd: world-writable subdirectory left alone"
		chmod 0755 "$C/ocsp"
	done
	if [ "$(id -u)" -eq 0 ]; then
		rm -rf "$C"
		fill "$C"
		chown -R 65534 "$C"
		run_cli cache clear --cache-dir "$C"
		expect_rc 2 "clear of a cache owned by someone else"
		expect_out "$C is owned by uid 65534, not by you (uid 0) or root" "foreign owner: message"
		kept "$C/rims/$H1.xml" "foreign owner"
	else
		skip "not root: cannot make a cache owned by another user"
	fi
}

prune_keeps_what_is_current() {
	local C=$TMP/c4
	fill "$C"
	printf 'mine' >"$C/ocsp/notes.txt"
	printf '%s' "$H3" >"$C/rims/by-id/NV_DANGLING"
	run_cli cache prune --cache-dir "$C"
	expect_rc 0 "prune"
	# The unreadable answer, the dangling id and the temporary file go; the
	# RIM (no signer certificate to judge) stays for re-verification.
	gone "$C/ocsp/$H2.der" "prune: unreadable answer"
	gone "$C/rims/by-id/NV_DANGLING" "prune: dangling id"
	gone "$C/rims/$H1.xml.tmp.Ab12Cd" "prune: temporary file"
	kept "$C/rims/$H1.xml" "prune: current RIM"
	kept "$C/rims/by-id/NV_GPU_DRIVER_GH100_1.0" "prune: current RIM id"
	kept "$C/ocsp/notes.txt" "prune: foreign file"
	expect_out "left in place: $C/ocsp/notes.txt (not a name this cache uses)" "prune: foreign file named"
}

list_creates_nothing() {
	run_cli cache list --cache-dir "$TMP/none"
	expect_rc 0 "list of a missing cache"
	expect_out "0 entries" "list of a missing cache: empty"
	gone "$TMP/none" "list of a missing cache"
}

clear_removes_only_its_own
links_inside_are_not_followed
unsafe_cache_dirs_refused
prune_keeps_what_is_current
list_creates_nothing
finish
