# Tampering with a real collection is caught by custody verify, and an intact one passes,
# also with the key pinned. Each tampered archive is rebuilt with GNU tar from the members.
source "$(dirname "$0")/lib.sh"

R=$W/root
make_fixture "$R"
custody_verify() { set +e; "$CUSTODY" verify "$@" > "$W/verify.out" 2>&1; VRC=$?; set -e; }

"$CUSTODY" keygen --out "$W/lab" > /dev/null 2>&1
"$CUSTODY" keygen --out "$W/other" > /dev/null 2>&1
collect --root "$R" --out "$W/out" --sign-key "$W/lab.key"
check "collect with a lab key: exit 0" [ "$RC" -eq 0 ]
check "no .pub written for a lab key" test ! -e "$ARCHIVE.pub"
custody_verify "$ARCHIVE"
check "intact archive verifies (exit 0)" [ "$VRC" -eq 0 ]
check "unpinned verification says so" grep -qi 'not pinned' "$W/verify.out"
custody_verify "$ARCHIVE" --pubkey "$W/lab.pub"
check "verifies with the pinned lab key" [ "$VRC" -eq 0 ]
custody_verify "$ARCHIVE" --pubkey "$W/other.pub"
check "another key: exit 1" [ "$VRC" -eq 1 ]

unpack "$ARCHIVE" "$W/x"
tar -tf "$ARCHIVE" > "$W/order"
# rebuild NAME [LISTFILE]: tar the tree in $W/x in the order of LISTFILE (default: original)
rebuild() {
    local out=$W/$1.tar.zst list=${2:-$W/order}
    (cd "$W/x" && tar --format=posix --zstd --no-recursion -cf "$out" -T "$list")
    echo "$out"
}
reset_tree() { unpack "$ARCHIVE" "$W/x"; }

reset_tree
A=$(rebuild same)
custody_verify "$A"
check "an untouched rebuild still verifies" [ "$VRC" -eq 0 ]

reset_tree
printf 'X' | dd of="$W/x/$STEM/fs/etc/passwd" bs=1 seek=3 conv=notrunc 2>/dev/null
A=$(rebuild byte)
custody_verify "$A"
check "a changed byte in a member: exit 1" [ "$VRC" -eq 1 ]
check "  and the member is named" grep -q 'fs/etc/passwd' "$W/verify.out"

# The manifest edited to match the changed member: the signature catches it.
new=$(sha256sum "$W/x/$STEM/fs/etc/passwd" | cut -d' ' -f1)
jq -c --arg h "$new" '(.entries[] | select(.path == "/etc/passwd") | .sha256) = $h' \
    "$MF" > "$W/mf.json"
cp "$W/mf.json" "$MF"
A=$(rebuild edited)
custody_verify "$A" --pubkey "$W/lab.pub"
check "a manifest edited to match: exit 1 (signature)" [ "$VRC" -eq 1 ]
check "  reported as a signature failure" grep -qi 'signature' "$W/verify.out"

reset_tree
grep -v 'fs/etc/shadow$' "$W/order" > "$W/order.removed"
A=$(rebuild removed "$W/order.removed")
custody_verify "$A"
check "a removed member: exit 1" [ "$VRC" -eq 1 ]
check "  reported missing" grep -qi 'missing' "$W/verify.out"

reset_tree
echo 'planted' > "$W/x/$STEM/fs/etc/planted"
{ head -n 1 "$W/order"; echo "$STEM/fs/etc/planted"; tail -n +2 "$W/order"; } > "$W/order.added"
A=$(rebuild added "$W/order.added")
custody_verify "$A"
check "an added member: exit 1" [ "$VRC" -eq 1 ]
check "  reported extra" grep -qi 'extra' "$W/verify.out"

reset_tree
"$CUSTODY" collect --root "$R" --out "$W/out2" --sign-key "$W/lab.key" --include '/etc/hosts' > "$W/c2.out" 2>/dev/null || true
A2=$(tail -n 1 "$W/c2.out")
mkdir -p "$W/x2" && tar -xf "$A2" -C "$W/x2"
cp "$W/x2"/*/manifest.sig "$W/x/$STEM/manifest.sig"
A=$(rebuild swapped)
custody_verify "$A" --pubkey "$W/lab.pub"
check "a swapped signature (same key, other manifest): exit 1" [ "$VRC" -eq 1 ]

reset_tree
cp "$ARCHIVE" "$W/side.tar.zst"
echo "0000000000000000000000000000000000000000000000000000000000000000  side.tar.zst" > "$W/side.tar.zst.sha256"
custody_verify "$W/side.tar.zst"
check "a sidecar that does not match: exit 1" [ "$VRC" -eq 1 ]

head -c 3000 "$ARCHIVE" > "$W/trunc.tar.zst"
custody_verify "$W/trunc.tar.zst"
check "a truncated archive: exit 1 or 2, no crash ($VRC)" bash -c "[ $VRC -eq 1 ] || [ $VRC -eq 2 ]"
head -c 4096 /dev/urandom > "$W/garbage.tar.zst"
custody_verify "$W/garbage.tar.zst"
check "garbage: exit 2" [ "$VRC" -eq 2 ]

# Hostile manifests: verify and list must answer (1 or 2), never crash or hang.
hostile() { # hostile NAME MANIFEST-TEXT [order]: an archive with that manifest and a junk signature
    local d=$W/h-$1
    mkdir -p "$d/s/fs/etc"
    echo data > "$d/s/fs/etc/hosts"
    printf '%s' "$2" > "$d/s/manifest.json"
    head -c 64 /dev/urandom > "$d/s/manifest.sig"
    if [ "${3:-}" = misordered ]; then
        (cd "$d" && tar --format=posix --zstd -cf "$W/h-$1.tar.zst" s/manifest.json s/fs/etc/hosts s/manifest.sig)
    else
        (cd "$d" && tar --format=posix --zstd -cf "$W/h-$1.tar.zst" s/fs/etc/hosts s/manifest.json s/manifest.sig)
    fi
}
deep=$(printf '[%.0s' $(seq 1 100000))
hostile huge-number '{"format":"custody-manifest/1","entries":[{"member":"s/fs/etc/hosts","type":"file","size":1e999999,"sha256":"00"}]}'
hostile deep-nesting "{\"format\":\"custody-manifest/1\",\"entries\":$deep"
hostile bad-utf8 "$(printf '{"format":"custody-manifest/1","entries":[{"member":"s/fs/etc/\xff\xfe","type":"file"}]}')"
hostile duplicate-keys '{"format":"custody-manifest/1","format":"x","entries":[]}'
hostile not-an-object '[1,2,3]'
hostile bad-b64 '{"format":"custody-manifest/1","entries":[{"member":"x","member_b64":"!!!","type":"file","sha256":"ab"}]}'
hostile misordered '{"format":"custody-manifest/1","entries":[{"member":"s/fs/etc/hosts","type":"file","sha256":"00"}]}' misordered
for n in huge-number deep-nesting bad-utf8 duplicate-keys not-an-object bad-b64 misordered; do
    set +e
    timeout 60 "$CUSTODY" verify "$W/h-$n.tar.zst" > "$W/h-$n.verify" 2>&1; v=$?
    timeout 60 "$CUSTODY" list "$W/h-$n.tar.zst" > "$W/h-$n.list" 2>&1; l=$?
    set -e
    check "hostile manifest ($n): verify fails cleanly (exit $v)" [ "$v" -eq 1 ]
    check "hostile manifest ($n): list answers without crashing (exit $l)" bash -c "[ $l -eq 0 ] || [ $l -eq 2 ]"
done
check "a misordered manifest is reported" grep -q '^ORDER' "$W/h-misordered.verify"
# A hostile collection-manifest.sig far larger than a signature, read in several pieces
# (a crash in the reader once: the length check wrapped).
mkdir -p "$W/evil/x"
head -c 300000 /dev/urandom > "$W/evil/x/collection-manifest.sig"
echo '{}' > "$W/evil/x/manifest.json"
(cd "$W/evil" && tar cf evil.tar x/manifest.json x/collection-manifest.sig)
set +e
"$CUSTODY" verify "$W/evil/evil.tar" > /dev/null 2>&1; v=$?
"$CUSTODY" list "$W/evil/evil.tar" > /dev/null 2>&1; l=$?
set -e
check "an oversized collection-manifest.sig: verify fails cleanly (exit $v)" [ "$v" -eq 1 ]
check "  and list answers without crashing (exit $l)" [ "$l" -eq 2 ]
finish
