#!/bin/sh
# sni.sh: hushd's transparent TLS (SNI) proxy against sniproxy and haproxy.
#
#   sh bench/sni.sh [--hushd PATH] [--out FILE] [--rounds N] [--keep]
#   sh bench/sni.sh --smoke [--hushd PATH] [--keep]
#   (--small: the full set of measurements with a tenth of the work, to try
#   the script out; --keep leaves the work directory and logs in /tmp)
#
# Everything runs in a private network namespace with only loopback up
# (unshare -n, with a PID namespace so nothing outlives it); the proxy is
# pinned to CPU 0, the clients, the origin and the TLS backend to CPU 1.
# Each proxy forwards every connection to a fixed destination, like
# hushd's "sni-listen ADDR to ADDR". Measured for each path (direct, hushd,
# sniproxy, haproxy), in rounds whose order rotates:
#   - full TLS 1.3 handshakes through the proxy to nginx (bench/tlsconnect)
#   - a crypto-free replay: a recorded ClientHello, a 100-byte reply from
#     a plain TCP origin (bench/tlsreplay, bench/origin)
#   - one and four concurrent 1 GiB downloads
#   - the proxy's resident memory idle, with 1,000 idle connections (the
#     ClientHello sent, then nothing) and at its peak
# with the proxy's CPU time from /proc/PID/stat. The full run writes
# bench/SNI-RESULTS.md (or --out) and takes about 10 minutes; written to
# its default place, it also refreshes the TLS proxy's section of
# bench/RESULTS.md (bench/sni-section.sh).
#
# --smoke checks that the benchmark works in about 15 seconds: the replay
# only, a few thousand connections, hushd and direct; it prints the results
# and exits non-zero if hushd lost a connection or a byte, or died.
#
# Needs root (namespaces, apt-get). Missing packages are installed with
# apt-get; a peer that cannot be installed is skipped with a note. Every
# daemon started here is stopped on exit.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
invocation="sh bench/sni.sh $*"
t0=${SNIBENCH_T0:-$(date +%s)}
mode=full
hushd=""
out=""
rounds=""
keep=0
small=0

say() {
	echo "sni-bench [$(($(date +%s) - t0))s]: $*"
}

die() {
	echo "sni-bench: $*" >&2
	exit 1
}

usage() {
	sed -n '4,7p' "$top/bench/sni.sh" | sed 's/^# *//' >&2
	exit "$1"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) mode=smoke ;;
	--small) small=1 ;;
	--keep) keep=1 ;;
	--hushd) [ $# -ge 2 ] || usage 2; hushd=$2; shift ;;
	--out) [ $# -ge 2 ] || usage 2; out=$2; shift ;;
	--rounds) [ $# -ge 2 ] || usage 2; rounds=$2; shift ;;
	-h | --help) usage 0 ;;
	*) usage 2 ;;
	esac
	shift
done

if [ "$mode" = smoke ]; then
	: "${rounds:=1}"
	peers=""
	tls_n=0
	replay_n=5000
	bulk_bytes=0
	hold_n=0
else
	: "${rounds:=3}"
	peers="sniproxy haproxy"
	tls_n=3000
	replay_n=30000
	bulk_bytes=1073741824
	hold_n=1000
	if [ "$small" -eq 1 ]; then
		tls_n=300
		replay_n=3000
		bulk_bytes=67108864
		hold_n=200
	else
		[ -n "$out" ] || out="$top/bench/SNI-RESULTS.md"
	fi
fi
conc=50
case "$rounds" in "" | *[!0-9]*) die "--rounds takes a whole number" ;; esac
[ "$rounds" -ge 1 ] || die "--rounds must be at least 1"
[ -n "$hushd" ] || hushd="$top/src/hushd"
case "$hushd" in /*) ;; *) hushd="$(pwd)/$hushd" ;; esac
case "$out" in "" | /*) ;; *) out="$(pwd)/$out" ;; esac

# ================================================================ outer part
# Installs what is missing, builds the tools, then runs this script again
# inside the namespaces under an overall time limit.
if [ -z "${SNIBENCH_WORK:-}" ]; then
	[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, apt-get)"
	[ -x "$hushd" ] || die "$hushd: not built (make src/hushd, or --hushd PATH)"

	installed() {
		dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
		    grep -q "install ok installed"
	}
	# Installs the missing packages among $@; false when apt-get cannot.
	install_pkgs() {
		missing=""
		for pkg in "$@"; do
			installed "$pkg" || missing="$missing $pkg"
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

	install_pkgs gcc libc6-dev libssl-dev openssl iproute2 util-linux procps ||
	    die "cannot install a C compiler, OpenSSL, iproute2 and util-linux"
	work=$(mktemp -d "${TMPDIR:-/tmp}/hushd-snibench.XXXXXX") ||
	    die "mktemp failed"
	finish() {
		if [ "$keep" -eq 1 ]; then say "kept $work"; else rm -rf "$work"; fi
	}
	trap finish EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	: > "$work/notes"
	available=""
	for peer in $peers; do
		if install_pkgs "$peer"; then
			available="$available $peer"
		else
			echo "- $peer: skipped, its Debian package could not be installed." >> "$work/notes"
			say "$peer skipped: the package could not be installed" >&2
		fi
	done
	backend=none
	if [ "$tls_n" -gt 0 ]; then
		if install_pkgs nginx-light; then
			backend=nginx
		else
			backend=s_server
			echo "- nginx-light could not be installed: the TLS backend is openssl s_server, which serves one connection at a time." >> "$work/notes"
		fi
	fi
	mkdir -p "$work/bin"
	for tool in origin tlsreplay tlsconnect; do
		libs=""
		[ "$tool" = tlsconnect ] && libs="-lssl -lcrypto"
		cc -O2 -std=c11 -Wall -o "$work/bin/$tool" "$top/bench/$tool.c" \
		    $libs 2> "$work/cc-$tool.log" ||
		    { cat "$work/cc-$tool.log" >&2; die "cannot build bench/$tool.c"; }
	done
	if [ "$backend" != none ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 7 \
		    -subj /CN=www.example.com -keyout "$work/key.pem" \
		    -out "$work/cert.pem" >/dev/null 2>&1 ||
		    die "openssl cannot make the certificate"
	fi
	namespaces="-n -p -f --kill-child=TERM --mount-proc"
	unshare $namespaces true 2>/dev/null ||
	    die "unshare $namespaces failed: private namespaces are needed"
	if [ "$mode" = smoke ]; then limit=120; else limit=2400; fi
	set -- --hushd "$hushd" --rounds "$rounds"
	[ "$mode" = smoke ] && set -- "$@" --smoke
	[ "$small" -eq 1 ] && set -- "$@" --small
	[ -n "$out" ] && set -- "$@" --out "$out"
	SNIBENCH_WORK=$work SNIBENCH_PEERS=$available SNIBENCH_BACKEND=$backend \
	    SNIBENCH_COMMAND=$invocation SNIBENCH_T0=$t0 \
	    SNIBENCH_LOAD=$(cut -d ' ' -f 1-3 /proc/loadavg) \
	    timeout --foreground -k 20 "$limit" \
	    unshare $namespaces sh "$top/bench/sni.sh" "$@"
	status=$?
	case "$status" in
	124 | 137) die "stopped: the time limit of $limit s ran out" ;;
	esac
	exit "$status"
fi

# ================================================================ inner part
work=$SNIBENCH_WORK
peers=${SNIBENCH_PEERS:-}
backend=${SNIBENCH_BACKEND:-none}
invocation=${SNIBENCH_COMMAND:-$invocation}
load_before=${SNIBENCH_LOAD:-?}
bin=$work/bin
hello=$work/hello.bin
results=$work/results.tsv
: > "$work/pids"
: > "$results"
mkdir -p "$work/conf" "$work/logs" "$work/tmp"

ip link set lo up || die "cannot bring loopback up in the namespace"
ulimit -n "$(ulimit -Hn)" 2>/dev/null
hz=$(getconf CLK_TCK)
proxy_cpu=0
load_cpu=1
[ "$(nproc)" -ge 2 ] || {
	load_cpu=0
	echo "- One CPU only: the proxy shares it with the clients and the origin." >> "$work/notes"
}
server_name=www.example.com
# Ports: the origin (reply, stream, hold), the TLS backend; the proxy
# listens on 8xxx for each 9xxx.
p_reply=9001
p_stream=9002
p_hold=9003
p_tls=9443
p_capture=9100
p_dns=5300

note() {
	echo "- $*" >> "$work/notes"
	say "$*" >&2
}

# True while process $1 runs (not a zombie).
running() {
	local st
	st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# Stops process $1 and its children: TERM, then KILL after 5 seconds.
stop_pid() {
	local pid=$1 all alive i
	if ! running "$pid"; then
		wait "$pid" 2>/dev/null
		return 0
	fi
	all="$pid $(ps -o pid= --ppid "$pid" 2>/dev/null)"
	kill -TERM $all 2>/dev/null
	i=0
	alive=$all
	while [ -n "$alive" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
		alive=""
		for p in $all; do
			running "$p" && alive="$alive $p"
		done
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

# Starts "$@" in the background on CPU $1, output to log $2; sets $started.
start_on() {
	local cpu=$1 log=$2
	shift 2
	taskset -c "$cpu" "$@" > "$log" 2>&1 &
	started=$!
	echo "$started" >> "$work/pids"
}

forget_pid() {
	grep -vx "$1" "$work/pids" > "$work/pids.new"
	mv "$work/pids.new" "$work/pids"
}

# utime + stime, in clock ticks, of process $1 (all its threads, live and
# ended: the process's own line) and of its child processes.
cpu_ticks() {
	local t=0 p v
	for p in $1 $(ps -o pid= --ppid "$1" 2>/dev/null); do
		v=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

status_kib() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Value of key $1 in the key=value line $2.
kv() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | tr -d '"' | head -n 1
}

# Records: path round metric value.
record() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$results"
}

# Waits (at most $2 seconds) until 127.0.0.1:$1 accepts connections.
wait_port() {
	"$bin/tlsreplay" wait -a "127.0.0.1:$1" -t "$2" >/dev/null
}

# Connections established to local port $1.
established_to() {
	ss -Htn state established "( dport = :$1 )" 2>/dev/null | wc -l
}

# ------------------------------------------------------------ the hello
# A real ClientHello: openssl s_client's, recorded by the origin.
start_on "$load_cpu" "$work/logs/capture.log" "$bin/origin" -t 15 -C "$p_capture" "$hello"
capture_pid=$started
wait_port "$p_capture" 5 || die "the capturing origin did not start"
# The readiness probe was a connection without a record; the next one is
# the client's.
printf '' | timeout 10 openssl s_client -connect "127.0.0.1:$p_capture" \
    -servername "$server_name" > "$work/logs/s_client.log" 2>&1
i=0
while running "$capture_pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
stop_pid "$capture_pid"
forget_pid "$capture_pid"
[ -s "$hello" ] && grep -q "$server_name" "$hello" ||
    die "no ClientHello recorded (see $work/logs/s_client.log)"
hello_bytes=$(wc -c < "$hello")
say "recorded a ClientHello of $hello_bytes bytes (openssl s_client, SNI $server_name)"

# ------------------------------------------------------------ backends
start_on "$load_cpu" "$work/logs/origin.log" "$bin/origin" -t 2400 \
    -r "$p_reply" -s "$p_stream:$bulk_bytes" -k "$p_hold"
origin_pid=$started
wait_port "$p_reply" 5 || die "the origin did not start"

case "$backend" in
nginx)
	cat > "$work/conf/nginx.conf" <<-EOF
	worker_processes 1;
	daemon off;
	pid $work/nginx.pid;
	error_log $work/logs/nginx-error.log crit;
	events { worker_connections 8192; }
	http {
	    access_log off;
	    client_body_temp_path $work/tmp;
	    proxy_temp_path $work/tmp;
	    fastcgi_temp_path $work/tmp;
	    uwsgi_temp_path $work/tmp;
	    scgi_temp_path $work/tmp;
	    server {
	        listen 127.0.0.1:$p_tls ssl backlog=4096;
	        ssl_certificate $work/cert.pem;
	        ssl_certificate_key $work/key.pem;
	        ssl_protocols TLSv1.3;
	        ssl_session_cache off;
	        ssl_session_tickets off;
	        return 200 "ok\n";
	    }
	}
	EOF
	start_on "$load_cpu" "$work/logs/nginx.log" nginx -p "$work" \
	    -e "$work/logs/nginx-error.log" -c "$work/conf/nginx.conf"
	wait_port "$p_tls" 10 || die "nginx did not start (see $work/logs)"
	;;
s_server)
	start_on "$load_cpu" "$work/logs/s_server.log" openssl s_server \
	    -quiet -accept "127.0.0.1:$p_tls" -cert "$work/cert.pem" \
	    -key "$work/key.pem" -tls1_3 -no_ticket -www
	wait_port "$p_tls" 10 || die "openssl s_server did not start"
	;;
esac

# ------------------------------------------------------------ proxies
# Each listens on 8xxx and forwards everything to 127.0.0.1:9xxx.
listen_ports="$p_reply $p_stream $p_hold"
[ "$backend" != none ] && listen_ports="$listen_ports $p_tls"
proxy_port() {
	echo $(($1 - 1000))
}

write_configs() {
	local p
	{
		echo "listen 127.0.0.1:$p_dns"
		echo "upstream 127.0.0.1:9"
		echo "workers 1"
		echo "user root"
		for p in $listen_ports; do
			echo "sni-listen 127.0.0.1:$(proxy_port "$p") to 127.0.0.1:$p"
		done
		echo "sni-max-connections 20000"
		echo "sni-max-per-client 20000"
	} > "$work/conf/hushd.conf"
	{
		echo "user root"
		echo "pidfile $work/sniproxy.pid"
		echo "error_log {"
		echo "    filename $work/logs/sniproxy-error.log"
		echo "    priority notice"
		echo "}"
		for p in $listen_ports; do
			echo "listener 127.0.0.1:$(proxy_port "$p") {"
			echo "    protocol tls"
			echo "    table to$p"
			echo "}"
			echo "table to$p {"
			echo "    .* 127.0.0.1:$p"
			echo "}"
		done
	} > "$work/conf/sniproxy.conf"
	{
		echo "global"
		echo "    maxconn 5000"
		echo "    nbthread 1"
		echo "defaults"
		echo "    mode tcp"
		echo "    timeout connect 10s"
		echo "    timeout client 10m"
		echo "    timeout server 10m"
		echo "    option splice-auto"
		for p in $listen_ports; do
			echo "frontend in$p"
			echo "    bind 127.0.0.1:$(proxy_port "$p")"
			echo "    tcp-request inspect-delay 5s"
			echo "    tcp-request content accept if { req.ssl_hello_type 1 }"
			echo "    use_backend to$p if { req.ssl_sni -m found }"
			echo "backend to$p"
			echo "    server origin 127.0.0.1:$p"
		done
	} > "$work/conf/haproxy.cfg"
}
write_configs

# Starts proxy $1 on the proxy CPU; sets $proxy_pid (0 for direct) and
# $port_off (what a client adds to a 9xxx port).
start_proxy() {
	proxy_pid=0
	port_off=0
	[ "$1" = direct ] && return 0
	port_off=-1000
	case "$1" in
	hushd)
		start_on "$proxy_cpu" "$work/logs/hushd-r$round.log" "$hushd" -f \
		    -c "$work/conf/hushd.conf" ;;
	sniproxy)
		start_on "$proxy_cpu" "$work/logs/sniproxy-r$round.log" sniproxy -f \
		    -c "$work/conf/sniproxy.conf" ;;
	haproxy)
		start_on "$proxy_cpu" "$work/logs/haproxy-r$round.log" haproxy -db \
		    -f "$work/conf/haproxy.cfg" ;;
	esac
	proxy_pid=$started
	for p in $listen_ports; do
		wait_port "$(proxy_port "$p")" 10 || {
			note "$1 did not start listening on $(proxy_port "$p") (see logs/$1-r$round.log)"
			return 1
		}
	done
	# Let the readiness probes' connections end before measuring.
	sleep 0.5
}

stop_proxy() {
	[ "$proxy_pid" -eq 0 ] && return 0
	stop_pid "$proxy_pid"
	forget_pid "$proxy_pid"
}

# After a measurement of path $1: is the proxy still there?
check_alive() {
	[ "$proxy_pid" -eq 0 ] && return 0
	running "$proxy_pid" && return 0
	note "$1 died during round $2 (see logs/$1-r$2.log)"
	return 1
}

# Runs client "$@" against path $path in round $round; measures the
# proxy's CPU; sets $line (the client's summary) and $ticks.
measured() {
	local c0 c1
	[ "$proxy_pid" -ne 0 ] && c0=$(cpu_ticks "$proxy_pid")
	line=$(taskset -c "$load_cpu" "$@" 2>&1 | tail -n 1)
	ticks=0
	[ "$proxy_pid" -ne 0 ] && c1=$(cpu_ticks "$proxy_pid") &&
	    ticks=$((c1 - c0))
}

# Failures: one line each in $work/failures.
failed() {
	echo "$path round $round: $*" >> "$work/failures"
	say "FAILED: $path round $round: $*" >&2
}

measure_tls() {
	measured "$bin/tlsconnect" -a "127.0.0.1:$((p_tls + port_off))" \
	    -s "$server_name" -n "$tls_n" -c "$conc" -t 120
	say "$path tls: $line"
	[ "$(kv ok "$line")" = "$tls_n" ] || failed "TLS handshakes: $line"
	record "$path" "$round" tls_rate "$(kv rate "$line")"
	[ "$proxy_pid" -ne 0 ] && record "$path" "$round" tls_cpu_us \
	    "$(awk -v t="$ticks" -v hz="$hz" -v n="$tls_n" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
}

measure_replay() {
	measured "$bin/tlsreplay" replay -a "127.0.0.1:$((p_reply + port_off))" \
	    -f "$hello" -n "$replay_n" -c "$conc" -e 100 -t 120
	say "$path replay: $line"
	[ "$(kv ok "$line")" = "$replay_n" ] || failed "replay: $line"
	record "$path" "$round" replay_rate "$(kv rate "$line")"
	[ "$proxy_pid" -ne 0 ] && record "$path" "$round" replay_cpu_us \
	    "$(awk -v t="$ticks" -v hz="$hz" -v n="$replay_n" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
}

# $1 streams of $bulk_bytes each at once.
measure_bulk() {
	measured "$bin/tlsreplay" bulk -a "127.0.0.1:$((p_stream + port_off))" \
	    -f "$hello" -c "$1" -e "$bulk_bytes" -t 300
	say "$path bulk x$1: $line"
	[ "$(kv ok "$line")" = "$1" ] || failed "bulk x$1: $line"
	record "$path" "$round" "bulk$1_mbps" "$(kv mbps "$line")"
	[ "$proxy_pid" -ne 0 ] && record "$path" "$round" "bulk$1_cpu_s_gib" \
	    "$(awk -v t="$ticks" -v hz="$hz" -v b="$(kv bytes "$line")" 'BEGIN { if (b > 0) printf "%.3f", t / hz / (b / 1073741824) }')"
}

# Resident memory idle (just started) and with $hold_n idle connections.
measure_idle() {
	local rss0 rss1 hp i held
	rss0=$(status_kib "$proxy_pid" VmRSS)
	record "$path" "$round" rss_idle_kib "$rss0"
	start_on "$load_cpu" "$work/logs/hold.log" "$bin/tlsreplay" hold \
	    -a "127.0.0.1:$((p_hold + port_off))" -f "$hello" -n "$hold_n" -t 120
	hp=$started
	i=0
	while ! grep -q '^held' "$work/logs/hold.log" && running "$hp" &&
	    [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	# Every connection has reached the origin through the proxy.
	i=0
	while [ "$(established_to "$p_hold")" -lt "$hold_n" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	held=$(established_to "$p_hold")
	sleep 1
	rss1=$(status_kib "$proxy_pid" VmRSS)
	stop_pid "$hp"
	forget_pid "$hp"
	say "$path idle: $(tail -n 1 "$work/logs/hold.log"); $held at the origin; VmRSS $rss0 -> $rss1 KiB"
	if [ "$held" -lt "$hold_n" ]; then
		failed "only $held of $hold_n idle connections reached the origin"
	else
		record "$path" "$round" rss_hold_kib "$rss1"
		record "$path" "$round" kib_per_conn \
		    "$(awk -v a="$rss0" -v b="$rss1" -v n="$hold_n" 'BEGIN { printf "%.2f", (b - a) / n }')"
	fi
	i=0
	while [ "$(established_to "$p_hold")" -gt 0 ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# ------------------------------------------------------------ the runs
paths="direct hushd $peers"
say "paths:$(printf ' %s' $paths); $rounds round(s); the proxy on CPU $proxy_cpu, the rest on CPU $load_cpu"
: > "$work/failures"
round=1
while [ "$round" -le "$rounds" ]; do
	# Rotate the order so that no path is always first or last.
	order=$(printf '%s\n' $paths | awk -v r="$round" '{ p[NR - 1] = $0 }
	    END { for (i = 0; i < NR; i++) print p[(i + r - 1) % NR] }')
	for path in $order; do
		start_proxy "$path" || { failed "did not start"; stop_proxy; continue; }
		if [ "$proxy_pid" -ne 0 ] && [ "$round" -eq 1 ] && [ "$hold_n" -gt 0 ]; then
			measure_idle
		fi
		[ "$tls_n" -gt 0 ] && measure_tls
		measure_replay
		if [ "$bulk_bytes" -gt 0 ]; then
			measure_bulk 1
			measure_bulk 4
		fi
		if check_alive "$path" "$round"; then
			[ "$proxy_pid" -ne 0 ] && record "$path" "$round" rss_peak_kib \
			    "$(status_kib "$proxy_pid" VmHWM)"
		else
			failed "the proxy died"
		fi
		stop_proxy
	done
	round=$((round + 1))
done
stop_pid "$origin_pid"
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
# What hushd said beyond its start and stop.
cat "$work"/logs/hushd-r*.log 2>/dev/null |
    grep -v -e ': info: ' -e '^$' | sort | uniq -c | sort -rn | head -n 5 |
    while read -r count text; do
	note "hushd logged $count time(s): $text"
    done
awk -v b="${load_before%% *}" 'BEGIN { exit !(b + 0 >= 0.5) }' &&
    note "the machine was not idle at the start (load average $load_before): other work shares the CPUs, so the figures are noisier than on an idle machine"

# ------------------------------------------------------------ the report
# Median over the rounds of path $1's metric $2 ("" when none).
median() {
	awk -F '\t' -v p="$1" -v m="$2" '$1 == p && $3 == m && $4 != "" { v[n++] = $4 }
	    END {
		if (n == 0) exit
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
			if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
		print (n % 2) ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
	    }' "$results"
}

# Spread of the rounds: min-max.
spread() {
	awk -F '\t' -v p="$1" -v m="$2" '$1 == p && $3 == m && $4 != "" {
		if (n++ == 0 || $4 + 0 < lo) lo = $4 + 0
		if (n == 1 || $4 + 0 > hi) hi = $4 + 0 }
	    END { if (n > 1) printf "%s–%s", lo, hi; else if (n == 1) print lo }' "$results"
}

# A number for the table: $1 rounded to $2 decimals, "–" when empty;
# thousands as "12.5k" when $3 is k.
cell() {
	[ -z "$1" ] && { echo "–"; return; }
	awk -v v="$1" -v d="$2" -v k="${3:-}" 'BEGIN {
		if (k == "k" && v >= 10000) printf "%.1fk", v / 1000
		else printf "%.*f", d, v }'
}

label() {
	case "$1" in
	direct) echo "direct" ;;
	hushd) echo "hushd $("$hushd" -V 2>/dev/null | head -n 1 | sed 's/^hushd //; s/[ ,].*//')" ;;
	sniproxy) echo "sniproxy $(sniproxy -V 2>/dev/null | head -n 1 | awk '{ print $2 }')" ;;
	haproxy) echo "haproxy $(haproxy -v 2>/dev/null | head -n 1 | awk '{ print $3 }') (splice)" ;;
	esac
}

table() {
	local p
	echo "| path | TLS conn/s c=$conc | proxy CPU µs/conn (TLS) | replay conn/s c=$conc | proxy CPU µs/conn (replay) | 1 GiB MB/s | proxy CPU s/GiB (1) | 4×1 GiB MB/s | proxy CPU s/GiB (4) | VmRSS idle KiB | VmRSS $hold_n idle conns KiB | KiB per idle conn | VmRSS peak KiB |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for p in $paths; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		    "$(label "$p")" \
		    "$(cell "$(median "$p" tls_rate)" 0)" \
		    "$(cell "$(median "$p" tls_cpu_us)" 0)" \
		    "$(cell "$(median "$p" replay_rate)" 0 k)" \
		    "$(cell "$(median "$p" replay_cpu_us)" 1)" \
		    "$(cell "$(median "$p" bulk1_mbps)" 0)" \
		    "$(cell "$(median "$p" bulk1_cpu_s_gib)" 2)" \
		    "$(cell "$(median "$p" bulk4_mbps)" 0)" \
		    "$(cell "$(median "$p" bulk4_cpu_s_gib)" 2)" \
		    "$(cell "$(median "$p" rss_idle_kib)" 0)" \
		    "$(cell "$(median "$p" rss_hold_kib)" 0)" \
		    "$(cell "$(median "$p" kib_per_conn)" 1)" \
		    "$(cell "$(median "$p" rss_peak_kib)" 0)"
	done
}

# The best peer for metric $1: "low" or "high" is better ($2); prints
# "value peer" or nothing.
best_peer() {
	local p v best="" who=""
	for p in $peers; do
		v=$(median "$p" "$1")
		[ -z "$v" ] && continue
		if [ -z "$best" ] || awk -v a="$v" -v b="$best" -v d="$2" \
		    'BEGIN { exit !((d == "low" && a < b) || (d == "high" && a > b)) }'; then
			best=$v
			who=$p
		fi
	done
	[ -n "$best" ] && echo "$best $who"
}

# One target line: $1 text, $2 hushd's value, $3 reference value, $4 who,
# $5 "le" or "ge", $6 factor (the bar is factor × reference).
target() {
	local text=$1 mine=$2 ref=$3 who=$4 op=$5 factor=$6
	if [ -z "$mine" ] || [ -z "$ref" ]; then
		echo "| $text | ${mine:-–} | ${ref:-–} ${who:+($who)} | – | not measured |"
		return
	fi
	awk -v m="$mine" -v r="$ref" -v w="$who" -v op="$op" -v f="$factor" -v t="$text" 'BEGIN {
		ratio = (r > 0) ? m / r : 0
		bar = f * r
		met = (op == "le") ? (m <= bar) : (m >= bar)
		printf "| %s | %g | %g (%s) | %.2f× (bar %s %g×) | %s |\n", t, m, r, w, ratio,
		    (op == "le") ? "≤" : "≥", f, met ? "met" : "not met"
	}'
}

targets() {
	local b v w
	echo "| target | hushd | reference | ratio | result |"
	echo "| --- | ---: | ---: | ---: | --- |"
	b=$(best_peer replay_cpu_us low)
	target "proxy CPU per connection, replay ≤ 0.5× the better peer's (µs)" \
	    "$(median hushd replay_cpu_us)" "${b% *}" "${b#* }" le 0.5
	b=$(best_peer tls_rate high)
	target "TLS connections/s ≥ 1.0× the better peer's" \
	    "$(median hushd tls_rate)" "${b% *}" "${b#* }" ge 1.0
	b=$(best_peer replay_rate high)
	target "replay connections/s ≥ 1.0× the better peer's" \
	    "$(median hushd replay_rate)" "${b% *}" "${b#* }" ge 1.0
	for s in 1 4; do
		target "bulk $s×1 GiB throughput ≥ 95% of direct (MB/s)" \
		    "$(median hushd "bulk${s}_mbps")" "$(median direct "bulk${s}_mbps")" \
		    direct ge 0.95
		b=$(best_peer "bulk${s}_cpu_s_gib" low)
		target "bulk $s×1 GiB proxy CPU per GiB ≤ the better peer's (s)" \
		    "$(median hushd "bulk${s}_cpu_s_gib")" "${b% *}" "${b#* }" le 1.0
	done
	b=$(best_peer kib_per_conn low)
	target "memory per idle connection ≤ the better peer's (KiB)" \
	    "$(median hushd kib_per_conn)" "${b% *}" "${b#* }" le 1.0
}

rounds_table() {
	local p m
	echo "| path | metric | median | rounds (min–max) |"
	echo "| --- | --- | ---: | --- |"
	for p in $paths; do
		for m in tls_rate tls_cpu_us replay_rate replay_cpu_us bulk1_mbps \
		    bulk1_cpu_s_gib bulk4_mbps bulk4_cpu_s_gib; do
			v=$(median "$p" "$m")
			[ -n "$v" ] && echo "| $p | $m | $v | $(spread "$p" "$m") |"
		done
	done
}

versions() {
	echo "- hushd: $("$hushd" -V 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
	for p in $peers; do
		case "$p" in
		sniproxy) echo "- sniproxy: $(sniproxy -V 2>&1 | head -n 1) (Debian $(dpkg-query -W -f='${Version}' sniproxy))" ;;
		haproxy) echo "- haproxy: $(haproxy -v 2>&1 | head -n 1) (Debian $(dpkg-query -W -f='${Version}' haproxy))" ;;
		esac
	done
	case "$backend" in
	nginx) echo "- TLS backend: $(nginx -v 2>&1) (nginx-light $(dpkg-query -W -f='${Version}' nginx-light)), 1 worker, RSA-2048 self-signed certificate, TLS 1.3 only, no session cache or tickets" ;;
	s_server) echo "- TLS backend: openssl s_server, RSA-2048 self-signed certificate" ;;
	esac
	echo "- $(openssl version)"
	echo "- Linux $(uname -r), $(nproc) CPUs: $(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "- load average before: $load_before; after: $load_after"
}

report() {
	echo "# hushd's TLS (SNI) proxy against sniproxy and haproxy"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $rounds round(s); commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')."
	echo
	echo "Command: \`$invocation\` (or \`make bench-sni\`), as root, $(($(date +%s) - t0)) s."
	echo
	echo "## Results (median of the rounds)"
	echo
	table
	echo
	echo "## hushd against the targets (same run)"
	echo
	targets
	echo
	echo "## Method"
	echo
	echo "- All in a private network namespace (unshare -n -p) with only loopback up; every address is 127.0.0.1. The proxy is pinned to CPU $proxy_cpu (taskset); the clients, the origin and the TLS backend to CPU $load_cpu. \"direct\" is the client talking to the backend or origin itself."
	echo "- Every proxy forwards each connection to one fixed destination after reading the ClientHello: hushd \`sni-listen 127.0.0.1:8xxx to 127.0.0.1:9xxx\` with \`workers 1\`, \`sni-max-connections 20000\`, \`sni-max-per-client 20000\`, no event log; sniproxy a tls listener with a table mapping \`.*\` to the destination; haproxy \`mode tcp\`, \`tcp-request inspect-delay 5s\`, \`tcp-request content accept if { req.ssl_hello_type 1 }\`, \`use_backend\` on \`req.ssl_sni\`, \`option splice-auto\`, \`maxconn 5000\`, \`nbthread 1\`. No logging of connections in any of them."
	echo "- TLS: bench/tlsconnect makes $tls_n full TLS 1.3 handshakes, $conc at a time (SNI $server_name, no resumption, certificate not checked), each followed by close_notify and the server's close."
	echo "- Replay: bench/tlsreplay opens $replay_n connections, $conc at a time; each sends a ClientHello recorded at setup from \`openssl s_client -servername $server_name\` ($hello_bytes bytes) and reads the origin's 100-byte reply until the origin closes (bench/origin: epoll, nonblocking; it reads the whole hello record, writes 100 bytes, closes). A connection that does not get exactly 100 bytes counts as failed."
	echo "- Bulk: the origin writes $bulk_bytes zero bytes after the hello and closes; the client reads and discards, one stream alone then four at once, and checks each stream's byte count. MB/s is 10^6 bytes per second of wall time over all streams."
	echo "- CPU: utime + stime of the proxy from /proc/PID/stat (the process line, which sums all its threads; plus any child process, i.e. sniproxy's binder) before and after each measurement, in ticks of 1/$hz s; per connection = the difference / connections, per GiB = the difference / GiB moved."
	echo "- Memory: VmRSS of the proxy process just after start (idle), then with $hold_n connections that sent the ClientHello and hold (all $hold_n established at the origin, 1 s settled); KiB per idle connection = the difference / $hold_n. Peak is VmHWM at the end of a round (its highest over the rounds). Measured in round 1."
	echo "- Rounds: each round starts each proxy afresh, in a rotated order; the table gives the median over the rounds."
	echo "- Targets compare hushd with the better of the peers measured in this same run; a ratio is hushd's value / the reference's."
	echo
	echo "## Versions and machine"
	echo
	versions
	if [ -s "$work/notes" ] || [ -s "$work/failures" ]; then
		echo
		echo "## Notes"
		echo
		cat "$work/notes"
		sed 's/^/- failed: /' "$work/failures"
	fi
	echo
	echo "## Every round"
	echo
	rounds_table
}

report > "$work/report.md"
if [ -n "$out" ]; then
	cp "$work/report.md" "$out" || die "cannot write $out"
	say "wrote $out"
	# The default report also refreshes its section of bench/RESULTS.md.
	if [ "$out" = "$top/bench/SNI-RESULTS.md" ] &&
	    [ -f "$top/bench/RESULTS.md" ]; then
		. "$top/bench/sni-section.sh"
		sni_section_update "$top/bench/RESULTS.md" "$out" &&
		    say "updated its section of $top/bench/RESULTS.md"
	fi
fi
echo
table
echo
[ "$mode" = full ] && { targets; echo; }

# Smoke (and full): fail when hushd lost a connection or a byte, or died.
if grep -q '^hushd ' "$work/failures"; then
	say "hushd failed:" >&2
	grep '^hushd ' "$work/failures" >&2
	exit 1
fi
[ -n "$(median hushd replay_rate)" ] || die "hushd was not measured"
say "done"
exit 0
