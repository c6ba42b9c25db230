#!/bin/sh
# web-sse.sh: what 50 open live event streams of the web page cost DNS.
#
#   sh bench/web-sse.sh [--hushd PATH] [--hushctl PATH] [--streams N]
#                       [--runs N] [--seconds S] [--out FILE]
#
# hushd forwards to unbound (a static zone, all names cached by hushd after
# their first query) with log-allowed, so that every query is an event that
# every stream carries. dnsperf measures the queries per second with no
# stream open, then with --streams (default 50) logged-in /api/events
# streams read to the end by one reader process; the runs alternate and the
# medians are compared. Everything runs in a private network namespace
# (unshare -n, and -p so that nothing outlives it), under a time limit;
# hushd is pinned to one CPU, dnsperf, unbound and the reader to the other.
# Writes bench/WEB-RESULTS.md (or --out). Needs root; dnsperf and unbound
# are installed with apt-get when missing. Not a timed test: the figures
# depend on the machine.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
hushd=$top/src/hushd
hushctl=$top/src/hushctl
streams=50
runs=3
seconds=10
out=$top/bench/WEB-RESULTS.md

die() {
	echo "web-sse: $*" >&2
	exit 1
}

say() {
	echo "web-sse: $*" >&2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--hushd) hushd=$2; shift 2 ;;
	--hushctl) hushctl=$2; shift 2 ;;
	--streams) streams=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) sed -n '4,5p' "$0" | sed 's/^# *//' >&2; exit 2 ;;
	esac
done

# ------------------------------------------------------------ outer part
if [ -z "${HUSHD_WEB_BENCH_WORK:-}" ]; then
	[ "$(id -u)" -eq 0 ] || die "needs root (a private network namespace)"
	[ -x "$hushd" ] && [ -x "$hushctl" ] || die "build hushd and hushctl first"
	for tool in dnsperf unbound python3; do
		command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
		    { env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		      --no-install-recommends dnsperf unbound python3 >/dev/null 2>&1 ||
		      die "cannot install dnsperf and unbound"; break; }
	done
	work=$(mktemp -d "${TMPDIR:-/tmp}/hushd-web-bench.XXXXXX") || die "mktemp failed"
	trap 'rm -rf "$work"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	limit=$((runs * 2 * (seconds + 20) + 120))
	HUSHD_WEB_BENCH_WORK=$work timeout --foreground -k 10 "$limit" \
	    unshare -n -p -f --kill-child=TERM --mount-proc \
	    sh "$0" --hushd "$hushd" --hushctl "$hushctl" --streams "$streams" \
	    --runs "$runs" --seconds "$seconds" --out "$out"
	status=$?
	[ "$status" -eq 124 ] && die "stopped: the time limit of $limit s ran out"
	exit "$status"
fi

# ------------------------------------------------------------ inner part
work=$HUSHD_WEB_BENCH_WORK
ip link set lo up || die "no loopback in the namespace"
ncpu=$(nproc)
hushd_cpu=0
load_cpu=$((ncpu > 1 ? 1 : 0))
unbound_bin=$(command -v unbound || echo /usr/sbin/unbound)
dns_port=5300
upstream_port=5301
web_port=8080
password="bench password 1"

cat > "$work/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $upstream_port
  do-daemonize: no
  chroot: ""
  username: ""
  pidfile: ""
  use-syslog: no
  logfile: "$work/unbound.log"
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  local-zone: "bench." redirect
  local-data: "bench. 3600 IN A 192.0.2.1"
EOF
taskset -c "$load_cpu" "$unbound_bin" -d -c "$work/unbound.conf" \
    > "$work/unbound.out" 2>&1 &

# 2,000 names, one in ten of them blocked.
i=0
: > "$work/queries"
: > "$work/blocked.txt"
while [ $i -lt 2000 ]; do
	if [ $((i % 10)) -eq 0 ]; then
		echo "ads$i.bench" >> "$work/blocked.txt"
		echo "ads$i.bench A" >> "$work/queries"
	else
		echo "h$i.bench A" >> "$work/queries"
	fi
	i=$((i + 1))
done

echo "$password" | "$hushctl" passwd > "$work/password" 2>/dev/null ||
    die "hushctl passwd failed"
cat > "$work/hushd.conf" <<EOF
listen 127.0.0.1:$dns_port
upstream 127.0.0.1:$upstream_port
user root
workers 1
cache-size 10000
events $work/events.jsonl
log-allowed yes
list ads $work/blocked.txt
group default {
 block ads
}
web-listen 127.0.0.1:$web_port
$(cat "$work/password")
EOF
taskset -c "$hushd_cpu" "$hushd" -f -c "$work/hushd.conf" \
    > "$work/hushd.out" 2>&1 &
hushd_pid=$!

ready=0
for _ in $(seq 50); do
	if dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/queries" -n 1 \
	    > /dev/null 2>&1 && [ -n "$(grep -l 'web page on' "$work/hushd.out")" ]; then
		ready=1
		break
	fi
	sleep 0.2
done
[ "$ready" -eq 1 ] || die "hushd did not start: $(tail -n 5 "$work/hushd.out")"

# The reader: logs in, opens N streams, reads them all until killed, and
# counts the events it got in $work/reader-N.count when it ends.
cat > "$work/reader.py" <<'EOF'
import selectors, signal, socket, sys, urllib.parse, urllib.request
port, n, password, countfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = urllib.parse.urlencode({"password": password}).encode()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /login HTTP/1.1\r\nHost: b\r\nContent-Type: "
          b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
          % (len(body), body))
head = s.recv(4096).decode()
s.close()
cookie = [l.split(":", 1)[1].split(";")[0].strip() for l in head.split("\r\n")
          if l.lower().startswith("set-cookie:")][0]
sel = selectors.DefaultSelector()
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(("GET /api/events HTTP/1.1\r\nHost: b\r\nCookie: %s\r\n\r\n"
               % cookie).encode())
    sel.register(c, selectors.EVENT_READ)
events = 0
stop = False
def end(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, end)
print("open", flush=True)
while not stop:
    for key, _ in sel.select(0.2):
        data = key.fileobj.recv(262144)
        if not data:
            sel.unregister(key.fileobj)
        events += data.count(b"\ndata: ") + data.startswith(b"data: ")
with open(countfile, "w") as f:
    f.write("%d\n" % events)
EOF

# hushd's CPU time so far (user + system, all threads), in clock ticks.
hushd_ticks() {
	awk '{ print $14 + $15 }' "/proc/$hushd_pid/stat"
}

# One dnsperf run; prints its queries per second and hushd's CPU time per
# answered query in µs (which the load generator's own share of its CPU
# does not sway).
measure() {
	local before after
	before=$(hushd_ticks)
	taskset -c "$load_cpu" timeout $((seconds + 20)) dnsperf -s 127.0.0.1 \
	    -p "$dns_port" -d "$work/queries" -c 10 -l "$seconds" \
	    > "$work/perf.out" 2>&1
	after=$(hushd_ticks)
	awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" '
	    /Queries completed:/ { done = $3 }
	    /Queries per second:/ { qps = $4 }
	    END { if (qps != "" && done > 0)
		printf "%.0f\t%.2f", qps, t * 1e6 / hz / done }' "$work/perf.out"
}

# Warms hushd's cache, so that both cases measure the same work.
measure > /dev/null

: > "$work/runs.tsv"
run=1
while [ "$run" -le "$runs" ]; do
	qps=$(measure)
	[ -n "$qps" ] || die "dnsperf gave no figure: $(tail -n 5 "$work/perf.out")"
	printf '0\t%s\t%s\t-\n' "$run" "$qps" >> "$work/runs.tsv"
	say "run $run, no stream: $qps (qps, hushd CPU µs/q)"

	taskset -c "$load_cpu" python3 "$work/reader.py" "$web_port" "$streams" \
	    "$password" "$work/reader.count" > "$work/reader.out" 2>&1 &
	reader=$!
	for _ in $(seq 50); do
		grep -q open "$work/reader.out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q open "$work/reader.out" || die "the reader did not open its streams: $(cat "$work/reader.out")"
	qps=$(measure)
	kill "$reader"
	wait "$reader"
	[ -n "$qps" ] || die "dnsperf gave no figure: $(tail -n 5 "$work/perf.out")"
	events=$(cat "$work/reader.count" 2>/dev/null || echo 0)
	printf '%s\t%s\t%s\t%s\n' "$streams" "$run" "$qps" "$events" >> "$work/runs.tsv"
	say "run $run, $streams streams: $qps (qps, hushd CPU µs/q), $events events delivered"
	run=$((run + 1))
done
kill "$hushd_pid"
wait "$hushd_pid"
grep -q "AddressSanitizer\|runtime error" "$work/hushd.out" &&
    die "a sanitizer report in hushd's output: $(cat "$work/hushd.out")"

# Median of column $2 (3: queries/s, 4: CPU µs/q) of the runs with $1 streams.
median() {
	awk -F '\t' -v s="$1" -v c="$2" '$1 == s { print $c }' "$work/runs.tsv" |
	    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
none=$(median 0 3)
with=$(median "$streams" 3)
cpu_none=$(median 0 4)
cpu_with=$(median "$streams" 4)
drop=$(awk -v a="$none" -v b="$with" 'BEGIN { printf "%.1f", (a - b) * 100 / a }')
verdict=$(awk -v d="$drop" 'BEGIN { print (d <= 5 ? "within" : "beyond") }')
cpu_more=$(awk -v a="$cpu_none" -v b="$cpu_with" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
cpu_verdict=$(awk -v d="$cpu_more" 'BEGIN { print (d <= 5 ? "within" : "beyond") }')

{
	echo "# hushd: DNS with the web page's live event streams open"
	echo
	echo "Made by \`make bench-web\` (bench/web-sse.sh) on $(date -u +%Y-%m-%d):"
	echo "$(nproc) CPUs ($(awk -F ': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
	echo "$("$hushd" -V 2>/dev/null | head -n 1 || echo 'hushd ?') ($hushd) pinned to CPU $hushd_cpu with 1 worker;"
	echo "dnsperf (10 clients), unbound and the stream reader on CPU $load_cpu; $seconds s a run."
	echo "Every query is an event (log-allowed yes), 2,000 names cached by hushd,"
	echo "one in ten blocked. Each stream is an open \`GET /api/events\` of a"
	echo "logged-in session, read to the end."
	echo
	echo "| streams | run | queries/s | hushd CPU µs/query | events delivered |"
	echo "| ---: | ---: | ---: | ---: | ---: |"
	awk -F '\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$work/runs.tsv"
	echo
	echo "Median: **$none** queries/s with no stream, **$with** with $streams streams:"
	echo "a drop of **$drop %**, $verdict the 5 % target."
	echo "hushd's own CPU time per query: **$cpu_none µs** with no stream, **$cpu_with µs**"
	echo "with $streams streams: **$cpu_more %** more, $cpu_verdict 5 %."
	echo
	echo "Each event costs a worker one locked append to the one live queue"
	echo "(at most 100 a 100 ms batch; past that only a count); the main"
	echo "thread hands each batch to every stream by reference. The reader shares"
	echo "a CPU with dnsperf and unbound, so part of the drop is the load"
	echo "generator's, not hushd's; when the events delivered fall short of"
	echo "streams x queries, the reader could not keep up and streams lost"
	echo "events. These are saturation figures: a household makes tens of"
	echo "queries a second, not tens of thousands."
} > "$out"
cat "$out"
