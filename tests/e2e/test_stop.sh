# Stopping early for real: SIGINT and SIGTERM during a collection finalise a valid, signed,
# partial archive (state interrupted, exit 3); a second signal ends the run at once and
# leaves the journal, against which verify checks the cut archive; a full output device (a
# small tmpfs, when we may mount one) ends with state output-full, exit 3, and a valid archive.
source "$(dirname "$0")/lib.sh"

R=$W/root
mkdir -p "$R/data"
for i in 1 2 3 4 5 6; do head -c $((64 << 20)) /dev/urandom > "$R/data/blob$i.bin"; done

# wait_journal DIR: until the run's journal has at least one entry (the walk has begun)
wait_journal() {
    for _ in $(seq 1 200); do
        if compgen -G "$1/*.journal" >/dev/null && [ -s "$(ls "$1"/*.journal | head -n 1)" ]; then return 0; fi
        sleep 0.05
    done
    return 1
}

for sig in INT TERM; do
    O=$W/out-$sig
    mkdir -p "$O"
    "$CUSTODY" collect --root "$R" --out "$O" --include '/data/**' --compress gzip > "$W/$sig.out" 2> "$W/$sig.err" &
    pid=$!
    wait_journal "$O" || true
    kill -$sig $pid
    set +e; wait $pid; rc=$?; set -e
    A=$(tail -n 1 "$W/$sig.out")
    check "SIG$sig: exit 3" [ "$rc" -eq 3 ]
    check "SIG$sig: archive written and named on stdout" test -f "$A"
    mkdir -p "$W/x-$sig" && tar -xzf "$A" -C "$W/x-$sig"
    M=$(ls "$W/x-$sig"/*/manifest.json)
    check "SIG$sig: state interrupted" jq -e '.collection.state == "interrupted"' "$M"
    check "SIG$sig: fewer than all six files collected" jq -e '[.entries[] | select(.path | startswith("/data/"))] | length < 6' "$M"
    check "SIG$sig: a cut member is partial and flagged" jq -e \
        'all(.entries[] | select(.flags | index("interrupted")); .status == "partial")' "$M"
    set +e; "$CUSTODY" verify "$A" > "$W/v-$sig.out" 2>&1; vrc=$?; set -e
    check "SIG$sig: the partial archive verifies (exit 0)" [ "$vrc" -eq 0 ]
    check "SIG$sig: the log says so" grep -q 'stopped by signal' "$W/$sig.err"
    check "SIG$sig: journal and log removed after finalising" bash -c "! ls '$O'/*.journal '$O'/*.log 2>/dev/null"
done

# Two signals: out at once, the journal stays; verify checks the cut archive against it.
O=$W/out-twice
mkdir -p "$O"
"$CUSTODY" collect --root "$R" --out "$O" --include '/data/**' --compress gzip > /dev/null 2> "$W/twice.err" &
pid=$!
wait_journal "$O" || true
# Two of the same signal sent together merge into one; stop the process, queue two different
# ones, and let it go on: the first starts finalising, the second must end it at once.
kill -STOP $pid; kill -INT $pid; kill -TERM $pid; kill -CONT $pid
set +e; wait $pid; rc=$?; set -e
check "two signals: exit 3" [ "$rc" -eq 3 ]
check "two signals: the journal is left" bash -c "ls '$O'/*.journal >/dev/null"
A=$(ls "$O"/*.tar.gz)
set +e; "$CUSTODY" verify "$A" > "$W/v-twice.out" 2>&1; vrc=$?; set -e
check "two signals: verify of the cut archive exits 1" [ "$vrc" -eq 1 ]
check "  and reports it against the journal" grep -q 'checking the members against the journal' "$W/v-twice.out"

# SIGKILL: nothing runs after it; the journal is what remains.
O=$W/out-kill
mkdir -p "$O"
"$CUSTODY" collect --root "$R" --out "$O" --include '/data/**' --compress gzip > /dev/null 2>&1 &
pid=$!
wait_journal "$O" || true
sleep 0.5
kill -KILL $pid
set +e; wait $pid; set -e
A=$(ls "$O"/*.tar.gz)
set +e; "$CUSTODY" verify "$A" > "$W/v-kill.out" 2>&1; vrc=$?; set -e
check "SIGKILL: verify exits 1 on the cut archive" [ "$vrc" -eq 1 ]
check "SIGKILL: members written before the kill are reported intact" grep -q '^INTACT .*/fs/data/blob' "$W/v-kill.out"

# Output device full: a real, small tmpfs.
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: not root: the full-device check (tmpfs) did not run"
else
    F=$W/full
    mkdir -p "$F"
    if mount -t tmpfs -o size=40m tmpfs "$F" 2>/dev/null; then
        trap 'umount "$F" 2>/dev/null || true' EXIT
        for comp in zstd none; do
            rm -rf "${F:?}"/*
            set +e
            "$CUSTODY" collect --root "$R" --out "$F" --include '/data/**' --compress $comp > "$W/full.out" 2> "$W/full.err"
            rc=$?
            set -e
            A=$(tail -n 1 "$W/full.out")
            check "full device ($comp): exit 3" [ "$rc" -eq 3 ]
            check "full device ($comp): archive finalised" test -f "$A"
            check "full device ($comp): sidecar matches" bash -c "cd '$F' && sha256sum -c --quiet \$(basename '$A').sha256"
            mkdir -p "$W/xf-$comp"
            tar -xf "$A" -C "$W/xf-$comp"
            M=$(ls "$W/xf-$comp"/*/manifest.json)
            check "full device ($comp): state output-full" jq -e '.collection.state == "output-full"' "$M"
            check "full device ($comp): an entry says output-full" jq -e '[.entries[] | select(.flags | index("output-full"))] | length >= 1' "$M"
            set +e; "$CUSTODY" verify "$A" > "$W/vf.out" 2>&1; vrc=$?; set -e
            check "full device ($comp): the archive verifies" [ "$vrc" -eq 0 ]
            check "full device ($comp): no reserve file left" bash -c "! ls '$F'/*.reserve 2>/dev/null"
        done
        umount "$F"; trap - EXIT
    else
        echo "SKIP: cannot mount a tmpfs here: the full-device check did not run"
    fi
fi
finish
