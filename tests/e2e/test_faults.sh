# Faults on the suspect host, reproduced for real: files appended to and truncated while they
# are read; sockets and device nodes (never opened); a path deeper than PATH_MAX collected,
# listed and extracted byte for byte; an unprivileged run (EACCES recorded, exit 1); a file
# system mounted with strictatime (atimes must not move).
source "$(dirname "$0")/lib.sh"
is_root() { [ "$(id -u)" -eq 0 ]; }

R=$W/root
make_fixture "$R"
mkdir -p "$R/var/log/grow"

# -- a file appended to during the collection: the entry says so and the digest is of the bytes
#    stored (both checked against the extracted member)
head -c $((96 << 20)) /dev/urandom > "$R/var/log/grow/appended.log"
( while :; do echo "appended line $RANDOM" >> "$R/var/log/grow/appended.log"; done ) &
appender=$!
collect --root "$R" --out "$W/out1" --include '/var/log/grow/appended.log' --compress gzip
kill $appender 2>/dev/null; wait $appender 2>/dev/null || true
unpack "$ARCHIVE" "$W/x1"
check "appended while read: flagged changed-during-read" jq -e \
    '.entries[] | select(.path == "/var/log/grow/appended.log") | .flags | index("changed-during-read")' "$MF"
check "appended while read: digest = the stored member" bash -c \
    "[ \"\$(sha256sum < '$W/x1/$STEM/fs/var/log/grow/appended.log' | cut -d' ' -f1)\" = \"\$(jq -r '.entries[] | select(.path == \"/var/log/grow/appended.log\") | .sha256' '$MF')\" ]"
# -- a file truncated during its read (256 MiB through gzip takes seconds; cut it at 0.3 s)
head -c $((256 << 20)) /dev/urandom > "$R/var/log/grow/truncated.log"
collect --root "$R" --out "$W/out1t" --include '/var/log/grow/truncated.log' --compress gzip &
cpid=$!
sleep 0.3
truncate -s 1M "$R/var/log/grow/truncated.log"
wait $cpid || true
ARCHIVE=$(tail -n 1 "$W/collect.out")
unpack "$ARCHIVE" "$W/x1t"
check "truncated while read: size-shrank, padded, partial" jq -e \
    '.entries[] | select(.path == "/var/log/grow/truncated.log") | select((.flags | index("size-shrank")) and (.flags | index("padded")) and .status == "partial")' "$MF"
check "truncated while read: digest = the stored (padded) member" bash -c \
    "[ \"\$(sha256sum < '$W/x1t/$STEM/fs/var/log/grow/truncated.log' | cut -d' ' -f1)\" = \"\$(jq -r '.entries[] | select(.path == \"/var/log/grow/truncated.log\") | .sha256' '$MF')\" ]"
check "  and collected_bytes says how much was real" jq -e \
    '.entries[] | select(.path == "/var/log/grow/truncated.log") | select(.collected_bytes < .size)' "$MF"
rm -f "$R/var/log/grow/truncated.log" "$R/var/log/grow/appended.log"
set +e; "$CUSTODY" verify "$ARCHIVE" > /dev/null 2>&1; vrc=$?; set -e
check "the archive with changing files verifies" [ "$vrc" -eq 0 ]

# -- sockets and devices are metadata only; a path deeper than PATH_MAX
$PY -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$R/var/log/app.sock"
if is_root; then mknod "$R/var/log/null-dev" c 1 3; fi
deep="$R/var/log/deep"
mkdir -p "$deep"
(cd "$deep" && for i in $(seq 1 22); do mkdir "$(printf 'd%.0s' {1..200})" && cd "$(printf 'd%.0s' {1..200})"; done && echo "deep content" > leaf.log)
collect --root "$R" --out "$W/out2" --include '/var/log/**'
check "collect with odd files: exit 0 ($RC)" [ "$RC" -eq 0 ]
# GNU tar cannot create a path longer than PATH_MAX: take only the members needed here
mkdir -p "$W/x2"
tar -xf "$ARCHIVE" -C "$W/x2" --wildcards '*/manifest.json' '*/-dash*'
STEM=$(ls "$W/x2"); MF=$W/x2/$STEM/manifest.json
check "unix socket recorded, never opened" jq -e '.entries[] | select(.path == "/var/log/app.sock") | select(.type == "socket" and .member == null)' "$MF"
if is_root; then
    check "char device recorded, never opened" jq -e '.entries[] | select(.path == "/var/log/null-dev") | select(.type == "chardev" and .member == null)' "$MF"
fi
check "a path longer than PATH_MAX is collected" jq -e '.entries[] | select(.path | endswith("/leaf.log")) | select((.path | length) > 4096 and .status == "ok")' "$MF"
check "  and listed in full" bash -c "'$CUSTODY' list '$ARCHIVE' | grep -q 'leaf.log\$'"
set +e; "$CUSTODY" extract "$ARCHIVE" --to "$W/e2" > "$W/e2.out" 2>&1; erc=$?; set -e
check "  and extracted by custody byte for byte (exit $erc)" bash -c \
    "[ $erc -eq 0 ] && cd '$W/e2/$STEM/fs/var/log/deep' && for i in \$(seq 1 22); do cd \$(printf 'd%.0s' {1..200}) || exit 1; done && [ \"\$(cat leaf.log)\" = 'deep content' ]"
check "names with tabs, pipes and leading dashes round-trip" cmp "$R/var/log/-dash|pipe	tab.log" "$W/x2/$STEM/fs/var/log/-dash|pipe	tab.log"

# -- a sparse file over 4 GiB: stored sparse, holes never read, digest of the logical content
SP=$W/sparse
mkdir -p "$SP/data"
truncate -s 5G "$SP/data/big.img"
echo START | dd of="$SP/data/big.img" conv=notrunc 2>/dev/null
echo MIDDLE | dd of="$SP/data/big.img" bs=1 seek=$((2560 << 20)) conv=notrunc 2>/dev/null
echo END | dd of="$SP/data/big.img" bs=1 seek=$(((5 << 30) - 4096)) conv=notrunc 2>/dev/null
collect --root "$SP" --out "$W/out-sparse" --include '/data/**'
check "sparse 5 GiB file: collect exit 0" [ "$RC" -eq 0 ]
check "  the archive stays small (holes not stored)" [ "$(stat -c %s "$ARCHIVE")" -lt 1048576 ]
mkdir -p "$W/xs" "$W/xsb"
tar -xf "$ARCHIVE" -C "$W/xs"
STEM=$(ls "$W/xs"); MF=$W/xs/$STEM/manifest.json
check "  entry: size 5 GiB, flagged sparse, little read from disk" jq -e \
    '.entries[] | select(.path == "/data/big.img") | select(.size == 5368709120 and (.flags | index("sparse")) and .collected_bytes < 1048576)' "$MF"
check "  GNU tar restores it sparse, full size" bash -c \
    "[ \$(stat -c %s '$W/xs/$STEM/fs/data/big.img') -eq 5368709120 ] && [ \$(stat -c %b '$W/xs/$STEM/fs/data/big.img') -lt 4096 ]"
check "  sha256sum of the restored file = the manifest's digest" bash -c \
    "[ \"\$(sha256sum < '$W/xs/$STEM/fs/data/big.img' | cut -d' ' -f1)\" = \"\$(jq -r '.entries[] | select(.path == \"/data/big.img\") | .sha256' '$MF')\" ]"
bsdtar -xf "$ARCHIVE" -C "$W/xsb"
check "  bsdtar restores the same bytes" cmp "$W/xs/$STEM/fs/data/big.img" "$W/xsb/$STEM/fs/data/big.img"
set +e; "$CUSTODY" verify "$ARCHIVE" > /dev/null 2>&1; vrc=$?; set -e
check "  and custody verify agrees" [ "$vrc" -eq 0 ]
rm -rf "$SP" "$W/xs" "$W/xsb"

# -- unprivileged: what cannot be read is an error entry, the run goes on, exit 1
if is_root && command -v setpriv >/dev/null; then
    chmod 0600 "$R/etc/shadow"
    mkdir -p "$W/np"; chmod 0777 "$W/np"
    chmod o+rx "$W" "$CUSTODY_WORK" 2>/dev/null || true
    set +e
    setpriv --reuid=65534 --regid=65534 --clear-groups "$CUSTODY" collect --root "$R" --out "$W/np" \
        --include '/etc/*' > "$W/np.out" 2> "$W/np.err"
    nrc=$?
    set -e
    check "unprivileged run: exit 1 (evidence errors)" [ "$nrc" -eq 1 ]
    A=$(tail -n 1 "$W/np.out")
    unpack "$A" "$W/xnp"
    check "  /etc/shadow is an EACCES error entry" jq -e '.entries[] | select(.path == "/etc/shadow") | select(.status == "error" and .error.errno == "EACCES")' "$MF"
    check "  readable files were still collected" jq -e '.entries[] | select(.path == "/etc/passwd") | select(.status == "ok")' "$MF"
    check "  the manifest records uid 65534 and no capabilities" jq -e '.collection.euid == 65534 and .collection.capabilities == "0000000000000000"' "$MF"
    check "  atime-not-preserved is said where O_NOATIME was refused" jq -e '.entries[] | select(.path == "/etc/passwd") | .flags | index("atime-not-preserved")' "$MF"
else
    echo "SKIP: not root or no setpriv: the unprivileged-run check did not run"
fi

# -- strictatime: every read would move atime unless O_NOATIME works
if is_root; then
    S=$W/strict
    mkdir -p "$S"
    if mount -t tmpfs -o strictatime,size=64m tmpfs "$S" 2>/dev/null; then
        trap 'umount "$S" 2>/dev/null || true' EXIT
        make_fixture "$S/root"
        times_prepare "$S/root" "$W/strict.paths"
        times_stat "$S/root" "$W/strict.paths" > "$W/strict.before"
        collect --root "$S/root" --out "$W/out-strict"
        times_stat "$S/root" "$W/strict.paths" > "$W/strict.after"
        check "strictatime mount: collect exit 0" [ "$RC" -eq 0 ]
        check "strictatime mount: atime, mtime, ctime of every file and directory unchanged" diff "$W/strict.before" "$W/strict.after"
        check "  (the directories were listed: the check covers them)" grep -q '^./etc ' "$W/strict.before"
        cat "$S/root/etc/hosts" > /dev/null
        check "  (and a plain read there does move atime: the check can fail)" \
            bash -c "[ \"\$(stat -c %X '$S/root/etc/hosts')\" != \"\$(grep -a '^./etc/hosts ' '$W/strict.before' | cut -d' ' -f2)\" ]"
        umount "$S"; trap - EXIT
    else
        echo "SKIP: cannot mount a tmpfs here: the strictatime check did not run"
    fi
else
    echo "SKIP: not root: the strictatime check did not run"
fi
finish
