#!/bin/sh
# run-tests.sh: every test of hushd, from a configured and built tree.
#
#   unit tests       make check (cmocka, TAP output counted per test case)
#   integration      tests/integration/run.py against a real unbound
#   fuzz smoke       each libFuzzer target for HUSHD_FUZZ_SECONDS (default 20)
#   benchmark smoke  bench/run.sh --smoke: hushd and unbound, about 20 s;
#                    bench/sni.sh and bench/audit.sh --smoke likewise
#   packaging        make install into a DESTDIR, and make distcheck
#
# Ends with one line "N passed, N failed[, N skipped]"; exits 1 if any failed.
# HUSHD_SKIP_DISTCHECK=1, HUSHD_SKIP_BENCH=1 and HUSHD_FUZZ_SECONDS=0
# shorten a local run.
set -u

cd "$(dirname "$0")/.."
top=$(pwd)
passed=0
failed=0
skipped=0
failures=""

note_fail() {
	failed=$((failed + 1))
	failures="$failures
  $1"
}

section() {
	echo
	echo "== $*"
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# ---------------------------------------------------------------- unit
section "unit tests"
make -j2 check >build-check.log 2>&1
check_status=$?
counted=$failed
for log in tests/unit/test_*.log; do
	[ -f "$log" ] || continue
	name=$(basename "$log" .log)
	ok=$(grep -c '^ok ' "$log")
	skip=$(grep -c '^not ok .*# SKIP' "$log")
	bad=$(($(grep -c '^not ok ' "$log") - skip))
	skipped=$((skipped + skip))
	trs="${log%.log}.trs"
	if grep -q ':test-result: FAIL\|:test-result: ERROR' "$trs" 2>/dev/null &&
	    [ "$bad" -eq 0 ]; then
		bad=1	# crashed or failed outside a test case
	fi
	passed=$((passed + ok))
	if [ "$bad" -gt 0 ]; then
		failed=$((failed + bad))
		failures="$failures
  $name (see $log)"
		grep '^not ok ' "$log" | grep -v '# SKIP' | sed 's/^/    /'
		tail -n 20 "$log" | sed 's/^/    | /'
	fi
	echo "$name: $ok passed, $bad failed, $skip skipped"
done
if [ "$check_status" -ne 0 ] && [ "$failed" -eq "$counted" ]; then
	note_fail "make check failed outside the test cases (see build-check.log)"
	tail -n 20 build-check.log
fi

# ---------------------------------------------------------------- integration
section "integration tests"
python=/usr/bin/python3
[ -x "$python" ] || python=python3
out=$(mktemp)
"$python" tests/integration/run.py --hushd "$top/src/hushd" 2>&1 | tee "$out"
result=$(grep '^RESULT ' "$out" | tail -n 1)
if [ -z "$result" ]; then
	note_fail "integration suite did not complete"
else
	for kv in $result; do
		case "$kv" in
		passed=*) passed=$((passed + ${kv#passed=})) ;;
		failed=*) n=${kv#failed=}; [ "$n" -gt 0 ] &&
		    { failed=$((failed + n)); failures="$failures
  integration: $n failed (see above)"; } ;;
		skipped=*) skipped=$((skipped + ${kv#skipped=})) ;;
		esac
	done
fi
rm -f "$out"

# ---------------------------------------------------------------- fuzz smoke
section "fuzz smoke runs"
seconds=${HUSHD_FUZZ_SECONDS:-20}
if [ "$seconds" -eq 0 ]; then
	skipped=$((skipped + 1))
	echo "fuzzing skipped (HUSHD_FUZZ_SECONDS=0)"
elif ! command -v clang >/dev/null 2>&1; then
	skipped=$((skipped + 1))
	echo "fuzzing skipped: clang is not installed"
else
	if ! make fuzz >build-fuzz.log 2>&1; then
		note_fail "fuzz targets did not build (see build-fuzz.log)"
		tail -n 20 build-fuzz.log
	else
		for target in tests/fuzz/fuzz_*; do
			case "$target" in *.*) continue ;; esac
			[ -x "$target" ] || continue
			name=$(basename "$target")
			corpus=$(mktemp -d)
			seeds="tests/fuzz/corpus/${name#fuzz_}"
			[ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
			dict="tests/fuzz/${name#fuzz_}.dict"
			dictopt=""
			[ -f "$dict" ] && dictopt="-dict=$dict"
			if "$target" $dictopt -max_total_time="$seconds" \
			    -rss_limit_mb=1024 -timeout=5 "$corpus" \
			    >"tests/fuzz/$name.log" 2>&1; then
				passed=$((passed + 1))
				echo "$name: ok ($(grep -o 'Done [0-9]* runs' "tests/fuzz/$name.log"))"
			else
				note_fail "$name (see tests/fuzz/$name.log)"
				tail -n 30 "tests/fuzz/$name.log"
			fi
			rm -rf "$corpus"
		done
	fi
fi

# ---------------------------------------------------------------- benchmark
section "benchmark smoke run"
if [ "${HUSHD_SKIP_BENCH:-0}" = 1 ]; then
	skipped=$((skipped + 1))
	echo "benchmark smoke run skipped (HUSHD_SKIP_BENCH=1)"
elif [ "$(id -u)" -ne 0 ]; then
	skipped=$((skipped + 1))
	echo "benchmark smoke run skipped: it needs root (network namespace)"
else
	for script in run.sh sni.sh audit.sh; do
		log="build-bench-smoke-${script%.sh}.log"
		if sh "bench/$script" --smoke --hushd "$top/src/hushd" >"$log" 2>&1; then
			passed=$((passed + 1))
			echo "bench/$script --smoke: ok"
		else
			note_fail "bench/$script --smoke (see $log)"
			tail -n 30 "$log"
		fi
	done
fi

# ---------------------------------------------------------------- packaging
section "packaging"
dest=$(mktemp -d)
# The unit must start the hushd and the configuration that were installed.
unit="$dest/usr/local/lib/systemd/system/hushd.service"
if make install DESTDIR="$dest" >/dev/null 2>&1 &&
    [ -x "$dest/usr/local/sbin/hushd" ] &&
    "$dest/usr/local/sbin/hushd" -n -c "$dest/usr/local/etc/hushd/hushd.conf" >/dev/null 2>&1 &&
    unit_exec=$(sed -n 's|^ExecStart=\(/[^ ]*\) -f -c \(/[^ ]*\)$|\1 \2|p' "$unit") &&
    [ -x "$dest${unit_exec% *}" ] && [ -f "$dest${unit_exec#* }" ]; then
	passed=$((passed + 1))
	echo "make install (DESTDIR), the installed configuration and hushd.service: ok"
else
	note_fail "make install DESTDIR=..., the installed configuration or hushd.service"
fi
rm -rf "$dest"
if [ "${HUSHD_SKIP_DISTCHECK:-0}" = 1 ]; then
	skipped=$((skipped + 1))
	echo "make distcheck skipped (HUSHD_SKIP_DISTCHECK=1)"
elif make distcheck >build-distcheck.log 2>&1; then
	passed=$((passed + 1))
	echo "make distcheck: ok"
else
	note_fail "make distcheck (see build-distcheck.log)"
	tail -n 30 build-distcheck.log
fi

echo
[ -n "$failures" ] && echo "failures:$failures"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
