# sni-section.sh: the TLS proxy's section of bench/RESULTS.md, made from
# bench/SNI-RESULTS.md (written by bench/sni.sh). Sourced by report.sh,
# which writes the section with the rest of RESULTS.md, and by sni.sh,
# which puts a fresh one in place after each full run.

SNI_SECTION_TITLE="## TLS (SNI) proxy"

# Prints the section for the SNI report $1; nothing when there is none.
sni_section() {
	[ -f "$1" ] || return 0
	echo "$SNI_SECTION_TITLE"
	echo
	echo "From \`make bench-sni\` (bench/sni.sh), whose report bench/SNI-RESULTS.md has the"
	echo "method and every round. That run: $(sed -n 3p "$1")"
	awk '
		/^## / {
			section = $0
			if (section ~ /against the targets/)
				printf "\nAgainst the targets (same run):\n\n"
			if (section ~ /^## Results/)
				printf "\n"
			next
		}
		/^\|/ && (section ~ /^## Results/ || section ~ /against the targets/)
	' "$1"
	echo
}

# Replaces the section in the benchmark report $1 with the one for the
# SNI report $2; without one, puts it before "## Method" (or at the end).
sni_section_update() {
	local results=$1 sni=$2 section
	[ -f "$results" ] && [ -f "$sni" ] || return 0
	section=$(mktemp) || return 1
	sni_section "$sni" > "$section"
	awk -v file="$section" -v title="$SNI_SECTION_TITLE" '
		function put(   line) {
			while ((getline line < file) > 0)
				print line
			done = 1
		}
		$0 == title { put(); skip = 1; next }
		skip && /^## / { skip = 0 }
		!done && $0 == "## Method" { put() }
		!skip { print }
		END { if (!done) put() }
	' "$results" > "$results.new" && mv "$results.new" "$results"
	local status=$?
	rm -f "$section"
	return $status
}
