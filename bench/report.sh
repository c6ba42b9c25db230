# report.sh: writes RESULTS.md from what bench/run.sh measured; sourced by
# run.sh, whose variables it reads (work, mode, runs, seconds, sizes,
# peers, hushd, invocation, bench_start, load_before, proxy_cpu,
# load_cpu, reloads, settle, pause, seed, miss_names). Input files in $work:
#   runs.tsv     target size mix run qps completed sent lost avg_ms p99_ms
#                cpu_us wrapped   (one dnsperf run a line)
#   loads.tsv    target size cache load_ms rss_kib
#   reloads.tsv  target size reloads seconds qps completed lost interrupted
#   matchbench.out, quicbench.out, notes

# Medians over the runs of each (target, size, mix):
# target size mix qps cpu_us avg_ms p99_ms lost wrapped_runs runs
summarize_runs() {
	awk -F '\t' '
		function median(list,   n, a, i, j, t) {
			n = split(list, a, " ")
			if (n == 0 || a[1] == "-")
				return "-"
			for (i = 2; i <= n; i++) {
				t = a[i] + 0
				for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
					a[j + 1] = a[j]
				a[j + 1] = t
			}
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		{
			k = $1 "\t" $2 "\t" $3
			if (!(k in count))
				order[++keys] = k
			count[k]++
			qps[k] = qps[k] " " $5
			cpu[k] = cpu[k] " " $11
			avg[k] = avg[k] " " $9
			p99[k] = p99[k] " " $10
			lost[k] += $8
			wrapped[k] += $12
		}
		END {
			for (i = 1; i <= keys; i++) {
				k = order[i]
				printf "%s\t%.0f\t%s\t%.3f\t%.3f\t%d\t%d\t%d\n", k,
				    median(qps[k]), median(cpu[k]), median(avg[k]),
				    median(p99[k]), lost[k], wrapped[k], count[k]
			}
		}' "$work/runs.tsv"
}

# Field $4 of the summary line of (target $1, size $2, mix $3), or "".
summary_field() {
	awk -F '\t' -v t="$1" -v s="$2" -v m="$3" -v f="$4" \
	    '$1 == t && $2 == s && $3 == m { print $f; exit }' "$work/summary.tsv"
}

load_field() {
	awk -F '\t' -v t="$1" -v s="$2" -v f="$3" \
	    '$1 == t && $2 == s && $3 == "on" { print $f; exit }' "$work/loads.tsv"
}

package_version() {
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"
}

# One table row: target, size label, then the three mixes.
table_row() {
	local target=$1 size=$2 label=$3 load rss cells mix
	# The upstream is not measured alone in smoke mode.
	[ "$target" = upstream ] && ! grep -q "^upstream" "$work/summary.tsv" && return
	load=$(load_field "$target" "$size" 4)
	rss=$(load_field "$target" "$size" 5)
	cells=""
	for mix in hot miss nocache; do
		cells="$cells$(awk -F '\t' -v t="$target" -v s="$size" -v m="$mix" '
			$1 == t && $2 == s && $3 == m {
				found = 1
				printf "%s%s | %s | %.3f / %.3f | ", $4, ($9 > 0 ? "*" : ""),
				    ($5 == "-" ? "—" : $5), $6, $7
			}
			END { if (!found) printf "— | — | — | " }' "$work/summary.tsv")"
	done
	lost=$(awk -F '\t' -v t="$target" -v s="$size" '
		$1 == t && $2 == s { l[$3] = $8; found = 1 }
		END {
			if (!found) { printf "—"; exit }
			printf "%s / %s / %s", ("hot" in l) ? l["hot"] : "—",
			    ("miss" in l) ? l["miss"] : "—",
			    ("nocache" in l) ? l["nocache"] : "—"
		}' "$work/summary.tsv")
	printf '| %s | %s | %s | %s | %s%s |\n' "$target" "$label" \
	    "$( [ -n "$load" ] && awk -v ms="$load" 'BEGIN { printf "%.3f", ms / 1000 }' || echo —)" \
	    "$( [ -n "$rss" ] && awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }' || echo —)" \
	    "$cells" "$lost"
}

# A target line: description, measured, ratio, goal ("ge"/"le" limit).
target_line() {
	local what=$1 measured=$2 value=$3 reference=$4 cmp=$5 limit=$6
	if [ -z "$value" ] || [ -z "$reference" ] || [ "$value" = "-" ] ||
	    [ "$reference" = "-" ]; then
		printf '| %s | %s | — | not measured |\n' "$what" "${measured:-—}"
		return
	fi
	awk -v what="$what" -v measured="$measured" -v v="$value" \
	    -v r="$reference" -v cmp="$cmp" -v limit="$limit" 'BEGIN {
		if (r + 0 == 0) {
			ratio = (v + 0 == 0) ? 0 : 1e9
		} else
			ratio = v / r
		met = cmp == "ge" ? ratio >= limit : ratio <= limit
		printf "| %s | %s | %.2f× | %s |\n", what, measured, ratio,
		    met ? "met" : "**not met**"
	}'
}

# The best peer for mix $2 at size $1: "name value", highest QPS or
# (with $3 = cpu) lowest CPU time per query.
best_peer() {
	awk -F '\t' -v s="$1" -v m="$2" -v kind="${3:-}" '
		$2 == s && $3 == m && $1 != "hushd" && $1 != "upstream" &&
		    $1 != "responder" {
			v = kind == "cpu" ? $5 : $4
			if (v == "-") next
			if (best == "" || (kind == "cpu" ? v + 0 < best : v + 0 > best)) {
				best = v + 0; name = $1
			}
		}
		END { if (name != "") print name, best }' "$work/summary.tsv"
}

report_targets() {
	local size label peer hot_peer cpu_peer value ceiling load rss match lost
	size=$(echo "$sizes" | awk '{ print $NF }')
	label=$( [ "$size" = 1m ] && echo 1M || echo "$size")
	echo "## hushd against the targets"
	echo
	echo "From this run, $label list. \"Best peer\" is the best of the peers measured here"
	echo "($(echo $peers | sed 's/ /, /g')); a ratio is hushd's figure divided by the reference."
	echo
	echo "| target | measured | ratio | result |"
	echo "|---|---|---|---|"

	peer=$(best_peer "$size" nocache)
	value=$(summary_field hushd "$size" nocache 4)
	target_line "miss QPS, cache off, ≥ 1.25× best peer (${peer:-none})" \
	    "$value vs ${peer#* }" "$value" "${peer#* }" ge 1.25

	hot_peer=$(best_peer "$size" hot)
	value=$(summary_field hushd "$size" hot 4)
	target_line "hot QPS ≥ 1.0× best peer (${hot_peer:-none})" \
	    "$value vs ${hot_peer#* }" "$value" "${hot_peer#* }" ge 1.0
	ceiling=$(summary_field responder - hot 4)
	target_line "hot QPS ≥ 95% of the responder ceiling" \
	    "$value vs $ceiling" "$value" "$ceiling" ge 0.95

	cpu_peer=$(best_peer "$size" hot cpu)
	value=$(summary_field hushd "$size" hot 5)
	target_line "CPU per hot query ≤ 0.7× best peer's (${cpu_peer:-none})" \
	    "$value vs ${cpu_peer#* } µs" "$value" "${cpu_peer#* }" le 0.7

	load=$(load_field hushd "$size" 4)
	target_line "$label list load ≤ 0.5 s" \
	    "$( [ -n "$load" ] && awk -v ms="$load" 'BEGIN { printf "%.3f s", ms / 1000 }')" \
	    "$( [ -n "$load" ] && awk -v ms="$load" 'BEGIN { print ms / 1000 }')" 0.5 le 1.0
	rss=$(load_field hushd "$size" 5)
	target_line "RSS after loading the $label list ≤ 40 MiB" \
	    "$( [ -n "$rss" ] && awk -v k="$rss" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
	    "$( [ -n "$rss" ] && awk -v k="$rss" 'BEGIN { print k / 1024 }')" 40 le 1.0

	quic=$(awk '/^median:/ { print $2 }' "$work/quicbench.out" 2>/dev/null)
	target_line "QUIC Initials ≥ 100k judgements/s on one core" \
	    "$( [ -n "$quic" ] && awk -v q="$quic" 'BEGIN { printf "%.0fk judgements/s", q / 1e3 }')" \
	    "$quic" 100000 ge 1.0

	match=$(awk '/^median:/ { print $2 }' "$work/matchbench.out" 2>/dev/null)
	target_line "matching ≥ 5M lookups/s on one core" \
	    "$( [ -n "$match" ] && awk -v m="$match" 'BEGIN { printf "%.2fM lookups/s", m / 1e6 }')" \
	    "$match" 5000000 ge 1.0

	lost=$(awk -F '\t' '$1 == "hushd" { print $7; exit }' "$work/reloads.tsv")
	done_reloads=$(awk -F '\t' '$1 == "hushd" { print $3; exit }' "$work/reloads.tsv")
	if [ -z "$lost" ]; then
		echo "| 0 queries lost across $reloads reloads | — | — | not measured |"
	elif [ "$lost" -eq 0 ] && [ "$done_reloads" -eq "$reloads" ]; then
		echo "| 0 queries lost across $reloads reloads | 0 lost in $done_reloads reloads | — | met |"
	else
		echo "| 0 queries lost across $reloads reloads | $lost lost in $done_reloads reloads | — | **not met** |"
	fi
	echo
}

report() {
	local size label target elapsed
	summarize_runs > "$work/summary.tsv"
	elapsed=$(( $(date +%s) - bench_start ))

	echo "# hushd benchmark"
	echo
	if [ "$mode" = smoke ]; then
		echo "Smoke run: it shows the script works; its figures are not measurements."
		echo
	fi
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); the run took $((elapsed / 60)) min $((elapsed % 60)) s."
	echo "- Machine: $(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)."
	echo "- Command: \`$(echo "$invocation" | sed "s|$top/||g")\` (paths relative to the source tree;"
	echo "  \`make bench\` runs \`sh bench/run.sh --hushd src/hushd\`)."
	echo "- Versions: $("$hushd" -V 2>/dev/null | paste -sd ',' | sed 's/,/, /g');"
	printf '  Debian packages:'
	for target in $peers; do
		printf ' %s %s,' "$(peer_package "$target")" "$(package_version "$(peer_package "$target")")"
	done
	echo " nsd $(package_version nsd) (upstream), dnsperf $(package_version dnsperf)."
	echo "- Each figure is the median of $runs run(s) of $seconds s$([ "$mode" = full ] && echo " ($((runs * 2)) for the responder, half at the start and half at the end)"); lost queries are summed over the runs."
	echo "- Load average (1, 5, 15 min) before the run: $load_before; after: $(cut -d ' ' -f 1-3 /proc/loadavg)."
	echo

	echo "## Results"
	echo
	echo "QPS: answered queries per second (dnsperf). CPU: the proxy's own CPU time (user + system, all"
	echo "its threads) per answered query, in µs. Latency: dnsperf's average and the 99th percentile of"
	echo "its per-query latencies, in ms. Load: from starting the daemon until it answers the list's last"
	echo "name as blocked. RSS: right after that. A \`*\` marks a mix whose query file ran out and was"
	echo "reused (the names were no longer all distinct)."
	echo
	echo "| target | list | load s | RSS MiB | hot QPS | hot CPU µs/q | hot latency avg / p99 ms | miss QPS (cache on) | miss CPU µs/q | miss latency avg / p99 ms | miss QPS (cache off) | CPU µs/q | latency avg / p99 ms | lost hot / miss / off |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	table_row responder - "ceiling"
	table_row upstream - "direct"
	for target in hushd $peers; do
		for size in $sizes; do
			label=$( [ "$size" = 1m ] && echo 1M || echo "$size")
			table_row "$target" "$size" "$label"
		done
	done
	echo
	echo "The responder and upstream rows have no list. \"miss\" for the upstream is the miss mix sent"
	echo "to NSD directly, with dnsperf and NSD sharing one CPU as they do in every miss run."
	echo

	echo "## Reloads under load"
	echo
	echo "The target with the largest list and its cache on, under the reload mix (distinct names, as"
	echo "the miss mix), sent SIGHUP $reloads times: each $pause s after the previous reload was logged as"
	echo "done. dnsperf runs from $settle s before the first to $settle s after the last reload and is then"
	echo "stopped (SIGINT); queries in flight at that moment count as interrupted, not lost. \"seconds\""
	echo "is the time from the first SIGHUP to the end of the last reload."
	echo
	echo "| target | list | reloads done | seconds | QPS during | completed | lost | interrupted at stop |"
	echo "|---|---|---|---|---|---|---|---|"
	if [ -s "$work/reloads.tsv" ]; then
		awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
		    $1, $2 == "1m" ? "1M" : $2, $3, $4, $5, $6, $7, $8 }' "$work/reloads.tsv"
	fi
	for target in $peers; do
		case "$target" in
		dnsmasq) echo "| dnsmasq | — | — | — | — | — | — | n/a: SIGHUP does not re-read \`local=\` lines |" ;;
		dnsdist) echo "| dnsdist | — | — | — | — | — | — | n/a: no reload of its Lua configuration |" ;;
		unbound) [ "$mode" = smoke ] && echo "| unbound | — | — | — | — | — | — | not run in smoke mode |" ;;
		esac
	done
	echo

	echo "## Domainset matching"
	echo
	if [ -s "$work/matchbench.out" ]; then
		echo "bench/matchbench.c on one core (CPU $proxy_cpu): src/domainset.c, src/lists.c and src/log.c"
		echo "alone. It loads the list with list_load(), then times domainset_match() over a shuffled pool"
		echo "of 262,144 names: a quarter listed, a quarter subdomains of listed names, a half unlisted"
		echo "names of 2 to 5 labels."
		echo
		echo '```'
		cat "$work/matchbench.out"
		echo '```'
	else
		echo "Not run (see the notes)."
	fi
	echo

	echo "## QUIC Initials"
	echo
	if [ -s "$work/quicbench.out" ]; then
		echo "bench/quicbench.c on one core (CPU $proxy_cpu): src/quic.c, src/tlshello.c alone. The client"
		echo "Initial of RFC 9001 A.2, protected anew under 1,024 random DCIDs, each datagram a new"
		echo "connection: Initial keys derived, header protection and AES-128-GCM removed, ClientHello read."
		echo
		echo '```'
		cat "$work/quicbench.out"
		echo '```'
	else
		echo "Not run (see the notes)."
	fi
	echo

	report_targets

	sni_section "$top/bench/SNI-RESULTS.md"

	echo "## Method"
	echo
	echo "- Everything runs in a private network namespace (\`unshare -n\`, loopback only). The proxy"
	echo "  under test (and the responder) is pinned to CPU $proxy_cpu; dnsperf and the upstream to CPU $load_cpu"
	echo "  (\`taskset\`). Nothing else is stopped: other work on the machine shows up as noise."
	echo "- Load: \`dnsperf -s 127.0.0.1 -p PORT -d FILE -c 10 -l $seconds -v\` (100 queries outstanding, 5 s"
	echo "  timeout, no rate limit). The proxy's CPU time comes from utime + stime in /proc/PID/stat"
	echo "  before and after the run."
	echo "- Upstream: NSD, one server process (\`server-count: 1\`), \`rrl-ratelimit: 0\` (its default"
	echo "  rate limiting caps one client near 200 qps), serving \`bench.\` with \`*.bench. A 192.0.2.1\`"
	echo "  and h1–h6.bench, TTL 3600, on 127.0.0.1:5353."
	echo "- Lists: bench/genlist.c, seed $seed: distinct names of 2 to 4 random labels under 30 common"
	echo "  TLDs, none under \`bench.\`; the 100k list is the first 100,000 names of the 1M list."
	echo "  Written as \`list bench FILE\` (hushd), \`local=/NAME/\` (dnsmasq),"
	echo "  \`local-zone: \"NAME.\" always_nxdomain\` (unbound), and a SuffixMatchNode filled from the"
	echo "  plain file in Lua, with \`SuffixMatchNodeRule\` → \`RCodeAction(DNSRCode.NXDOMAIN)\` (dnsdist)."
	echo "  All answer a blocked name NXDOMAIN (hushd: \`block-mode nxdomain\`)."
	echo "- Mixes: hot = 8 names over and over (h1–h6.bench from the upstream, 2 listed names);"
	echo "  miss = distinct names \`q<n>.m<run>.bench\`, never repeated within a run nor across the"
	echo "  runs of one process ($miss_names per file); cache off = the miss mix against the target"
	echo "  restarted with its cache off."
	echo "- Caches: hushd \`cache-size 100000\` / \`0\`; dnsmasq \`cache-size=100000\` / \`0\`; unbound"
	echo "  \`msg-cache-size: 32m\`, \`rrset-cache-size: 64m\` / the same with \`cache-max-ttl: 0\` (unbound"
	echo "  cannot turn its cache off; nothing outlives the second it was stored in, and the miss mix"
	echo "  never repeats a name anyway); dnsdist a packet cache of 100000 entries / none."
	echo "  dnsmasq forwards more and more slowly once its cache is full, the more so the larger the"
	echo "  cache: its cache-on miss figures fall from run to run as its 100000 entries fill up (see"
	echo "  every run below)."
	echo "- Threads: hushd \`workers 1\` (one event loop), unbound \`num-threads: 1\`, dnsmasq is single-threaded,"
	echo "  dnsdist keeps its default threads, all on the proxy's CPU. Other settings are defaults."
	echo "- Ceiling: bench/responder.c returns every query with the QR bit set (recvmmsg/sendmmsg)."
	echo

	echo "## Notes"
	echo
	if [ -s "$work/notes" ]; then
		cat "$work/notes"
	else
		echo "- None: every target was measured."
	fi
	echo

	echo "## Every run"
	echo
	echo "| target | list | mix | run | QPS | completed | sent | lost | avg ms | p99 ms | CPU µs/q |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
	    $1, $2 == "1m" ? "1M" : $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' "$work/runs.tsv"
	echo
	echo "Every start (the reload test starts its target once more):"
	echo
	echo "| target | list | cache | load ms | RSS KiB |"
	echo "|---|---|---|---|---|"
	awk -F '\t' '{ printf "| %s | %s | %s | %s | %s |\n",
	    $1, $2 == "1m" ? "1M" : $2, $3, $4, $5 }' "$work/loads.tsv"
}
