#!/bin/sh
# audit.sh: "hushd audit" against tshark on a synthetic household capture.
#
#   sh bench/audit.sh [--hushd PATH] [--size SIZE] [--out FILE] [--runs N]
#   sh bench/audit.sh --smoke [--hushd PATH]
#   (--keep leaves the work directory, capture included, in /tmp;
#   --quic-hex FILE names another QUIC client Initial in hex)
#
# bench/mkcapture.c writes a pcap of SIZE (default 1G: GiB) that looks like
# a household's traffic: DNS over UDP/53, HTTPS connections with their TLS
# ClientHellos, QUIC Initials (RFC 9001 A.2's, from
# tests/fixtures/quic/rfc9001-a2-client-initial.hex) and bulk data. On that
# file, each pinned with taskset to one CPU, the median of --runs (3) runs:
#   - hushd audit --json -c CONF FILE  (CONF blocks a few of its names)
#   - tshark -r FILE -Y tls.handshake.extensions_server_name -T fields
#     -e tls.handshake.extensions_server_name
# wall time (date +%s%N), CPU time and peak RSS (/usr/bin/time), packets per second and
# the ratio. tshark keeps every packet's state and is slow on large files:
# it is always measured on the first 100 MiB as well (mkcapture -s 100M
# with the same seed: the same packets), and on the whole file only when
# its first run on the slice promises 3 runs within 4 minutes; hushd is
# measured on both. One more run of hushd without --json counts its TLS
# and QUIC events, to set beside tshark's SNIs and what mkcapture wrote.
# The full run writes bench/AUDIT-RESULTS.md (or --out); about 5 minutes
# for 1 GiB on the machine of the committed results.
#
# --smoke checks in about 10 seconds that the benchmark works: a 5 MiB
# capture, one run each, tshark only if it is installed; it prints the
# results and exits non-zero if hushd failed, read another number of
# packets than were written, or found another number of ClientHellos.
#
# Needs /usr/bin/time, taskset and a C compiler; installs them and tshark
# with apt-get when it can (as root). The capture is made in a temporary
# directory (TMPDIR or /tmp), checked for room first, and deleted at the
# end.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
invocation="sh bench/audit.sh $*"
t0=$(date +%s)
mode=full
hushd=""
out=""
size=""
runs=""
keep=0
quic_hex=$top/tests/fixtures/quic/rfc9001-a2-client-initial.hex
seed=20261125
slice=100M
budget=240	# seconds for tshark's runs on the whole file

say() {
	echo "audit-bench [$(($(date +%s) - t0))s]: $*"
}

die() {
	echo "audit-bench: $*" >&2
	exit 1
}

usage() {
	sed -n '4,7p' "$top/bench/audit.sh" | sed 's/^# *//' >&2
	exit "$1"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) mode=smoke ;;
	--keep) keep=1 ;;
	--hushd) [ $# -ge 2 ] || usage 2; hushd=$2; shift ;;
	--out) [ $# -ge 2 ] || usage 2; out=$2; shift ;;
	--size) [ $# -ge 2 ] || usage 2; size=$2; shift ;;
	--runs) [ $# -ge 2 ] || usage 2; runs=$2; shift ;;
	--quic-hex) [ $# -ge 2 ] || usage 2; quic_hex=$2; shift ;;
	-h | --help) usage 0 ;;
	*) usage 2 ;;
	esac
	shift
done

if [ "$mode" = smoke ]; then
	: "${size:=5M}" "${runs:=1}"
else
	: "${size:=1G}" "${runs:=3}"
	[ -n "$out" ] || out="$top/bench/AUDIT-RESULTS.md"
fi
case "$runs" in "" | *[!0-9]*) die "--runs takes a whole number" ;; esac
[ "$runs" -ge 1 ] || die "--runs must be at least 1"
# SIZE in bytes, as mkcapture reads it (K, M, G of 1024).
bytes_of() {
	case "$1" in
	*[kK]) echo $((${1%?} * 1024)) ;;
	*[mM]) echo $((${1%?} * 1048576)) ;;
	*[gG]) echo $((${1%?} * 1073741824)) ;;
	*) echo "$1" ;;
	esac
}
case "$size" in
[0-9]*[0-9kKmMgG] | [0-9]) ;;
*) die "--size takes a size such as 500M or 1G" ;;
esac
size_bytes=$(bytes_of "$size") || die "--size: $size"
[ "$size_bytes" -ge 65536 ] || die "--size must be 64K or more"
slice_bytes=$(bytes_of "$slice")
[ "$size_bytes" -gt "$slice_bytes" ] || slice=""
[ -n "$hushd" ] || hushd="$top/src/hushd"
case "$hushd" in /*) ;; *) hushd="$(pwd)/$hushd" ;; esac
case "$out" in "" | /*) ;; *) out="$(pwd)/$out" ;; esac
case "$quic_hex" in /*) ;; *) quic_hex="$(pwd)/$quic_hex" ;; esac
[ -x "$hushd" ] || die "$hushd: not built (make src/hushd, or --hushd PATH)"
"$hushd" audit 2>&1 | grep -q 'usage: hushd audit' ||
    die "$hushd has no audit command"

# ------------------------------------------------------------ packages
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# Installs the missing packages among $@; false when apt-get cannot.
install_pkgs() {
	missing=""
	for pkg in "$@"; do
		installed "$pkg" || missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
	say "installing$missing"
	env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $missing >/dev/null 2>&1 ||
	    { apt-get update -q >/dev/null 2>&1 &&
	      env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	      --no-install-recommends $missing >/dev/null 2>&1; }
}

for tool in cc taskset /usr/bin/time; do
	command -v "$tool" >/dev/null 2>&1 && continue
	install_pkgs gcc libc6-dev util-linux time ||
	    die "needs a C compiler, taskset and /usr/bin/time (gcc, util-linux, time)"
	break
done
have_tshark=0
if command -v tshark >/dev/null 2>&1; then
	have_tshark=1
elif [ "$mode" = full ]; then
	# Not setuid dumpcap: tshark only reads files here.
	echo 'wireshark-common wireshark-common/install-setuid boolean false' |
	    debconf-set-selections 2>/dev/null
	install_pkgs tshark && command -v tshark >/dev/null 2>&1 ||
	    die "cannot install tshark (apt-get install tshark)"
	have_tshark=1
fi

# ------------------------------------------------------------ work directory
work=$(mktemp -d "${TMPDIR:-/tmp}/hushd-auditbench.XXXXXX") || die "mktemp failed"
finish() {
	if [ "$keep" -eq 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
: > "$work/notes"
: > "$work/runs.tsv"

# Room for the capture, its slice and the outputs (events, about a tenth).
need_kib=$(((size_bytes + size_bytes / 8) / 1024 + 65536))
[ -n "$slice" ] && need_kib=$((need_kib + slice_bytes / 1024))
free_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
[ "${free_kib:-0}" -ge "$need_kib" ] ||
    die "$(dirname "$work") has $((${free_kib:-0} / 1024)) MiB free; a $size capture needs $((need_kib / 1024)) MiB (TMPDIR=DIR to use another place, or a smaller --size)"

cpu=0
[ "$(nproc)" -ge 2 ] && cpu=1
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)

note() {
	echo "- $*" >> "$work/notes"
	say "$*" >&2
}

# ------------------------------------------------------------ inputs
cc=${CC:-cc}
$cc -O2 -std=c11 -Wall -o "$work/mkcapture" "$top/bench/mkcapture.c" \
    2> "$work/cc.log" || { cat "$work/cc.log" >&2; die "cannot build bench/mkcapture.c"; }
set -- -S "$seed" -b "$work/blocklist.txt"
if [ -r "$quic_hex" ]; then
	set -- "$@" -q "$quic_hex"
else
	note "no QUIC Initial: $quic_hex cannot be read; the QUIC share is short-header packets only"
fi
capture=$work/capture.pcap
say "writing a $size capture (bench/mkcapture.c, seed $seed)"
g0=$(date +%s%N)
"$work/mkcapture" "$@" -s "$size" -o "$capture" 2> "$work/mkcapture.out" ||
    { cat "$work/mkcapture.out" >&2; die "mkcapture failed"; }
gen_s=$(awk -v a="$g0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
summary=$(grep '^mkcapture:' "$work/mkcapture.out")
say "$summary (${gen_s} s)"
if [ -n "$slice" ]; then
	"$work/mkcapture" "$@" -s "$slice" -o "$work/slice.pcap" 2> "$work/slice.out" ||
	    die "mkcapture failed on the slice"
	slice_summary=$(grep '^mkcapture:' "$work/slice.out")
	# The slice must be the capture's first bytes, whole packets.
	slice_len=$(stat -c %s "$work/slice.pcap")
	cmp -s -n "$slice_len" "$work/slice.pcap" "$capture" ||
	    die "the $slice slice is not the beginning of the capture"
fi
printf 'listen 127.0.0.1:5300\nupstream 127.0.0.1\nlist bench %s\n' \
    "$work/blocklist.txt" > "$work/audit.conf"

# Value of key $1 in mkcapture's summary line $2.
kv() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# ------------------------------------------------------------ measuring
# Runs "$@" on CPU $cpu under /usr/bin/time, output to $work/$3.out; appends
# "tool file run wall_s cpu_s rss_kib status" to runs.tsv. $1 tool, $2 the
# capture's name (full or slice), $4 the run's number; the command follows.
measure() {
	local tool=$1 which=$2 name=$3 run=$4 status a b
	shift 4
	a=$(date +%s%N)
	taskset -c "$cpu" /usr/bin/time -f '%e %U %S %M' -o "$work/time.out" \
	    "$@" > "$work/$name.out" 2> "$work/$name.err"
	status=$?
	b=$(date +%s%N)
	awk -v t="$tool" -v w="$which" -v r="$run" -v s="$status" \
	    -v ns=$((b - a)) '
		NF == 4 && $1 ~ /^[0-9.]+$/ {
			printf "%s\t%s\t%s\t%.3f\t%.2f\t%d\t%d\n", t, w, r, ns / 1e9, $2 + $3, $4, s
		}' "$work/time.out" | tail -n 1 >> "$work/runs.tsv"
	say "$(tail -n 1 "$work/runs.tsv" | awk -F '\t' '{ printf "  %s on %s #%s: %.3f s wall, %.2f s CPU, %d MiB peak RSS, exit %d", $1, $2, $3, $4, $5, $6 / 1024, $7 }')"
	[ "$status" -eq 0 ] || { tail -n 5 "$work/$name.err" >&2; return 1; }
}

hushd_cmd() {
	echo "$hushd" audit --json -c "$work/audit.conf" "$1"
}

tshark_cmd() {
	echo tshark -r "$1" -Y tls.handshake.extensions_server_name -T fields \
	    -e tls.handshake.extensions_server_name
}

# The page cache holds the files for every run alike.
cat "$capture" ${slice:+"$work/slice.pcap"} > /dev/null

hushd_failed=0
files="full"
[ -n "$slice" ] && files="full slice"
for which in $files; do
	f=$capture
	[ "$which" = slice ] && f=$work/slice.pcap
	i=1
	while [ $i -le "$runs" ]; do
		measure hushd "$which" "hushd-$which-$i" "$i" $(hushd_cmd "$f") ||
		    hushd_failed=1
		i=$((i + 1))
	done
done

tshark_files=""
if [ "$have_tshark" -eq 1 ]; then
	tshark_version=$(tshark --version 2>/dev/null | head -n 1)
	if [ -n "$slice" ]; then
		i=1
		while [ $i -le "$runs" ]; do
			measure tshark slice "tshark-slice-$i" "$i" $(tshark_cmd "$work/slice.pcap") ||
			    note "tshark failed on the slice (run $i)"
			i=$((i + 1))
		done
		tshark_files=slice
		# Whole file only if its runs fit the budget (from the slice's pace).
		est=$(awk -F '\t' -v r="$runs" -v s="$size_bytes" -v l="$slice_len" '
			$1 == "tshark" && $2 == "slice" { t = $4 }
			END { if (t > 0) printf "%d", t * s / l * r }' "$work/runs.tsv")
		if [ -n "$est" ] && [ "$est" -le "$budget" ]; then
			i=1
			while [ $i -le "$runs" ]; do
				measure tshark full "tshark-full-$i" "$i" $(tshark_cmd "$capture") ||
				    note "tshark failed on the whole capture (run $i)"
				i=$((i + 1))
			done
			tshark_files="full slice"
		else
			note "tshark was measured on the first $slice of the capture only (the slice): its $runs runs on the whole $size would take about ${est:-?} s by its pace on the slice, more than the $budget s allowed"
		fi
	else
		i=1
		while [ $i -le "$runs" ]; do
			measure tshark full "tshark-full-$i" "$i" $(tshark_cmd "$capture") ||
			    note "tshark failed (run $i)"
			i=$((i + 1))
		done
		tshark_files=full
	fi
else
	note "tshark is not installed: not measured"
fi

# ------------------------------------------------------------ agreement
# hushd with its events: how many TLS and QUIC ClientHellos, which SNIs.
measure hushd-events full hushd-events 1 "$hushd" audit -c "$work/audit.conf" "$capture" ||
    hushd_failed=1
ev=$work/hushd-events.out
h_tls=$(grep -c '^{"ts":"[^"]*","event":"tls"' "$ev")
h_quic=$(grep -c '^{"ts":"[^"]*","event":"quic"' "$ev")
h_sni=$(grep -E '^\{"ts":"[^"]*","event":"(tls|quic)"' "$ev" |
    sed -n 's/.*"sni":"\([^"]*\)".*/\1/p' | sort -u | wc -l)
h_dns=$(grep -c '^{"ts":"[^"]*","event":"dns"' "$ev")
h_blocked=$(grep -c '"action":"block"' "$ev")
h_packets=$(sed -n 's/^\([0-9]*\) packets read.*/\1/p' "$ev" | head -n 1)
h_skipped=$(sed -n 's/^[0-9]* packets read; skipped: //p' "$ev" | head -n 1)
t_lines="" t_sni=""
if echo " $tshark_files " | grep -q ' full '; then
	t_out=$work/tshark-full-1.out
	t_lines=$(grep -c . "$t_out")
	t_sni=$(sort -u "$t_out" | grep -c .)
	t_file=full
elif [ -n "$tshark_files" ]; then
	t_out=$work/tshark-slice-1.out
	t_lines=$(grep -c . "$t_out")
	t_sni=$(sort -u "$t_out" | grep -c .)
	t_file=slice
fi
if [ "${t_file:-}" = slice ]; then
	# Set beside hushd's events on the slice, not on the whole file.
	"$hushd" audit -c "$work/audit.conf" "$work/slice.pcap" > "$work/hushd-events-slice.out" 2>/dev/null
	s_tls=$(grep -c '^{"ts":"[^"]*","event":"tls"' "$work/hushd-events-slice.out")
	s_sni=$(grep -E '^\{"ts":"[^"]*","event":"(tls|quic)"' "$work/hushd-events-slice.out" |
	    sed -n 's/.*"sni":"\([^"]*\)".*/\1/p' | sort -u | wc -l)
fi
m_packets=$(kv packets "$summary")
m_hellos=$(kv hellos "$summary")
m_initials=$(kv initials "$summary")
m_sni=$(kv sni_distinct "$summary")
[ "$m_initials" -gt 0 ] && [ "$h_quic" -eq 0 ] &&
    note "hushd judged none of the $m_initials QUIC Initials (no quic event): this build's QUIC reader did not read them"
[ -n "$h_skipped" ] &&
    note "hushd's report on the whole capture ends with \"skipped: $h_skipped\""
say "mkcapture wrote $m_packets packets, $m_hellos TLS ClientHellos ($m_sni distinct SNIs), $m_initials QUIC Initials (all example.com)"
say "hushd read ${h_packets:-?} packets: $h_tls TLS and $h_quic QUIC events, $h_sni distinct SNIs; $h_dns DNS events, $h_blocked blocked${h_skipped:+; skipped: $h_skipped}"
[ -n "$t_lines" ] &&
    say "tshark ($t_file): $t_lines SNI lines, $t_sni distinct SNIs${s_tls:+ (hushd on the slice: $s_tls TLS events, $s_sni distinct SNIs)}"

# ------------------------------------------------------------ report
# Medians of (tool, file): wall cpu rss runs failed
median_of() {
	awk -F '\t' -v t="$1" -v w="$2" '
		function median(list,   n, a, i, j, x) {
			n = split(list, a, " ")
			for (i = 2; i <= n; i++) {
				x = a[i] + 0
				for (j = i - 1; j >= 1 && a[j] + 0 > x; j--)
					a[j + 1] = a[j]
				a[j + 1] = x
			}
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		$1 == t && $2 == w && $7 == 0 { wall = wall " " $4; cpu = cpu " " $5; rss = rss " " $6; n++ }
		$1 == t && $2 == w && $7 != 0 { bad++ }
		END { if (n) printf "%.3f %.2f %d %d %d\n", median(wall), median(cpu), median(rss), n, bad + 0 }' \
	    "$work/runs.tsv"
}

packets_of() {
	if [ "$1" = slice ]; then kv packets "$slice_summary"; else echo "$m_packets"; fi
}

bytes_file() {
	if [ "$1" = slice ]; then echo "$slice_len"; else stat -c %s "$capture"; fi
}

# tool file → packets/s (median wall; with "cpu", per median CPU second), or "".
pps() {
	local m
	which_file=$2
	m=$(median_of "$1" "$2")
	[ -n "$m" ] || return 0
	set -- $m "${3:-wall}"
	awk -v w="$1" -v c="$2" -v by="$6" -v p="$(packets_of "$which_file")" 'BEGIN {
		t = by == "cpu" ? c : w
		if (t > 0) printf "%.0f", p / t
	}'
}

file_label() {
	if [ "$1" = slice ]; then
		echo "first $slice ($(kv packets "$slice_summary") packets)"
	else
		echo "all $size ($m_packets packets)"
	fi
}

table() {
	local t w m p
	echo "| tool | capture | runs | wall s | CPU s | peak RSS MiB | packets/s | packets per CPU s | MB/s |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for t in hushd tshark hushd-events; do
		for w in full slice; do
			m=$(median_of "$t" "$w")
			[ -n "$m" ] || continue
			set -- $m
			p=$(pps "$t" "$w")
			case "$t" in
			hushd) label="hushd audit --json" ;;
			hushd-events) label="hushd audit (events to a file)" ;;
			*) label="tshark -Y …server_name" ;;
			esac
			printf '| %s | %s | %d | %s | %s | %.1f | %s | %s | %.0f |\n' \
			    "$label" "$(file_label "$w")" "$4" "$1" "$2" \
			    "$(awk -v k="$3" 'BEGIN { print k / 1024 }')" "$p" \
			    "$(pps "$t" "$w" cpu)" \
			    "$(awk -v b="$(bytes_file "$w")" -v s="$1" 'BEGIN { print (s > 0 ? b / 1e6 / s : 0) }')"
		done
	done
}

ratios() {
	local w h t hc tc
	echo "| capture | hushd packets/s | tshark packets/s | ratio | per CPU s: hushd | tshark | ratio | target ≥ 10× (both ratios) |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	for w in full slice; do
		h=$(pps hushd "$w")
		t=$(pps tshark "$w")
		hc=$(pps hushd "$w" cpu)
		tc=$(pps tshark "$w" cpu)
		[ -n "$h" ] && [ -n "$t" ] || continue
		awk -v w="$(file_label "$w")" -v h="$h" -v t="$t" -v hc="$hc" -v tc="$tc" 'BEGIN {
			r = h / t
			printf "| %s | %d | %d | %.2f× | %d | %d | %.2f× | %s |\n", w, h, t, r,
			    hc, tc, hc / tc, (r >= 10 && hc >= 10 * tc ? "met" : "not met")
		}'
	done
}

agreement() {
	echo "| | TLS ClientHellos | QUIC Initials | distinct SNIs |"
	echo "| --- | ---: | ---: | ---: |"
	echo "| written (mkcapture, whole capture) | $m_hellos | $m_initials | $m_sni TLS + example.com (QUIC) |"
	echo "| hushd audit events (whole capture) | $h_tls | $h_quic | $h_sni |"
	if [ -n "$t_lines" ]; then
		if [ "$t_file" = slice ]; then
			echo "| written (mkcapture, first $slice) | $(kv hellos "$slice_summary") | $(kv initials "$slice_summary") | $(kv sni_distinct "$slice_summary") TLS + example.com (QUIC) |"
			echo "| hushd audit events (first $slice) | $s_tls | – | $s_sni |"
			echo "| tshark SNI lines (first $slice) | $t_lines (TLS and QUIC together) | | $t_sni |"
		else
			echo "| tshark SNI lines (whole capture) | $t_lines (TLS and QUIC together) | | $t_sni |"
		fi
	fi
}

versions() {
	echo "- hushd: $("$hushd" -V 2>&1 | tr '\n' ' ' | sed 's/ *$//') ($hushd)"
	[ -n "${tshark_version:-}" ] &&
	    echo "- $tshark_version (Debian $(dpkg-query -W -f='${Version}' tshark 2>/dev/null))"
	echo "- libpcap: $(dpkg-query -W -f='${Version}' libpcap0.8 2>/dev/null || echo ?) (Debian libpcap0.8)"
	echo "- mkcapture built with: $($cc --version 2>/dev/null | head -n 1)"
	echo "- Linux $(uname -r), $(nproc) CPUs: $(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory; $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
	echo "- load average before: $load_before; after: $(cut -d ' ' -f 1-3 /proc/loadavg)"
}

composition() {
	printf '%s\n' "$summary" | awk -v gen="$gen_s" '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		p = v["packets"]
		printf "%d packets, %d bytes, %d s of capture time, written in %s s: ", p, v["bytes"], v["seconds"], gen
		printf "bulk TLS data and ACKs %.1f%%, DNS %.1f%% (%d queries), TCP/443 handshakes and closes %.1f%% (%d connections, %d ClientHellos of which %d over two segments, %d distinct SNIs), QUIC %.1f%% (%d Initials).\n",
		    100 * v["bulk"] / p, 100 * v["dns"] / p, v["queries"], 100 * v["handshake"] / p,
		    v["connections"], v["hellos"], v["hellos_split"], v["sni_distinct"], 100 * v["quic"] / p, v["initials"]
	}'
}

report() {
	echo "# hushd audit against tshark on a household capture"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?'); $runs run(s) each, median."
	echo
	echo "Command: \`$invocation\` (or \`make bench-audit\`), $(($(date +%s) - t0)) s in all."
	echo
	echo "## Results"
	echo
	table
	echo
	ratios
	echo
	echo "## Do they find the same hellos?"
	echo
	agreement
	echo
	echo "hushd's events come from one more run without \`--json\` (its \"events to a file\" row above). tshark prints an SNI once for each ClientHello it dissects, over TCP and in QUIC Initials, after reassembling a hello that spans two segments. Every QUIC Initial here is the same RFC 9001 A.2 packet with the same Destination Connection ID, so tshark takes them all for one QUIC connection and dissects its hello once: that is its one SNI line and one SNI (example.com) beyond the TCP hellos."
	echo
	echo "## The capture"
	echo
	composition
	echo
	echo "## Method"
	echo
	echo "- Capture: \`mkcapture -S $seed -s $size -q tests/fixtures/quic/rfc9001-a2-client-initial.hex\` (bench/mkcapture.c): classic pcap, Ethernet, $(printf '%s' "$summary" | sed -n 's/.*packets=\([0-9]*\).*/\1/p') packets from 48 devices (MACs of makers and random private ones, IPv4, two in three with IPv6, one in eight on VLAN 20). The slice is \`-s $slice\` with the same seed: the capture's first packets, byte for byte."
	echo "- hushd: \`$(hushd_cmd FILE | sed "s|$work/||")\`, where audit.conf is \`listen 127.0.0.1:5300\`, \`upstream 127.0.0.1\`, \`list bench blocklist.txt\` and the list holds $(wc -l < "$work/blocklist.txt") of the capture's names (mkcapture -b)."
	echo "- tshark: \`$(tshark_cmd FILE)\`, output to a file."
	echo "- Each run pinned to CPU $cpu (\`taskset -c $cpu\`) under \`/usr/bin/time -f '%e %U %S %M'\`: user + system CPU time and peak RSS (maximum resident set) from it, wall time from the clock (\`date +%s%N\`) around the command. The files were read once before the runs, so every run reads them from the page cache. packets/s = the capture's packets / the median wall time; packets per CPU s = its packets / the median CPU time (less sensitive to other work on the same CPU); MB/s = its bytes / the median wall time."
	echo "- Nothing else was stopped: other work on the machine shows as noise."
	echo
	echo "## Versions and machine"
	echo
	versions
	if [ -s "$work/notes" ]; then
		echo
		echo "## Notes"
		echo
		cat "$work/notes"
	fi
	echo
	echo "## Every run"
	echo
	echo "| tool | capture | run | wall s | CPU s | peak RSS KiB | exit |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
	awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$work/runs.tsv"
}

report > "$work/report.md" || die "could not write the report"
if [ -n "$out" ]; then
	cp "$work/report.md" "$out" || die "cannot write $out"
	say "wrote $out"
fi
echo
table
echo
ratios
echo
agreement
echo

failed=0
[ "$hushd_failed" -eq 0 ] || { say "hushd audit failed" >&2; failed=1; }
[ "${h_packets:-}" = "$m_packets" ] ||
    { say "hushd read ${h_packets:-no} packets, mkcapture wrote $m_packets" >&2; failed=1; }
[ "$h_tls" = "$m_hellos" ] ||
    { say "hushd found $h_tls TLS ClientHellos, mkcapture wrote $m_hellos" >&2; failed=1; }
[ "$h_tls" -gt 0 ] || { say "hushd found no ClientHello" >&2; failed=1; }
[ "$failed" -eq 0 ] || exit 1
say "done"
