# collect --format zip: unzip -t and 7z t pass; unzip's bytes match the manifest; zip64 extra
# fields are there; collection.format; custody verify, list and extract; a flipped byte in
# a stored member fails verify; encrypted zip (.zip.age) verifies through the decryptor
# (the streaming zip reader); symlinks, sparse files, non-UTF-8 and long names.
source "$(dirname "$0")/lib.sh"

for t in unzip zipinfo 7z jq age; do
    command -v $t > /dev/null || skip "$t is not installed (Debian packages unzip, p7zip-full, age; 'make deps')"
done
C=$CUSTODY
R=$W/root
make_fixture "$R"
head -c 300000 /dev/urandom > "$R/var/log/random.log"
# sparse: 3 MiB with a little data in the middle (zip has no sparse map: stored as zeros)
truncate -s 3M "$R/var/log/sparse.log"
echo data | dd of="$R/var/log/sparse.log" bs=1 seek=1000000 conv=notrunc 2> /dev/null
LONG=$R/var/log/$(printf 'd%.0s' $(seq 200))/$(printf 'e%.0s' $(seq 200))
mkdir -p "$LONG"
echo long > "$LONG/$(printf 'f%.0s' $(seq 240)).log"

collect --root "$R" --out "$W/out" --format zip --case Z1
check "collect --format zip exits 0 ($RC)" [ "$RC" -eq 0 ]
check "archive named <stem>.zip" bash -c "basename '$ARCHIVE' | grep -Eq '^fixturehost-[0-9]{8}T[0-9]{6}Z-Z1\\.zip\$'"
check "sidecar checks with sha256sum -c" bash -c "cd '$W/out' && sha256sum -c --quiet '$(basename "$ARCHIVE").sha256'"
check "unzip -t passes" bash -c "unzip -t '$ARCHIVE' > '$W/unzip-t.out' 2>&1"
check "7z t passes" bash -c "7z t '$ARCHIVE' > '$W/7z.out' 2>&1 && grep -q 'Everything is Ok' '$W/7z.out'"
# zip64 (version 4.5 to extract, the 0x0001 extra field in each local header) on every
# regular file member
check "zip64 on every file member (zipinfo -v: version 4.5)" bash -c \
    "[ \$(zipinfo -v '$ARCHIVE' | grep -c 'minimum software version required to extract: *4\.5') -eq \$(zipinfo -l '$ARCHIVE' | grep -c '^-') ]"
check "manifest.json and manifest.sig are the last two members" bash -c \
    "zipinfo -1 '$ARCHIVE' | tail -n 2 | tr '\n' ' ' | grep -Eq '/manifest\\.json [^ ]*/manifest\\.sig \$'"
mkdir -p "$W/x"
(cd "$W/x" && unzip -q "$ARCHIVE" 2> /dev/null || true)
STEM=$(ls "$W/x")
MF=$W/x/$STEM/manifest.json
check "manifest validates against the JSON Schema" $PY "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$MF"
check "collection.format is zip, compress deflate" jq -e '.collection.format == "zip" and .collection.compress == "deflate"' "$MF"
check "openssl verifies manifest.sig with the .pub key" \
    openssl pkeyutl -verify -pubin -inkey "$ARCHIVE.pub" -rawin -in "$MF" -sigfile "$W/x/$STEM/manifest.sig"
jq -r '.entries[] | select(.sha256 != null and .member_b64 == null and .type == "file")
       | select(.member | test("[\\n\\t\\\\]") | not) | "\(.sha256)  \(.member)"' "$MF" > "$W/sums"
check "sha256sum list covers the plain names" bash -c "[ \$(wc -l < '$W/sums') -ge 15 ]"
check "sha256sum of every file unzip extracted equals the manifest" bash -c "cd '$W/x' && sha256sum -c --quiet '$W/sums'"
check "the sparse file is stored whole (zeros), its digest the logical content" bash -c \
    "[ \"\$(jq -r '.entries[] | select(.path == \"/var/log/sparse.log\") | .sha256' '$MF')\" = \"\$(sha256sum < '$R/var/log/sparse.log' | cut -d' ' -f1)\" ]"

set +e
"$C" verify "$ARCHIVE" > "$W/verify.out" 2>&1; vr=$?
"$C" list "$ARCHIVE" > "$W/list.out" 2>&1; lr=$?
"$C" extract "$ARCHIVE" --to "$W/ex" > "$W/extract.out" 2>&1; er=$?
set -e
check "custody verify passes ($vr)" bash -c "[ $vr -eq 0 ] && grep -q 'verify: OK' '$W/verify.out' && grep -q ' 0 problems' '$W/verify.out'"
check "custody list lists the entries ($lr)" bash -c "[ $lr -eq 0 ] && grep -q '/etc/passwd' '$W/list.out'"
check "custody extract extracts ($er)" bash -c "[ $er -eq 0 ] && cmp '$W/ex/$STEM/fs/etc/passwd' '$R/etc/passwd'"
check "the symlink comes back as a symlink" bash -c "[ \"\$(readlink '$W/ex/$STEM/fs/var/log/link-to-shadow')\" = /etc/shadow ]"
check "the non-UTF-8 name is kept byte for byte" bash -c "ls '$W/ex/$STEM/fs/var/log/' | od -c | grep -q '377'"
check "the long name is kept" bash -c "find '$W/ex' -name 'ffff*.log' | grep -q ."

# Tamper: a stored member's byte.
collect --root "$R" --out "$W/out2" --format zip --compress none --include '/var/log/random.log'
check "--compress none: stored members" bash -c "zipinfo -v '$ARCHIVE' | grep -q 'compression method:.*none (stored)'"
check "stored zip verifies" "$C" verify "$ARCHIVE" > /dev/null
off=$(grep -obUaP 'fs/var/log/random\.log' "$ARCHIVE" | head -n 1 | cut -d: -f1)
cp "$ARCHIVE" "$W/tampered.zip"
printf '\x00' | dd of="$W/tampered.zip" bs=1 seek=$((off + 5000)) conv=notrunc 2> /dev/null
set +e; "$C" verify "$W/tampered.zip" > "$W/tv.out" 2>&1; tr=$?; set -e
check "a flipped byte in a stored member fails verify with exit 1 ($tr)" bash -c \
    "[ $tr -eq 1 ] && grep -Eq 'MISMATCH|UNREADABLE' '$W/tv.out'"

# Encrypted zip: verify reads through the decryptor (streaming).
"$C" keygen --age --out "$W/k" > /dev/null 2>&1
collect --root "$R" --out "$W/out3" --format zip --encrypt-to "$W/k.age.pub"
check "encrypted zip named .zip.age ($RC)" bash -c "[ $RC -eq 0 ] && [[ '$ARCHIVE' == *.zip.age ]]"
check "custody verify --identity passes" bash -c "'$C' verify '$ARCHIVE' --identity '$W/k.age.key' | grep -q 'verify: OK'"
check "age -d gives a zip that unzip -t passes" bash -c \
    "age -d -i '$W/k.age.key' -o '$W/dec.zip' '$ARCHIVE' && unzip -tq '$W/dec.zip'"
check "custody list --identity" bash -c "'$C' list '$ARCHIVE' --identity '$W/k.age.key' | grep -q /etc/passwd"

# A zip over 4 GiB would be slow to write (zip has no sparse map): zip64 is forced on every
# member instead (checked above); pax stays the default.
collect --root "$R" --out "$W/out4" --include /etc/hosts
check "default is still pax (.tar.zst, collection.format pax)" bash -c \
    "[[ '$ARCHIVE' == *.tar.zst ]] && tar -xOf '$ARCHIVE' --wildcards '*/manifest.json' | jq -e '.collection.format == \"pax\"' > /dev/null"
set +e
"$C" collect --root "$R" --out "$W/out5" --format rar > /dev/null 2>&1; b1=$?
"$C" collect --root "$R" --out "$W/out5" --compress deflate > /dev/null 2>&1; b2=$?
set -e
check "--format rar exits 2" [ "$b1" -eq 2 ]
check "--compress deflate without zip exits 2" [ "$b2" -eq 2 ]
finish
