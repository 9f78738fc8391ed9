# End to end: a dead-box collection of a fixture tree with the default profile, checked
# with ordinary tools: tar/bsdtar, sha256sum, openssl, jq and the JSON Schema; the source is
# unchanged; nothing is executed.
source "$(dirname "$0")/lib.sh"

R=$W/root
make_fixture "$R"
OUT=$W/out
mkdir -p "$OUT"
# Times of every fixture item before the collection.
(cd "$R" && find . -type l -exec stat -c '%n %X' {} + | sort) > "$W/ltimes.before"
times_prepare "$R" "$W/paths"   # after the last find: from here on nothing but custody reads $R
times_stat "$R" "$W/paths" > "$W/times.before"

collect --root "$R" --out "$OUT" --case "CASE 42/x" --examiner "E. Xaminer" --note "test run"
check "collect exits 0 (complete, no evidence errors): $RC" [ "$RC" -eq 0 ]
check "last stdout line is the archive" test -f "$ARCHIVE"
check "archive named <host>-<stamp>-<case>.tar.zst" \
    bash -c "basename '$ARCHIVE' | grep -Eq '^fixturehost-[0-9]{8}T[0-9]{6}Z-CASE_42_x\.tar\.zst$'"
check "sidecar checks with sha256sum -c" bash -c "cd '$OUT' && sha256sum -c --quiet '$(basename "$ARCHIVE").sha256'"
check "ephemeral public key beside the archive" test -s "$ARCHIVE.pub"
check "no journal, log or temp manifest left in --out" \
    bash -c "[ \$(ls '$OUT' | wc -l) -eq 3 ]"
check "fingerprint printed on stderr" grep -q 'fingerprint [0-9a-f]\{64\}' "$W/collect.err"

# Both tars list and extract it.
check "bsdtar lists it" bash -c "bsdtar -tf '$ARCHIVE' > '$W/bsdtar.list'"
check "GNU tar lists it" bash -c "tar -tf '$ARCHIVE' > '$W/tar.list'"
unpack "$ARCHIVE" "$W/x"
mkdir -p "$W/xb" && bsdtar -xf "$ARCHIVE" -C "$W/xb"
check "bsdtar and GNU tar extract the same bytes" diff -r "$W/x" "$W/xb"
check "manifest.json and manifest.sig are the last two members" \
    bash -c "tail -n 2 '$W/tar.list' | tr '\n' ' ' | grep -q '/manifest.json $STEM/manifest.sig'"

# Schema and signature.
check "manifest validates against the JSON Schema" $PY "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$MF"
check "openssl verifies manifest.sig with the .pub key" \
    openssl pkeyutl -verify -pubin -inkey "$ARCHIVE.pub" -rawin -in "$MF" -sigfile "$W/x/$STEM/manifest.sig"
check "signer fingerprint = SHA-256 of the DER public key" bash -c \
    "[ \"\$(openssl pkey -pubin -in '$ARCHIVE.pub' -outform DER | sha256sum | cut -d' ' -f1)\" = \"\$(jq -r .collection.signer.fingerprint '$MF')\" ]"

# Every member's sha256sum equals the manifest; every member but the last two is an entry.
# (names with newlines, tabs or backslashes are checked by the Python cross-check below)
jq -r '.entries[] | select(.sha256 != null and .member_b64 == null)
       | select(.member | test("[\\n\\t\\\\]") | not) | "\(.sha256)  \(.member)"' "$MF" > "$W/sums"
check "sha256sum list covers the plain names" bash -c "[ \$(wc -l < '$W/sums') -ge 15 ]"
check "sha256sum of every extracted member equals the manifest" bash -c "cd '$W/x' && sha256sum -c --quiet '$W/sums'"
$PY - "$MF" "$W/x" <<'PYEOF' > "$W/py.out" 2>&1 && ok "every member (incl. non-UTF-8 names) hashes to its entry; no member without entry" || fail "member/entry cross-check: $(cat "$W/py.out")"
import base64, hashlib, json, os, sys
mf = json.load(open(sys.argv[1], encoding="utf-8"))
top = sys.argv[2].encode()
members = {}
for e in mf["entries"]:
    if e["member"] is None:
        continue
    name = base64.b64decode(e["member_b64"]) if "member_b64" in e else e["member"].encode()
    members[name] = e
found = set()
for dirpath, dirs, files in os.walk(top):
    for f in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
        full = os.path.join(dirpath, f)
        rel = os.path.relpath(full, top)
        if rel.endswith(b"/manifest.json") or rel.endswith(b"/manifest.sig"):
            continue
        assert rel in members, "member without entry: %r" % rel
        e = members[rel]
        found.add(rel)
        if os.path.islink(full):
            assert e["type"] == "symlink" and e["sha256"] is None
            tgt = base64.b64decode(e["link_target_b64"]) if "link_target_b64" in e else e["link_target"].encode()
            assert os.readlink(full) == tgt, rel
        else:
            h = hashlib.sha256(open(full, "rb").read()).hexdigest()
            assert h == e["sha256"], "digest mismatch %r" % rel
assert found == set(members), "entries without member: %r" % (set(members) - found)
PYEOF

# What the default profile selected, and what it did not.
sel() { jq -e --arg p "$1" '.entries[] | select(.path == $p)' "$MF" > /dev/null; }
for p in /etc/passwd /etc/shadow /etc/group /etc/hosts /etc/cron.d/evil /etc/ssh/sshd_config \
         /var/log/auth.log /var/log/nginx/access.log /home/alice/.bash_history \
         /home/alice/.ssh/authorized_keys /root/.bash_history /tmp/dropper.sh /var/www/html/shell.php; do
    check "selected $p" sel "$p"
done
check "not selected /usr/bin/ls" bash -c "! jq -e '.entries[] | select(.path == \"/usr/bin/ls\")' '$MF' >/dev/null"
check "not selected /tmp/notes.txt" bash -c "! jq -e '.entries[] | select(.path == \"/tmp/notes.txt\")' '$MF' >/dev/null"
check "symlink recorded with its target, not followed" \
    jq -e '.entries[] | select(.path == "/var/log/link-to-shadow") | select(.type == "symlink" and .link_target == "/etc/shadow" and .sha256 == null)' "$MF"
check "FIFO recorded as metadata, never opened" \
    jq -e '.entries[] | select(.path == "/var/log/a.fifo") | select(.type == "fifo" and .member == null and .collected_bytes == 0)' "$MF"
check "non-UTF-8 name kept losslessly (path_b64)" bash -c \
    "jq -r '.entries[] | select(.path_b64 != null) | .path_b64' '$MF' | base64 -d | od -c | grep -q '377'"
check "newline name listed" jq -e '.entries[] | select(.path == "/var/log/new\nline.log")' "$MF"
check "names from the root's own passwd" \
    jq -e '.entries[] | select(.path == "/home/alice/.bash_history") | select(.user != null)' "$MF"
check "mtime in ns UTC" jq -e '.entries[] | select(.path == "/var/log/auth.log") | select(.mtime == "2021-02-25T12:00:00.000000000Z")' "$MF"
check "collection.log is an entry with a digest" \
    jq -e '.entries[] | select(.path == "collection.log") | select(.sha256 != null)' "$MF"
check "case recorded" jq -e '.case.id == "CASE 42/x" and .case.examiner == "E. Xaminer"' "$MF"
check "dead-box mode, host from the root's files" \
    jq -e '.collection.mode == "dead-box" and .host.hostname == "fixturehost" and .host.kernel == null' "$MF"
check "state complete, summary counts entries" \
    jq -e '.collection.state == "complete" and .summary.entries == (.entries | length)' "$MF"
check "rules recorded per entry" \
    jq -e '.entries[] | select(.path == "/etc/passwd") | select(.rules | length > 0)' "$MF"
check "tool hash is the binary's" bash -c \
    "[ \"\$(jq -r .tool.sha256 '$MF')\" = \"\$(sha256sum '$CUSTODY' | cut -d' ' -f1)\" ]"

# The source is unchanged: atime, mtime, ctime of every item.
times_stat "$R" "$W/paths" > "$W/times.after"
check "atime, mtime and ctime of every source item unchanged" diff "$W/times.before" "$W/times.after"
# readlink has no O_NOATIME: a symlink whose atime the kernel moved must say so in its entry.
(cd "$R" && find . -type l -exec stat -c '%n %X' {} + | sort) > "$W/ltimes.after"
check "a symlink's atime is unchanged, or its entry says atime-not-preserved" bash -c \
    "diff -q '$W/ltimes.before' '$W/ltimes.after' >/dev/null ||
     jq -e '.entries[] | select(.path == \"/var/log/link-to-shadow\") | .flags | index(\"atime-not-preserved\")' '$MF' >/dev/null"

# Output inside a dead-box root is refused.
collect --root "$R" --out "$R/var/tmp/out"
check "output inside the root refused with exit 2" [ "$RC" -eq 2 ]
check "nothing written inside the root" test ! -e "$R/var/tmp/out"

# --include without --profile: only the includes.
collect --root "$R" --out "$W/out2" --include '/etc/pass*'
check "--include alone: exit 0" [ "$RC" -eq 0 ]
unpack "$ARCHIVE" "$W/x2"
check "--include alone: just /etc/passwd and the log" \
    jq -e '[.entries[].path] == ["/etc/passwd", "collection.log"]' "$MF"

# Extra digests on request; gzip and no compression.
collect --root "$R" --out "$W/out3" --include '/etc/hosts' --hash sha256,sha1,md5 --compress gzip
unpack "$ARCHIVE" "$W/x3"
check "gzip archive named .tar.gz" bash -c "[[ '$ARCHIVE' == *.tar.gz ]]"
check "sha1 and md5 as asked" bash -c \
    "[ \"\$(jq -r '.entries[0].md5' '$MF')\" = \"\$(md5sum < '$R/etc/hosts' | cut -d' ' -f1)\" ] &&
     [ \"\$(jq -r '.entries[0].sha1' '$MF')\" = \"\$(sha1sum < '$R/etc/hosts' | cut -d' ' -f1)\" ]"
collect --root "$R" --out "$W/out4" --include '/etc/hosts' --compress none
check "uncompressed archive is a plain tar" bash -c "[[ '$ARCHIVE' == *.tar ]] && tar -tf '$ARCHIVE' >/dev/null"

# Usage errors.
set +e
"$CUSTODY" collect --compress lzma >/dev/null 2>&1; r1=$?
"$CUSTODY" collect --root /nonexistent >/dev/null 2>&1; r2=$?
"$CUSTODY" collect --hash sha512 >/dev/null 2>&1; r3=$?
"$CUSTODY" collect --help > "$W/help.txt"; r4=$?
set -e
check "bad --compress exits 2" [ "$r1" -eq 2 ]
check "missing root exits 2" [ "$r2" -eq 2 ]
check "bad --hash exits 2" [ "$r3" -eq 2 ]
check "--help exits 0 and documents exit codes" bash -c "[ $r4 -eq 0 ] && grep -q 'exit codes' '$W/help.txt'"

# Live mode (root /): host facts from the running system.
collect --root / --out "$W/live" --include /etc/hostname
unpack "$ARCHIVE" "$W/xl"
check "live mode: kernel and boot time recorded" \
    jq -e '.collection.mode == "live" and (.host.kernel | startswith("Linux")) and (.host.boot_time | test("^[0-9]{4}-"))' "$MF"
check "live mode: boot time equals /proc/stat btime" bash -c \
    "[ \"\$(jq -r .host.boot_time '$MF')\" = \"\$(date -u -d @\$(awk '/^btime/ {print \$2}' /proc/stat) +%Y-%m-%dT%H:%M:%S.000000000Z)\" ]"

# Executes nothing: the only execve is the collector's own.
if command -v strace >/dev/null; then
    strace -f -qq -e trace=execve -o "$W/strace.out" "$CUSTODY" collect --root "$R" --out "$W/out5" >/dev/null 2>&1 || true
    check "strace: exactly one execve (custody itself)" bash -c "[ \$(grep -c 'execve(' '$W/strace.out') -eq 1 ]"
else
    echo "SKIP: strace not installed: the no-execution check did not run"
fi

finish
