# extract: a verified archive is extracted byte for byte with times restored; a tampered one
# is refused; a hostile archive (crafted with Python's tarfile) writes nothing outside --to,
# no device, no setuid bit; list shows the entries with escaped names.
source "$(dirname "$0")/lib.sh"

R=$W/root
make_fixture "$R"
collect --root "$R" --out "$W/out"
check "collect exit 0" [ "$RC" -eq 0 ]
set +e
"$CUSTODY" extract "$ARCHIVE" --to "$W/x" > "$W/ex.out" 2>&1; rc=$?
set -e
STEM=$(basename "$ARCHIVE" .tar.zst)
check "extract of an intact archive: exit 0" [ "$rc" -eq 0 ]
check "passwd extracted byte for byte" cmp "$R/etc/passwd" "$W/x/$STEM/fs/etc/passwd"
check "non-UTF-8 name extracted byte for byte" cmp "$R/var/log/$(printf 'bad\xffname.log')" \
    "$W/x/$STEM/fs/var/log/$(printf 'bad\xffname.log')"
check "mtime restored" [ "$(stat -c %Y "$R/var/log/auth.log")" = "$(stat -c %Y "$W/x/$STEM/fs/var/log/auth.log")" ]
check "symlink extracted as a link, not followed" [ "$(readlink "$W/x/$STEM/fs/var/log/link-to-shadow")" = /etc/shadow ]

"$CUSTODY" list "$ARCHIVE" > "$W/list.txt"
check "list shows entries with type, size, status, path" grep -Eq '^file +[0-9]+ 2021-02-25T12:00:00.000000000Z ok +/var/log/auth.log$' "$W/list.txt"
check "list escapes a newline in a name" grep -q '/var/log/new\\nline.log' "$W/list.txt"
check "list escapes non-UTF-8 bytes" grep -q 'bad\\xffname.log' "$W/list.txt"
check "list --json gives one JSON entry per line" bash -c \
    "'$CUSTODY' list --json '$ARCHIVE' | jq -e -s 'length > 10 and all(.[]; has(\"sha256\"))' >/dev/null"

# A tampered archive: refused, nothing written; --force extracts.
mkdir -p "$W/t" && tar -xf "$ARCHIVE" -C "$W/t"
tar -tf "$ARCHIVE" > "$W/order"
echo tampered >> "$W/t/$STEM/fs/etc/hosts"
(cd "$W/t" && tar --format=posix --zstd --no-recursion -cf "$W/tampered.tar.zst" -T "$W/order")
set +e
"$CUSTODY" extract "$W/tampered.tar.zst" --to "$W/tx" > /dev/null 2>&1; rc=$?
set -e
check "tampered archive: exit 1" [ "$rc" -eq 1 ]
check "  and nothing written" bash -c "[ ! -e '$W/tx' ] || [ -z \"\$(ls -A '$W/tx')\" ]"
set +e
"$CUSTODY" extract "$W/tampered.tar.zst" --to "$W/tf" --force > /dev/null 2>&1; rc=$?
set -e
check "--force extracts anyway (exit 1: it did not verify)" bash -c "[ $rc -eq 1 ] && [ -f '$W/tf/$STEM/fs/etc/hosts' ]"

# Hostile members.
mkdir -p "$W/h" "$W/outside"
$PY - "$W/hostile.tar" "$W/outside" <<'PYEOF'
import io, sys, tarfile
out, outside = sys.argv[1], sys.argv[2]
t = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)
def add(name, data=b"x", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)
add("../evil", b"dotdot")
add(outside + "/abs", b"absolute")
add("link", type=tarfile.SYMTYPE, linkname=outside)
add("link/through", b"through the link")
add("hard", type=tarfile.LNKTYPE, linkname="/etc/passwd")
add("dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
add("fifo", type=tarfile.FIFOTYPE)
add("suid", b"#!/bin/sh\n", mode=0o4755)
add("a/" + "d" * 200 + "/" + "e" * 200 + "/deep", b"deep")
t.close()
PYEOF
set +e
"$CUSTODY" extract "$W/hostile.tar" --to "$W/h" --force > "$W/h.out" 2>&1; rc=$?
set -e
check "hostile archive: exit 1 (refused members), no crash" [ "$rc" -eq 1 ]
check "nothing written outside --to" bash -c "[ -z \"\$(ls -A '$W/outside')\" ] && [ ! -e '$W/evil' ]"
check "no device node created" bash -c "[ -z \"\$(find '$W/h' -type c -o -type b -o -type p)\" ]"
check "no setuid bit" bash -c "[ -z \"\$(find '$W/h' -perm -4000)\" ]"
check "the setuid file itself is there, without the bit" test -f "$W/h/suid"
check "refusals are reported" bash -c "[ \$(grep -c REFUSED '$W/h.out') -ge 4 ]"
check "a long path is extracted" test -f "$W/h/a/$(printf 'd%.0s' {1..200})/$(printf 'e%.0s' {1..200})/deep"

# --max-bytes bounds what an archive can make extract write.
set +e
"$CUSTODY" extract "$ARCHIVE" --to "$W/m" --max-bytes 100 > /dev/null 2>&1; rc=$?
set -e
check "--max-bytes stops the extraction (exit 1)" [ "$rc" -eq 1 ]
check "  having written at most 100 content bytes" bash -c "[ \$(find '$W/m' -type f -printf '%s\n' | awk '{s+=\$1} END {print s+0}') -le 100 ]"
set +e
"$CUSTODY" extract "$ARCHIVE" > /dev/null 2>&1; rc=$?
set -e
check "extract without --to: exit 2" [ "$rc" -eq 2 ]
finish
