# Live capture against the real /proc: a process listening on 127.0.0.1 with a unique argv,
# a process whose executable was deleted after it started, and one holding a deleted file
# open must all be seen, with the right pid, argv, port-to-pid mapping and content; volatile
# members come before file members; nothing is executed; a dead-box run says it skipped.
source "$(dirname "$0")/lib.sh"
[ -d /proc/self ] || skip "/proc is not mounted: live capture cannot be tested"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

marker="custody-test-$$-$RANDOM"
$PY -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(600)' "$marker" > "$W/port" &
pids+=($!); listener=$!
cp /bin/sleep "$W/evil-sleep"
orig_sha=$(sha256sum "$W/evil-sleep" | cut -d' ' -f1)
"$W/evil-sleep" 600 &
pids+=($!); evil=$!
echo "a secret being exfiltrated" > "$W/secret.txt"
bash -c "exec 3< '$W/secret.txt'; sleep 600" &
pids+=($!); holder=$!
for _ in $(seq 1 100); do [ -s "$W/port" ] && break; sleep 0.05; done
sleep 0.3
rm "$W/evil-sleep" "$W/secret.txt"
port=$(cat "$W/port")

collect --root / --profile live --out "$W/out" --open-file-content
check "live collect exits 0 or 1 ($RC)" bash -c "[ $RC -eq 0 ] || [ $RC -eq 1 ]"
if [ "$(stat -c %d "$W")" = "$(stat -c %d /)" ]; then
    check "output on the evidence's file system: a clear warning" grep -q 'same file system as the evidence' "$W/collect.err"
fi
unpack "$ARCHIVE" "$W/x"
L=$W/x/$STEM/live
for d in processes sockets network users kernel open_files; do
    check "live/$d.json is valid JSON and listed with a digest and the time taken" bash -c \
        "jq -e . '$L/$d.json' >/dev/null && jq -e '.entries[] | select(.path == \"live/$d.json\") | select(.sha256 != null and .taken != null)' '$MF' >/dev/null"
done
check "the listener is in processes.json with its pid and exact argv" jq -e --argjson p "$listener" --arg m "$marker" \
    '.processes[] | select(.pid == $p) | select(.argv[-1] == $m and .ppid > 0 and .start_time != null and .exe_sha256 != null)' "$L/processes.json"
check "its listening socket on 127.0.0.1:$port maps to its pid" jq -e --argjson p "$listener" --argjson port "$port" \
    '.sockets[] | select(.proto == "tcp" and .local_address == "127.0.0.1" and .local_port == $port and .listening) | select(.pids | index($p))' "$L/sockets.json"
check "the deleted executable is flagged in processes.json" jq -e --argjson p "$evil" \
    '.processes[] | select(.pid == $p) | select(.exe_deleted == true)' "$L/processes.json"
m=$(ls "$L/exe/" | grep "^$evil-" || true)
check "the deleted executable's image is archived (live/exe/$evil-*)" test -n "$m"
check "  and hashes to the original binary's SHA-256" [ "$(sha256sum "$L/exe/$m" | cut -d' ' -f1)" = "$orig_sha" ]
check "  and the manifest entry has that digest" jq -e --arg h "$orig_sha" --arg p "/proc/$evil/exe" \
    '.entries[] | select(.path == $p) | select(.sha256 == $h)' "$MF"
check "a deleted-executable finding names the pid" jq -e --arg p "/proc/$evil/exe" \
    '.findings[] | select(.rule == "deleted-executable" and .path == $p)' "$MF"
check "the deleted-but-open file is flagged in open_files.json" jq -e --argjson p "$holder" \
    '.open_files[] | select(.pid == $p) | .fds[] | select(.deleted and (.target | contains("secret.txt")))' "$L/open_files.json"
check "  and its content collected (--open-file-content)" bash -c \
    "cat '$L'/deleted/$holder-* 2>/dev/null | grep -q 'a secret being exfiltrated'"
check "kernel.json has modules, taint, mounts and clocks" \
    jq -e '(.modules | type == "array") and (.tainted | type == "number") and (.mountinfo | length > 0) and .clocks.boottime' "$L/kernel.json"
check "network.json lists the loopback interface" jq -e '.interfaces[] | select(.name == "lo")' "$L/network.json"
check "network.json decodes routes (dotted addresses)" jq -e \
    '(.routes_ipv4 | type == "array") and all(.routes_ipv4[]; .destination | test("^[0-9.]+$"))' "$L/network.json"
check "users.json has sessions and login records arrays" jq -e '(.sessions | type == "array") and .records_max > 0' "$L/users.json"
check "no process environments by default" bash -c "! jq -e '.processes[] | select(has(\"environ\"))' '$L/processes.json' >/dev/null"
check "the manifest says live capture ran" jq -e '.collection.live.captured == true' "$MF"
check "the manifest validates against the schema" $PY "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$MF"
tar -tf "$ARCHIVE" > "$W/order"
first_fs=$(grep -n '/fs/' "$W/order" | head -n 1 | cut -d: -f1)
last_live=$(grep -n '/live/' "$W/order" | tail -n 1 | cut -d: -f1)
check "volatile members come before file members" bash -c "[ -z '$first_fs' ] || [ $last_live -lt $first_fs ]"
set +e; "$CUSTODY" verify "$ARCHIVE" > /dev/null 2>&1; vrc=$?; set -e
check "the live archive verifies" [ "$vrc" -eq 0 ]

# Nothing executed, even while reading every process.
if command -v strace >/dev/null; then
    strace -f -qq -e trace=execve -o "$W/strace.out" "$CUSTODY" collect --root / --profile live --out "$W/out2" >/dev/null 2>&1 || true
    check "strace: exactly one execve (custody itself)" bash -c "[ \$(grep -c 'execve(' '$W/strace.out') -eq 1 ]"
else
    echo "SKIP: strace not installed: the no-execution check did not run"
fi

# Dead-box mode skips live capture and says so.
mkdir -p "$W/root/etc" && echo x > "$W/root/etc/hosts"
collect --root "$W/root" --profile live --out "$W/out3"
unpack "$ARCHIVE" "$W/x3"
check "dead-box: live capture skipped, with the reason" \
    jq -e '.collection.live.captured == false and (.collection.live.reason | test("dead-box"))' "$MF"
check "dead-box: no live members" bash -c "! tar -tf '$ARCHIVE' | grep -q '/live/'"
finish
