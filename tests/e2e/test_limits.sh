# Resource limits and progress: --rate-limit (timed as a lower bound: the limiter sleeps, so
# a busy machine can only make the run slower), --max-total and --max-file-size (skipped
# entries with reasons), --timeout (state time-limit, a verifiable archive), the low CPU and
# I/O priority seen from outside in /proc while the collector runs, the progress line through
# a pseudo-terminal (script), JSON progress lines, nothing of that on a pipe, and --quiet.
source "$(dirname "$0")/lib.sh"

R=$W/root
mkdir -p "$R/data" "$R/big"
for i in 1 2 3 4 5; do head -c 100000 /dev/urandom > "$R/data/f$i.bin"; done
head -c 300000 /dev/urandom > "$R/data/large.bin"
head -c 30000000 /dev/urandom > "$R/big/30mb.bin"

# ---- rate limit: 30 MB at 10 MB/s must take at least 3 s (we allow 2.7 s) -----------------
t0=$(date +%s.%N)
collect --root "$R" --include '/big/**' --rate-limit 10M/s --compress none --out "$W/rate"
t1=$(date +%s.%N)
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
check "rate-limited collect exits 0" [ "$RC" -eq 0 ]
check "30 MB at --rate-limit 10M/s took ${el}s (>= 2.7 s)" awk -v e="$el" 'BEGIN { exit !(e >= 2.7) }'
unpack "$ARCHIVE" "$W/rate/x"
check "the rate limit is recorded, with the time spent waiting" \
    jq -e '.collection.limits.rate_limit_bytes_per_second == 10485760 and (.collection.limits.rate_limit_slept_seconds | type == "number" and . >= 0)' "$MF"
check "the manifest with limits validates" "$PY" "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$MF"
t0=$(date +%s.%N)
collect --root "$R" --include '/big/**' --compress none --out "$W/norate"
t1=$(date +%s.%N)
el2=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
echo "ratio: limited ${el}s / unlimited ${el2}s"
check "without the limit the same collection is faster (${el2}s < ${el}s)" awk -v a="$el2" -v b="$el" 'BEGIN { exit !(a < b) }'

# ---- max-total and max-file-size ------------------------------------------------------------
collect --root "$R" --include '/data/**' --max-total 250K --max-file-size 200K --out "$W/caps"
check "capped collect exits 0 (skipped is not an error)" [ "$RC" -eq 0 ]
unpack "$ARCHIVE" "$W/caps/x"
check "--max-file-size: the 300 kB file is skipped, with the reason" \
    jq -e '.entries[] | select(.path == "/data/large.bin") | .status == "skipped" and .member == null and (.reason | startswith("max-file-size: 300000 bytes"))' "$MF"
check "--max-total: two 100 kB files fit in 250 KiB, the other three are skipped with the reason" \
    jq -e '[.entries[] | select(.path | test("/data/f")) | .status] | (map(select(. == "ok")) | length) == 2 and (map(select(. == "skipped")) | length) == 3' "$MF"
check "  and each says max-total" \
    jq -e '[.entries[] | select(.status == "skipped" and (.path | test("/data/f"))) | .reason | startswith("max-total: ")] | all' "$MF"
check "collected bytes stay within --max-total" jq -e '.summary.bytes_collected - ([.entries[] | select(.path == "collection.log") | .collected_bytes] | add) <= 256000' "$MF"
check "the caps are recorded" jq -e '.collection.limits.max_total_bytes == 256000 and .collection.limits.max_file_bytes == 204800' "$MF"
check "summary counts the skipped entries" jq -e '.summary.by_status.skipped.count == 4' "$MF"
"$CUSTODY" collect --root "$R" --include '/data/**' --max-total 250K --max-file-size 200K --dry-run > "$W/caps.plan"
check "the dry run plans the same: 2 files to collect, 4 skipped" \
    bash -c "[ \$(grep -c '^collect' '$W/caps.plan') -eq 2 ] && [ \$(grep -c '^skipped' '$W/caps.plan') -eq 4 ]"

# ---- timeout: finalise cleanly, state time-limit --------------------------------------------
t0=$(date +%s)
collect --root "$R" --include '/big/**' --rate-limit 2M --timeout 2s --compress none --out "$W/to"
t1=$(date +%s)
check "--timeout 2s: exit 3 (stopped early)" [ "$RC" -eq 3 ]
check "  within a few seconds ($((t1 - t0)) s; the file alone would take 15 s)" [ $((t1 - t0)) -le 12 ]
unpack "$ARCHIVE" "$W/to/x"
check "  state time-limit in the manifest" jq -e '.collection.state == "time-limit" and .collection.limits.timeout_seconds == 2' "$MF"
check "  the file being read is cut and says so" \
    jq -e '.entries[] | select(.path == "/big/30mb.bin") | .status == "partial" and (.flags | index("interrupted"))' "$MF"
"$CUSTODY" verify "$ARCHIVE" > "$W/to.verify" 2>&1; vrc=$?
check "  the archive verifies (exit $vrc)" [ "$vrc" -eq 0 ]

# A very low rate: one 256 KiB read buffer is 64 s of waiting at 4K/s; the timeout must not
# wait for it.
t0=$(date +%s)
collect --root "$R" --include '/data/large.bin' --rate-limit 4K --timeout 2s --out "$W/to2"
t1=$(date +%s)
check "--timeout cuts a rate-limit wait: exit 3 after $((t1 - t0)) s (<= 10)" \
    bash -c "[ '$RC' -eq 3 ] && [ $((t1 - t0)) -le 10 ]"
unpack "$ARCHIVE" "$W/to2/x"
check "  state time-limit, and the archive verifies" \
    bash -c "jq -e '.collection.state == \"time-limit\"' '$MF' >/dev/null && '$CUSTODY' verify '$ARCHIVE' >/dev/null 2>&1"

# ---- priority, seen from outside while it runs ----------------------------------------------
"$CUSTODY" collect --root "$R" --include '/big/**' --rate-limit 5M --compress none --out "$W/prio" > /dev/null 2>&1 &
pid=$!
sleep 1
nice_now=$(awk '{print $19}' "/proc/$pid/stat" 2>/dev/null || echo "?")
io_now=$(ionice -p "$pid" 2>/dev/null || echo "?")
wait "$pid" || true
check "the running collector has nice 19 (saw $nice_now)" [ "$nice_now" = 19 ]
check "the running collector is in the idle I/O class (saw $io_now)" [ "$io_now" = idle ]
collect --root "$R" --include '/data/f1.bin' --normal-priority --out "$W/np"
unpack "$ARCHIVE" "$W/np/x"
check "--normal-priority is recorded" jq -e '.collection.limits.priority.low == false and .collection.limits.priority.io_class == "unchanged"' "$MF"
collect --root "$R" --include '/data/f1.bin' --out "$W/lp"
unpack "$ARCHIVE" "$W/lp/x"
check "low priority by default is recorded" jq -e '.collection.limits.priority.low == true and .collection.limits.priority.nice == 19 and .collection.limits.priority.io_class == "idle"' "$MF"

# ---- progress ----------------------------------------------------------------------------------
collect --root "$R" --include '/data/**' --include '/big/**' --out "$W/pipe"
check "on a pipe: no status line (no carriage return or erase sequence on stderr)" \
    bash -c "! grep -q \$'\\r\\|\\e\\[K' '$W/collect.err'"
collect --root "$R" --include '/data/**' --include '/big/**' --rate-limit 20M --progress json --out "$W/json"
grep '^{' "$W/collect.err" > "$W/progress.jsonl" || true
check "--progress json: several JSON lines ($(wc -l < "$W/progress.jsonl"))" [ "$(wc -l < "$W/progress.jsonl")" -ge 3 ]
check "  every line parses and has the fields" \
    bash -c "jq -e 'has(\"phase\") and has(\"files\") and has(\"bytes\") and has(\"rate_bytes_per_second\") and has(\"elapsed_seconds\") and has(\"eta_seconds\") and has(\"path\")' '$W/progress.jsonl' | grep -qv false"
check "  phases files, finalise and done appear" \
    bash -c "[ \"\$(jq -r .phase '$W/progress.jsonl' | sort -u | tr '\n' ' ')\" = 'done files finalise live ' ] || [ \"\$(jq -r .phase '$W/progress.jsonl' | sort -u | tr '\n' ' ')\" = 'done files finalise ' ]"
check "  the last line counts 7 files and all their bytes" \
    jq -se 'last | .phase == "done" and .files == 7 and .bytes == (30000000 + 500000 + 300000)' "$W/progress.jsonl"
# Through a pseudo-terminal: script(1) gives the collector a tty on stderr.
script -qfec "'$CUSTODY' collect --root '$R' --include '/data/**' --include '/big/**' --rate-limit 15M --out '$W/tty'" "$W/typescript" > /dev/null 2>&1 || true
check "on a terminal: the status line is redrawn in place (carriage return + erase line)" \
    [ "$(grep -o $'\r\e\[K\[files\]' "$W/typescript" | wc -l)" -ge 3 ]
check "  with files, bytes, rate and elapsed time" grep -qaE $'\\[files\\] [0-9]+ files  [0-9.]+ [KMG]?i?B  [0-9.]+ [KMG]?i?B/s  00:00:0[0-9]' "$W/typescript"
check "  showing the current path" grep -qa '/big/30mb.bin' "$W/typescript"
check "  and ends with a done line" grep -qaE $'\\[done\\] 7 files' "$W/typescript"
# With --max-total there is a total: an ETA is shown.
script -qfec "'$CUSTODY' collect --root '$R' --include '/big/**' --rate-limit 10M --max-total 40M --out '$W/tty2'" "$W/typescript2" > /dev/null 2>&1 || true
check "with --max-total the line shows an ETA" grep -qa 'ETA 00:00:' "$W/typescript2"

# ---- quiet ---------------------------------------------------------------------------------------
"$CUSTODY" keygen --out "$W/key" > /dev/null 2>&1
collect --root "$R" --include '/data/f1.bin' --sign-key "$W/key.key" --quiet --out "$W/q"
check "--quiet: exit 0 and nothing on stderr [$(head -c 200 "$W/collect.err")]" \
    bash -c "[ '$RC' -eq 0 ] && [ ! -s '$W/collect.err' ]"
collect --root "$R" --include '/data/f1.bin' --quiet --out "$W/q2"
check "--quiet with an ephemeral key: only its fingerprint" \
    bash -c "[ \$(wc -l < '$W/collect.err') -eq 1 ] && grep -q 'signer fingerprint' '$W/collect.err'"
collect --root "$R" --include '/data/**' --max-total 10x --out "$W/bad"
check "a bad size is a usage error (exit 2)" [ "$RC" -eq 2 ]
collect --root "$R" --include '/data/**' --timeout 5y --out "$W/bad"
check "a bad duration is a usage error (exit 2)" [ "$RC" -eq 2 ]
finish
