#!/usr/bin/env bash
# Benchmark: custody collect against tar --zstd followed by sha256sum over the same tree.
#
# usage: tests/bench/bench.sh [CUSTODY_BINARY] [RUNS]
# Env: BENCH_DIR (default /tmp/custody-bench), BENCH_MB (tree size, default 1024).
#
# Builds (once) a mixed tree of about BENCH_MB MiB: text logs (compressible), random
# binaries (incompressible) and many small files. Then runs both sides RUNS times (default
# 5), alternating, with a warm page cache for both, and prints the median wall time of each,
# the ratio custody / (tar + sha256sum), and peak RSS from /usr/bin/time -v.
# The machines are shared and noisy: read the ratio, not the seconds. custody runs with
# --normal-priority here (tar and sha256sum run at normal priority too).
set -euo pipefail
CUSTODY=${1:-build/custody}
RUNS=${2:-5}
DIR=${BENCH_DIR:-/tmp/custody-bench}
MB=${BENCH_MB:-1024}
TREE=$DIR/tree
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 2; }

if [ ! -f "$DIR/tree.done-$MB" ]; then
    rm -rf "$DIR"; mkdir -p "$TREE"/{logs,bin,small}
    echo "bench: building a ${MB} MiB tree in $TREE" >&2
    text_mb=$((MB * 40 / 100)); bin_mb=$((MB * 50 / 100)); small_n=$((MB * 10 / 100 * 1024 / 4))
    # text logs: 8 MiB each
    i=0
    while [ $((i * 8)) -lt "$text_mb" ]; do
        awk -v n=$((8 * 1024 * 1024 / 100)) -v s=$i 'BEGIN { for (k = 0; k < n; k++)
            printf "Feb 25 03:%02d:%02d web%d sshd[%d]: Failed password for user%d from 198.51.100.%d port %d\n",
            k % 60, (k * 7) % 60, s, 1000 + k % 5000, k % 977, k % 250, 20000 + k % 40000 }' \
            > "$TREE/logs/log$i.log"
        i=$((i + 1))
    done
    # random binaries: 32 MiB each
    i=0
    while [ $((i * 32)) -lt "$bin_mb" ]; do
        head -c $((32 * 1024 * 1024)) /dev/urandom > "$TREE/bin/blob$i.bin"
        i=$((i + 1))
    done
    # many small files: about 4 KiB of text each, 100 per directory (one process, not 2 per file)
    perl -e 'my ($top, $n) = @ARGV; for my $k (0 .. $n - 1) {
        my $d = "$top/d" . int($k / 100); mkdir $d unless -d $d;
        open(my $f, ">", "$d/f$k.txt") or die "$d/f$k.txt: $!";
        print $f join("", map { chr(33 + int(rand(90))) } 1 .. 4096), "\n"; close $f }' \
        "$TREE/small" "$small_n"
    touch "$DIR/tree.done-$MB"
fi
files=$(find "$TREE" -type f | wc -l)
bytes=$(du -sb "$TREE" | cut -f1)
echo "bench: tree $TREE: $files files, $bytes bytes" >&2

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
measure() { # measure OUTFILE CMD... -> prints "seconds maxrss_kib"
    local tf=$DIR/time.$$
    /usr/bin/time -v -o "$tf" "$@" > /dev/null 2>> "$DIR/bench.log"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$tf")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tf")
    echo "$wall $rss"
}

# warm the cache for both sides
cat "$TREE"/logs/* "$TREE"/bin/* > /dev/null; find "$TREE/small" -type f -exec cat {} + > /dev/null

: > "$DIR/custody.times"; : > "$DIR/pair.times"; : > "$DIR/custody.rss"; : > "$DIR/tar.rss"
for ((r = 1; r <= RUNS; r++)); do
    rm -rf "$DIR/out"; mkdir -p "$DIR/out"
    read -r t rss < <(measure "$CUSTODY" collect --quiet --normal-priority --root "$TREE" --out "$DIR/out" --include '/**')
    echo "$t" >> "$DIR/custody.times"; echo "$rss" >> "$DIR/custody.rss"
    rm -f "$DIR/pair.tar.zst"
    read -r t1 rss1 < <(measure tar --zstd -cf "$DIR/pair.tar.zst" -C "$TREE" .)
    read -r t2 _ < <(measure bash -c "cd '$TREE' && find . -type f -print0 | xargs -0 sha256sum > '$DIR/pair.sha256'")
    echo "$t1 $t2" | awk '{ print $1 + $2 }' >> "$DIR/pair.times"; echo "$rss1" >> "$DIR/tar.rss"
    echo "bench: run $r: custody $(tail -n 1 "$DIR/custody.times") s, tar+sha256sum $(tail -n 1 "$DIR/pair.times") s" >&2
done
mc=$(median < "$DIR/custody.times"); mp=$(median < "$DIR/pair.times")
rss=$(sort -n "$DIR/custody.rss" | tail -n 1)
echo "files=$files bytes=$bytes runs=$RUNS"
echo "custody collect median: ${mc} s"
echo "tar --zstd + sha256sum median: ${mp} s"
echo "ratio custody/(tar+sha256sum): $(awk -v a="$mc" -v b="$mp" 'BEGIN { printf "%.3f", a / b }')"
echo "custody peak RSS: $((rss / 1024)) MiB ($rss KiB)"
