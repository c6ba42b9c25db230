#!/bin/sh
# run.sh: the benchmark of hushd against dnsmasq, unbound and dnsdist.
#
#   sh bench/run.sh [--hushd PATH] [--out FILE] [--runs N] [--seconds S]
#   sh bench/run.sh --smoke [--hushd PATH]
#   (--keep leaves the work directory, configurations and logs, in /tmp)
#
# One loopback authoritative upstream (NSD serving a generated zone) and,
# in turn, each proxy forwarding to it and blocking the same generated
# list (100k and 1M names) in its own syntax; dnsperf measures each one,
# the upstream itself and a bare UDP responder (the load generator's
# ceiling). Everything runs in a private network namespace (unshare -n)
# with only loopback, the proxy pinned to one CPU and dnsperf and the
# upstream to the other. The full run writes bench/RESULTS.md (or --out)
# and takes about 25 minutes with the defaults (--runs 3 --seconds 15).
#
# --smoke proves the script works in about 20 seconds: the 100k list,
# one 2-second run per measurement, hushd and unbound only, the upstream
# not measured alone; it prints the results and exits non-zero if hushd
# could not be measured.
#
# Needs root (network namespace, apt-get). Missing packages are installed
# with apt-get; a peer that cannot be installed is skipped with a note.
# Every daemon started here is stopped on exit.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
invocation="sh $0 $*"
bench_start=${HUSHD_BENCH_START:-$(date +%s)}
mode=full
runs=""
seconds=""
hushd=""
out=""
keep=0

usage() {
	sed -n '3,6p' "$top/bench/run.sh" | sed 's/^# *//' >&2
	exit "$1"
}

die() {
	echo "bench: $*" >&2
	exit 1
}

# Progress, with the seconds since the start.
say() {
	echo "bench [$(($(date +%s) - bench_start))s]: $*"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) mode=smoke ;;
	--keep) keep=1 ;;
	--hushd) [ $# -ge 2 ] || usage 2; hushd=$2; shift ;;
	--out) [ $# -ge 2 ] || usage 2; out=$2; shift ;;
	--runs) [ $# -ge 2 ] || usage 2; runs=$2; shift ;;
	--seconds) [ $# -ge 2 ] || usage 2; seconds=$2; shift ;;
	-h | --help) usage 0 ;;
	*) usage 2 ;;
	esac
	shift
done

if [ "$mode" = smoke ]; then
	: "${runs:=1}" "${seconds:=2}"
	sizes="100k"
	peers="unbound"
	reloads=3
	settle=0.5
	pause=0.2
else
	: "${runs:=3}" "${seconds:=15}"
	sizes="100k 1m"
	peers="dnsmasq unbound dnsdist"
	reloads=10
	settle=2
	pause=0.5
	[ -n "$out" ] || out="$top/bench/RESULTS.md"
fi
case "$runs$seconds" in
*[!0-9]*) die "--runs and --seconds take whole numbers" ;;
esac
[ "$runs" -ge 1 ] && [ "$seconds" -ge 1 ] || die "--runs and --seconds must be positive"
[ -n "$hushd" ] || hushd="$top/src/hushd"
case "$hushd" in /*) ;; *) hushd="$(pwd)/$hushd" ;; esac
case "$out" in "" | /*) ;; *) out="$(pwd)/$out" ;; esac
[ -x "$hushd" ] || die "$hushd: not built (make, or --hushd PATH)"

# ------------------------------------------------------------ packages
package_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# Installs the packages that are missing, as quickstart.sh does; fails
# when apt-get cannot install them.
install_packages() {
	missing=""
	for pkg in "$@"; do
		package_installed "$pkg" || missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	command -v apt-get >/dev/null 2>&1 || return 1
	say "installing$missing"
	env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $missing >/dev/null 2>&1 ||
	    { apt-get update -q >/dev/null 2>&1 &&
	      env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	      --no-install-recommends $missing >/dev/null 2>&1; }
}

peer_package() {
	case "$1" in
	dnsmasq) echo dnsmasq-base ;;
	*) echo "$1" ;;
	esac
}

# ------------------------------------------------------------ outer part
# Installs what is missing, then runs the rest of this script again in a
# private network namespace, under an overall time limit.
if [ -z "${HUSHD_BENCH_WORK:-}" ]; then
	[ "$(id -u)" -eq 0 ] || die "needs root (a private network namespace, apt-get)"
	install_packages dnsperf nsd gcc libc6-dev iproute2 util-linux ||
	    die "cannot install dnsperf, nsd and a C compiler"
	work=$(mktemp -d "${TMPDIR:-/tmp}/hushd-bench.XXXXXX") || die "mktemp failed"
	finish() {
		if [ "$keep" -eq 1 ]; then
			say "kept $work"
		else
			rm -rf "$work"
		fi
	}
	trap finish EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	: > "$work/notes"
	available=""
	for peer in $peers; do
		if install_packages "$(peer_package "$peer")"; then
			available="$available $peer"
		else
			echo "- $peer: skipped, the Debian package $(peer_package "$peer") could not be installed." >> "$work/notes"
			say "$peer skipped: $(peer_package "$peer") could not be installed" >&2
		fi
	done
	# A network namespace with only loopback, and a PID namespace so that
	# whatever the inner part leaves running ends with it.
	namespaces="-n -p -f --kill-child=TERM --mount-proc"
	unshare $namespaces true 2>/dev/null ||
	    die "unshare $namespaces failed: private namespaces are needed"
	if [ "$mode" = smoke ]; then limit=300; else limit=7200; fi
	load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
	set -- --hushd "$hushd" --runs "$runs" --seconds "$seconds"
	[ "$mode" = smoke ] && set -- "$@" --smoke
	[ -n "$out" ] && set -- "$@" --out "$out"
	HUSHD_BENCH_WORK=$work HUSHD_BENCH_PEERS=$available \
	    HUSHD_BENCH_COMMAND=$invocation HUSHD_BENCH_START=$bench_start \
	    HUSHD_BENCH_LOAD=$load_before \
	    timeout --foreground -k 30 "$limit" \
	    unshare $namespaces sh "$top/bench/run.sh" "$@"
	status=$?
	case "$status" in
	124 | 137) die "stopped: the time limit of $limit s ran out (or killed)" ;;
	esac
	exit "$status"
fi

# ------------------------------------------------------------ inner part
work=$HUSHD_BENCH_WORK
peers=${HUSHD_BENCH_PEERS:-}
invocation=${HUSHD_BENCH_COMMAND:-$invocation}
load_before=${HUSHD_BENCH_LOAD:-?}
bin=$work/bin
mkdir -p "$bin" "$work/conf" "$work/lists" "$work/queries" "$work/logs"
: > "$work/pids"
: > "$work/runs.tsv"
: > "$work/loads.tsv"
: > "$work/reloads.tsv"

ip link set lo up || die "cannot bring up loopback in the namespace"

# Stops a daemon and its children, TERM first and KILL after 5 seconds.
stop_pid() {
	local pid=$1 pids i
	running "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	pids="$pid $(ps -o pid= --ppid "$pid" 2>/dev/null)"
	kill -TERM $pids 2>/dev/null
	i=0
	while [ $i -lt 50 ]; do
		alive=""
		for p in $pids; do
			running "$p" && alive="$alive $p"
		done
		[ -z "$alive" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$alive" ] && kill -KILL $alive 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	trap - EXIT INT TERM
	for pid in $(cat "$work/pids" 2>/dev/null); do
		stop_pid "$pid"
	done
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
	proxy_cpu=1
	load_cpu=0
else
	proxy_cpu=0
	load_cpu=0
	echo "- Only one CPU: the proxies, dnsperf and the upstream share it." >> "$work/notes"
fi
hz=$(getconf CLK_TCK)
upstream_port=5353
proxy_port=5300
responder_port=5301
# The miss mixes need a name per query: enough for 200k queries a second.
miss_names=$((seconds * 200000 + 100000))
seed=20261125

note() {
	echo "- $*" >> "$work/notes"
	say "$*" >&2
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# utime + stime of a process, in clock ticks; 0 when it is gone.
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# True while process $1 runs (a zombie does not).
running() {
	local state
	state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# Starts a daemon on CPU $1 with output to log $2; sets $started.
start_daemon() {
	local cpu=$1 log=$2
	shift 2
	taskset -c "$cpu" "$@" > "$log" 2>&1 &
	started=$!
	echo "$started" >> "$work/pids"
}

# ------------------------------------------------------------ helpers
say "building the helpers"
cc=${CC:-cc}
for prog in responder dnsprobe genlist; do
	$cc -O2 -Wall -o "$bin/$prog" "$top/bench/$prog.c" ||
	    die "cannot build bench/$prog.c"
done
builddir=$(cd "$(dirname "$hushd")/.." && pwd)
matchbench=""
if [ -f "$builddir/config.h" ] &&
    $cc -O2 -std=c11 -I"$builddir" -I"$top/src" -o "$bin/matchbench" \
    "$top/bench/matchbench.c" "$top/src/domainset.c" "$top/src/siphash.c" \
    "$top/src/lists.c" \
    "$top/src/log.c" 2> "$work/logs/matchbench-build"; then
	matchbench="$bin/matchbench"
else
	note "the matching micro-benchmark did not build: $(tail -n 3 "$work/logs/matchbench-build" 2>/dev/null || echo "no config.h in $builddir")"
fi
quicbench=""
if [ -f "$builddir/config.h" ] &&
    $cc -O2 -std=c11 -I"$builddir" -I"$top/src" -o "$bin/quicbench" \
    "$top/bench/quicbench.c" "$top/src/quic.c" "$top/src/tlshello.c" \
    "$top/src/siphash.c" "$top/src/log.c" $(pkg-config --cflags --libs libcrypto) \
    2> "$work/logs/quicbench-build"; then
	quicbench="$bin/quicbench"
else
	note "the QUIC micro-benchmark did not build: $(tail -n 3 "$work/logs/quicbench-build" 2>/dev/null || echo "no config.h in $builddir")"
fi

# ------------------------------------------------------------ inputs
say "generating the lists and queries"
if [ "$mode" = smoke ]; then count=100000; else count=1000000; fi
"$bin/genlist" list "$seed" "$count" > "$work/lists/$([ "$mode" = smoke ] && echo 100k || echo 1m).txt" ||
    die "genlist failed"
[ "$mode" = full ] && head -n 100000 "$work/lists/1m.txt" > "$work/lists/100k.txt"
for size in $sizes; do
	plain=$work/lists/$size.txt
	sed 's|.*|local=/&/|' "$plain" > "$work/lists/$size.dnsmasq"
	sed 's|.*|local-zone: "&." always_nxdomain|' "$plain" > "$work/lists/$size.unbound"
done
# The hot mix: six names the upstream answers and two names of the 100k
# list (so of both lists), the same eight over and over.
blocked1=$(sed -n 1p "$work/lists/100k.txt")
blocked2=$(sed -n 50000p "$work/lists/100k.txt")
{
	for i in 1 2 3 4 5 6; do
		echo "h$i.bench A"
	done
	echo "$blocked1 A"
	echo "$blocked2 A"
} > "$work/queries/hot.txt"
i=1
while [ $i -le "$runs" ]; do
	"$bin/genlist" queries "m$i" "$miss_names" > "$work/queries/miss$i.txt"
	i=$((i + 1))
done
"$bin/genlist" queries reload "$((miss_names * 2))" > "$work/queries/reload.txt"

# ------------------------------------------------------------ upstream
cat > "$work/conf/bench.zone" <<'EOF'
$ORIGIN bench.
$TTL 3600
@	SOA	ns.bench. hostmaster.bench. 1 3600 600 86400 3600
@	NS	ns.bench.
ns	A	192.0.2.53
*	A	192.0.2.1
h1	A	192.0.2.11
h2	A	192.0.2.12
h3	A	192.0.2.13
h4	A	192.0.2.14
h5	A	192.0.2.15
h6	A	192.0.2.16
EOF
cat > "$work/conf/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$upstream_port
	server-count: 1
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$work/conf"
	database: ""
	zonelistfile: "$work/conf/nsd-zone.list"
	xfrdfile: "$work/conf/nsd-xfrd.state"
	xfrdir: "$work/conf"
	pidfile: "$work/conf/nsd.pid"
	logfile: "$work/logs/nsd"
	verbosity: 1
	# The default response rate limiting caps one client near 200 qps.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: "bench"
	zonefile: "bench.zone"
EOF
say "starting the upstream (NSD)"
start_daemon "$load_cpu" "$work/logs/nsd.out" nsd -d -c "$work/conf/nsd.conf"
nsd_pid=$started
"$bin/dnsprobe" 127.0.0.1 "$upstream_port" h1.bench NOERROR 10000 > /dev/null ||
    die "NSD did not answer (see its log below)
$(cat "$work/logs/nsd" "$work/logs/nsd.out" 2>/dev/null)"

# ------------------------------------------------------------ measuring
# One dnsperf run against port $5 with query file $6; $7 is the process
# whose CPU time is counted ("" for none). Appends a line to runs.tsv:
# target size mix run qps completed sent lost avg_ms p99_ms cpu_us wrapped
perf_run() {
	local target=$1 size=$2 mix=$3 run=$4 port=$5 file=$6 pid=$7
	local before=0 after=0 names
	[ -n "$pid" ] && before=$(cpu_ticks "$pid")
	timeout $((seconds + 30)) taskset -c "$load_cpu" dnsperf -s 127.0.0.1 \
	    -p "$port" -d "$file" -c 10 -l "$seconds" -v > "$work/perf.out" 2>&1
	[ -n "$pid" ] && after=$(cpu_ticks "$pid")
	names=$(wc -l < "$file")
	awk -v target="$target" -v size="$size" -v mix="$mix" -v run="$run" \
	    -v ticks=$((after - before)) -v hz="$hz" -v counted="${pid:+1}" \
	    -v names="$names" '
		$1 == ">" && $2 != "T" && $2 != "I" {
			us = int($NF * 1e6 + 0.5); hist[us]++; n++
			if (us > max) max = us
		}
		/Queries sent:/ { sent = $3 }
		/Queries completed:/ { completed = $3 }
		/Queries lost:/ { lost = $3 }
		/Queries per second:/ { qps = $4 }
		/Average Latency \(s\):/ { avg = $4 * 1000 }
		END {
			if (completed == "") exit 1
			p99 = 0; want = n * 0.99; seen = 0
			for (us = 0; us <= max && n > 0; us++) {
				seen += hist[us]
				if (seen >= want) { p99 = us / 1000; break }
			}
			cpu = counted && completed > 0 ? sprintf("%.2f", ticks / hz * 1e6 / completed) : "-"
			printf "%s\t%s\t%s\t%s\t%.0f\t%d\t%d\t%d\t%.3f\t%.3f\t%s\t%d\n",
			    target, size, mix, run, qps, completed, sent, lost, avg, p99,
			    cpu, (mix != "hot" && sent > names)
		}' "$work/perf.out" >> "$work/runs.tsv" || {
		note "$target $size $mix run $run: dnsperf gave no statistics"
		tail -n 5 "$work/perf.out" >&2
		return 1
	}
	say "$(tail -n 1 "$work/runs.tsv" | awk -F '\t' '{ printf "  %s %s %s #%s: %s qps, lost %s, cpu %s us/q", $1, $2, $3, $4, $5, $8, $11 }')"
}

# Runs the mix $5 ($runs times, numbered from $7 or 1) against port $4;
# the miss mix uses a file of fresh names per run, so that the runs do not
# feed each other's cache.
perf_mix() {
	local target=$1 size=$2 mix=$3 port=$4 kind=$5 pid=$6 run=${7:-1} file
	local last=$((${7:-1} + runs - 1))
	while [ $run -le $last ]; do
		if [ "$kind" = hot ]; then
			file=$work/queries/hot.txt
		else
			file=$work/queries/miss$run.txt
		fi
		perf_run "$target" "$size" "$mix" "$run" "$port" "$file" "$pid" || return 1
		run=$((run + 1))
	done
}

# The ceiling is measured at the start and, in a full run, again at the end,
# so that a passing disturbance weighs less on the reference.
measure_ceiling() {
	say "the load generator's ceiling (responder)"
	start_daemon "$proxy_cpu" "$work/logs/responder" "$bin/responder" 127.0.0.1 "$responder_port"
	responder_pid=$started
	"$bin/dnsprobe" 127.0.0.1 "$responder_port" h1.bench NOERROR 5000 > /dev/null ||
	    die "the responder did not answer"
	perf_mix responder - hot "$responder_port" hot "$responder_pid" "$1" ||
	    die "dnsperf failed against the responder"
	stop_pid "$responder_pid"
}

measure_ceiling 1

if [ "$mode" = full ]; then
	say "the upstream alone"
	perf_mix upstream - hot "$upstream_port" hot "" &&
	    perf_mix upstream - miss "$upstream_port" miss "" ||
	    die "dnsperf failed against the upstream"
fi

# Writes the configuration of target $1 for list size $2, cache on|off.
write_conf() {
	local target=$1 size=$2 cache=$3 conf=$work/conf/$1-$2-$3
	case "$target" in
	hushd)
		cat > "$conf" <<-EOF
		listen 127.0.0.1:$proxy_port
		upstream 127.0.0.1:$upstream_port
		user root
		cache-size $([ "$cache" = on ] && echo 100000 || echo 0)
		block-mode nxdomain
		workers 1
		allow-clients 127.0.0.0/8
		list bench $work/lists/$size.txt
		EOF
		;;
	dnsmasq)
		cat > "$conf" <<-EOF
		port=$proxy_port
		listen-address=127.0.0.1
		bind-interfaces
		no-resolv
		no-hosts
		no-poll
		user=root
		pid-file=
		log-facility=-
		server=127.0.0.1#$upstream_port
		cache-size=$([ "$cache" = on ] && echo 100000 || echo 0)
		conf-file=$work/lists/$size.dnsmasq
		EOF
		;;
	unbound)
		# unbound cannot run without its cache: "off" keeps nothing
		# past the second it was stored in (cache-max-ttl 0).
		{
			echo "server:"
			echo "interface: 127.0.0.1@$proxy_port"
			echo "do-ip6: no"
			echo "num-threads: 1"
			echo "access-control: 127.0.0.0/8 allow"
			echo 'username: ""'
			echo 'chroot: ""'
			echo "directory: \"$work\""
			echo 'pidfile: ""'
			echo "use-syslog: no"
			echo 'logfile: ""'
			echo "verbosity: 1"
			echo "do-daemonize: no"
			echo 'module-config: "iterator"'
			echo "do-not-query-localhost: no"
			echo "qname-minimisation: no"
			echo "msg-cache-size: 32m"
			echo "rrset-cache-size: 64m"
			if [ "$cache" = off ]; then
				echo "cache-max-ttl: 0"
				echo "cache-max-negative-ttl: 0"
			fi
			echo "include: \"$work/lists/$size.unbound\""
			echo "forward-zone:"
			echo 'name: "."'
			echo "forward-addr: 127.0.0.1@$upstream_port"
			echo "remote-control:"
			echo "control-enable: no"
		} > "$conf"
		;;
	dnsdist)
		cat > "$conf" <<-EOF
		setLocal("127.0.0.1:$proxy_port")
		setACL({"127.0.0.0/8"})
		newServer({address="127.0.0.1:$upstream_port", name="upstream", checkName="h1.bench."})
		local blocked = newSuffixMatchNode()
		for name in io.lines("$work/lists/$size.txt") do blocked:add(name) end
		addAction(SuffixMatchNodeRule(blocked, true), RCodeAction(DNSRCode.NXDOMAIN))
		$([ "$cache" = on ] && echo 'getPool(""):setCache(newPacketCache(100000))')
		EOF
		;;
	esac
	echo "$conf"
}

# Starts target $1 with configuration $2; sets $started, and on success
# appends "target size cache load_ms rss_kib" to loads.tsv.
start_target() {
	local target=$1 size=$2 cache=$3 conf t0 t1 last deadline ready
	conf=$(write_conf "$target" "$size" "$cache")
	# The list's last name is answered as blocked only once all is loaded.
	last=$(tail -n 1 "$work/lists/$size.txt")
	if [ "$mode" = smoke ]; then deadline=30000; else deadline=300000; fi
	t0=$(now_ms)
	case "$target" in
	hushd) start_daemon "$proxy_cpu" "$work/logs/$target-$size-$cache" "$hushd" -f -c "$conf" ;;
	dnsmasq) start_daemon "$proxy_cpu" "$work/logs/$target-$size-$cache" dnsmasq -k -C "$conf" ;;
	unbound) start_daemon "$proxy_cpu" "$work/logs/$target-$size-$cache" unbound -d -c "$conf" ;;
	dnsdist) start_daemon "$proxy_cpu" "$work/logs/$target-$size-$cache" dnsdist --supervised --disable-syslog -C "$conf" ;;
	esac
	# Probed a second at a time, to notice a daemon that exited.
	ready=1
	while ! "$bin/dnsprobe" 127.0.0.1 "$proxy_port" "$last" NXDOMAIN 1000 \
	    > /dev/null 2>&1; do
		if ! running "$started" || [ "$(now_ms)" -ge $((t0 + deadline)) ]; then
			ready=0
			break
		fi
	done
	if [ "$ready" -eq 0 ]; then
		if running "$started"; then
			note "$target ($size list, cache $cache) did not answer within $((deadline / 1000)) s: skipped"
		else
			note "$target ($size list, cache $cache) exited before it answered: skipped"
		fi
		tail -n 5 "$work/logs/$target-$size-$cache" >&2
		stop_pid "$started"
		return 1
	fi
	t1=$(now_ms)
	if ! "$bin/dnsprobe" 127.0.0.1 "$proxy_port" h1.bench NOERROR 30000 > /dev/null; then
		note "$target ($size list, cache $cache) did not forward to the upstream: skipped"
		stop_pid "$started"
		return 1
	fi
	printf '%s\t%s\t%s\t%d\t%d\n' "$target" "$size" "$cache" $((t1 - t0)) \
	    "$(rss_kib "$started")" >> "$work/loads.tsv"
	say "$(tail -n 1 "$work/loads.tsv" | awk -F '\t' '{ printf "%s %s cache %s: answered after %d ms, RSS %d KiB", $1, $2, $3, $4, $5 }')"
}

bench_target() {
	local target=$1 size=$2 pid
	start_target "$target" "$size" on || return 1
	pid=$started
	perf_mix "$target" "$size" hot "$proxy_port" hot "$pid" &&
	    perf_mix "$target" "$size" miss "$proxy_port" miss "$pid"
	status=$?
	stop_pid "$pid"
	[ "$status" -eq 0 ] || return 1
	start_target "$target" "$size" off || return 1
	pid=$started
	perf_mix "$target" "$size" nocache "$proxy_port" miss "$pid"
	status=$?
	stop_pid "$pid"
	return "$status"
}

hushd_failed=0
for target in hushd $peers; do
	for size in $sizes; do
		say "$target, $size list"
		if ! bench_target "$target" "$size"; then
			[ "$target" = hushd ] && hushd_failed=1
		fi
	done
done

# QPS while the daemon reloads its list $reloads times; $2 is the line its
# log gains when a reload is done.
reload_test() {
	local target=$1 done_line=$2 size conf log pid perf before i n deadline
	size=$(echo "$sizes" | awk '{ print $NF }')
	start_target "$target" "$size" on || return 1
	pid=$started
	log=$work/logs/$target-$size-on
	taskset -c "$load_cpu" dnsperf -s 127.0.0.1 -p "$proxy_port" \
	    -d "$work/queries/reload.txt" -c 10 -l 600 > "$work/reload.out" 2>&1 &
	perf=$!
	echo "$perf" >> "$work/pids"
	sleep "$settle"
	i=0
	t0=$(now_ms)
	while [ $i -lt "$reloads" ]; do
		before=$(grep -c "$done_line" "$log")
		kill -HUP "$pid"
		deadline=$(($(now_ms) + 60000))
		while :; do
			n=$(grep -c "$done_line" "$log")
			[ "$n" -gt "$before" ] && break
			[ "$(now_ms)" -ge "$deadline" ] && break
			sleep 0.05
		done
		[ "$n" -le "$before" ] && break
		i=$((i + 1))
		sleep "$pause"
	done
	t1=$(now_ms)
	sleep "$settle"
	kill -INT "$perf"
	wait "$perf"
	stop_pid "$pid"
	awk -v target="$target" -v size="$size" -v done="$i" -v ms=$((t1 - t0)) '
		/Queries completed:/ { completed = $3 }
		/Queries lost:/ { lost = $3 }
		/Queries interrupted:/ { interrupted = $3 }
		/Queries per second:/ { qps = $4 }
		END {
			if (completed == "") exit 1
			printf "%s\t%s\t%d\t%.1f\t%.0f\t%d\t%d\t%d\n", target, size,
			    done, ms / 1000, qps, completed, lost, interrupted + 0
		}' "$work/reload.out" >> "$work/reloads.tsv" || {
		note "$target reload test: dnsperf gave no statistics"
		return 1
	}
	say "$(tail -n 1 "$work/reloads.tsv" | awk -F '\t' '{ printf "%s: %d reloads in %s s, %s qps, lost %s", $1, $3, $4, $5, $7 }')"
	[ "$i" -eq "$reloads" ] || note "$target: only $i of $reloads reloads completed"
}

say "reloads under load"
reload_test hushd "configuration reloaded" || hushd_failed=1
if [ "$mode" = full ]; then
	for peer in $peers; do
		[ "$peer" = unbound ] && reload_test unbound "start of service"
	done
fi

[ "$mode" = full ] && measure_ceiling $((runs + 1))
stop_pid "$nsd_pid"

# ------------------------------------------------------------ matching
if [ -n "$matchbench" ]; then
	say "domainset matching"
	if [ "$mode" = smoke ]; then
		taskset -c "$proxy_cpu" "$matchbench" "$work/lists/100k.txt" 1 1
	else
		taskset -c "$proxy_cpu" "$matchbench" "$work/lists/1m.txt" 5 5
	fi > "$work/matchbench.out" 2>&1 || note "the matching micro-benchmark failed"
	cat "$work/matchbench.out"
fi

# ------------------------------------------------------------ QUIC Initials
if [ -n "$quicbench" ]; then
	say "QUIC Initial judgements"
	if [ "$mode" = smoke ]; then
		taskset -c "$proxy_cpu" "$quicbench" 20 1
	else
		taskset -c "$proxy_cpu" "$quicbench" 200 5
	fi > "$work/quicbench.out" 2>&1 || note "the QUIC micro-benchmark failed"
	cat "$work/quicbench.out"
fi

# ------------------------------------------------------------ report
. "$top/bench/sni-section.sh"
. "$top/bench/report.sh"
report > "$work/RESULTS.md" || die "could not write the report"
if [ -n "$out" ]; then
	cp "$work/RESULTS.md" "$out" || die "cannot write $out"
	say "wrote $out"
else
	cat "$work/RESULTS.md"
fi

if [ "$hushd_failed" -ne 0 ] || ! awk -F '\t' '$1 == "hushd" && $6 > 0 { ok = 1 } END { exit !ok }' "$work/runs.tsv"; then
	die "hushd could not be measured"
fi
say "done"
