# collect --split: parts no larger than SIZE, each a complete archive (tar lists it, its
# manifest.sig verifies with openssl), the union of the parts' members is the whole
# collection, the last part carries the collection manifest; verify checks the set from
# any part or the folder, names a missing or damaged part and still checks the others;
# a file larger than a part is skipped with the reason; zip and encrypted parts.
source "$(dirname "$0")/lib.sh"

for t in jq tar age unzip; do
    command -v $t > /dev/null || skip "$t is not installed ('make deps')"
done
C=$CUSTODY
R=$W/root
make_fixture "$R"
mkdir -p "$R/data"
for i in $(seq 1 30); do   # incompressible, 2 KB to ~200 KB
    head -c $(( (i * 7919 % 97) * 2048 + 2000 )) /dev/urandom > "$R/data/f$i.bin"
done
head -c 400000 /dev/urandom > "$R/data/huge.bin"   # larger than a part
SIZE=256K; LIMIT=$((256 * 1024))
INC=(--include '/data/**' --include '/etc/**' --include '/var/log/**')

collect --root "$R" --out "$W/out" --split $SIZE --compress none "${INC[@]}"
check "collect --split exits 0 ($RC)" [ "$RC" -eq 0 ]
mapfile -t PARTS < <(ls "$W/out"/*.part[0-9][0-9][0-9].tar)
N=${#PARTS[@]}
check "several parts ($N)" [ "$N" -ge 3 ]
check "stdout lists every part, the last line the last part" bash -c \
    "[ \"\$(cat '$W/collect.out')\" = \"\$(printf '%s\n' ${PARTS[*]})\" ]"
big=0; for p in "${PARTS[@]}"; do [ "$(stat -c %s "$p")" -le $LIMIT ] || big=1; done
check "no part is larger than $SIZE" [ "$big" -eq 0 ]
allok=1; : > "$W/members"
for p in "${PARTS[@]}"; do
    x=$W/x/$(basename "$p"); mkdir -p "$x"
    tar -xf "$p" -C "$x" || allok=0
    tar -tf "$p" >> "$W/members" || allok=0
    st=$(ls "$x")
    openssl pkeyutl -verify -pubin -inkey "$ARCHIVE.pub" -rawin -in "$x/$st/manifest.json" \
        -sigfile "$x/$st/manifest.sig" > /dev/null || allok=0
    (cd "$W/out" && sha256sum -c --quiet "$(basename "$p").sha256") || allok=0
    $PY "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$x/$st/manifest.json" > /dev/null || allok=0
    tail_two=$(tar -tf "$p" | tail -n 2 | tr '\n' ' ')
    [ "$tail_two" = "$st/manifest.json $st/manifest.sig " ] || allok=0
done
check "each part: tar lists it, openssl verifies its manifest.sig, sidecar, schema, manifest last" [ "$allok" -eq 1 ]
STEM=$(ls "$W/x/$(basename "${PARTS[0]}")")
LAST=$W/x/$(basename "${PARTS[N-1]}")/$STEM
CM=$LAST/collection-manifest.json
check "the last part carries the collection manifest, signed" \
    openssl pkeyutl -verify -pubin -inkey "$ARCHIVE.pub" -rawin -in "$CM" -sigfile "$LAST/collection-manifest.sig"
check "collection manifest validates against the schema" $PY "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$CM"
check "the part size is recorded with the limits" jq -e ".collection.limits.split_bytes == $LIMIT" "$CM"
check "part objects: index i of null, the last of N" bash -c "
    for i in \$(seq 1 $N); do
      f=\$(printf '%s/x/%s.part%03d.tar/%s/manifest.json' '$W' '$STEM' \$i '$STEM')
      want=null; [ \$i -eq $N ] && want=$N
      jq -e --argjson i \$i --argjson of \$want '.part.index == \$i and .part.of == \$of and .part.collection == \"$STEM\"' \"\$f\" > /dev/null || exit 1
    done"
check "collection manifest lists every part with its size and sha256 (the last one's null)" bash -c "
    for i in \$(seq 1 $((N - 1))); do
      f=\$(printf '%s.part%03d.tar' '$STEM' \$i)
      jq -e --arg f \"\$f\" --argjson s \$(stat -c %s '$W/out/'\$f) --arg h \$(sha256sum '$W/out/'\$f | cut -d' ' -f1) \
        '.parts[] | select(.file == \$f) | select(.size == \$s and .sha256 == \$h)' '$CM' > /dev/null || exit 1
    done
    jq -e '(.parts | length) == $N and .parts[-1].size == null' '$CM' > /dev/null"
# Union of the parts' members = every member of the collection manifest, each once.
grep -v -e '/manifest\.json$' -e '/manifest\.sig$' -e '/collection-manifest\.' "$W/members" | sort > "$W/union"
jq -r '.entries[] | select(.member != null and .member_b64 == null) | .member' "$CM" | sort > "$W/listed"
check "union of the parts' members = the collection's members, no duplicates" bash -c \
    "diff <(grep -v -e new -e bad -e tab -e line.log '$W/union') <(grep -v -e new -e bad -e tab -e line.log '$W/listed') && [ -z \"\$(uniq -d '$W/union')\" ]"
check "every data file is collected but the one larger than a part" bash -c "
    [ \$(jq '[.entries[] | select(.path | startswith(\"/data/f\")) | select(.status == \"ok\")] | length' '$CM') -eq 30 ]"
check "the file larger than a part is skipped with the reason" \
    jq -e '.entries[] | select(.path == "/data/huge.bin") | select(.status == "skipped" and .member == null and (.reason | test("split")))' "$CM"
check "entries of all parts' manifests = the collection manifest's entries (+2 for it)" bash -c "
    [ \$(cat '$W'/x/*/'$STEM'/manifest.json | jq -s '[.[].entries[]] | length') -eq \$(( \$(jq '.entries | length' '$CM') + 2 )) ]"

# verify: the set, from the first part, a middle part, the folder.
for arg in "${PARTS[0]}" "${PARTS[1]}" "$W/out"; do
    set +e; "$C" verify "$arg" --pubkey "$ARCHIVE.pub" > "$W/v.out" 2>&1; vr=$?; set -e
    check "verify $(basename "$arg") checks the set: OK ($vr)" bash -c \
        "[ $vr -eq 0 ] && grep -q 'verify: OK' '$W/v.out' && [ \$(grep -c '^part [0-9]*: OK' '$W/v.out') -eq $N ]"
done

# A missing middle part: exit 1, named; the others still verified.
cp -r "$W/out" "$W/miss"
MID=$(basename "${PARTS[1]}")
rm "$W/miss/$MID"
set +e; "$C" verify "$W/miss/$(basename "${PARTS[0]}")" > "$W/v.out" 2>&1; vr=$?; set -e
check "missing middle part: exit 1 and named ($vr)" bash -c "[ $vr -eq 1 ] && grep -q 'MISSING PART $MID' '$W/v.out'"
check "  the other parts still verify" bash -c "[ \$(grep -c '^part [0-9]*: OK' '$W/v.out') -eq $((N - 1)) ]"
for p in "${PARTS[@]}"; do [ "$(basename "$p")" = "$MID" ] && continue
    tar -tf "$W/miss/$(basename "$p")" > /dev/null || fail "part $(basename "$p") unreadable"; done

# A corrupted part: named as damaged.
cp -r "$W/out" "$W/dmg"
P1=$(basename "${PARTS[0]}")
printf '\x00\x01\x02' | dd of="$W/dmg/$P1" bs=1 seek=30000 conv=notrunc 2> /dev/null
set +e; "$C" verify "$W/dmg" > "$W/v.out" 2>&1; vr=$?; set -e
check "corrupted part: exit 1 and named as damaged ($vr)" bash -c "[ $vr -eq 1 ] && grep -q 'DAMAGED PART $P1' '$W/v.out'"
check "  the others still verify" bash -c "[ \$(grep -c '^part [0-9]*: OK' '$W/v.out') -eq $((N - 1)) ]"

# The last part lost: no collection manifest, named.
cp -r "$W/out" "$W/nolast"
rm "$W/nolast/$(basename "${PARTS[N-1]}")"
set +e; "$C" verify "$W/nolast" > "$W/v.out" 2>&1; vr=$?; set -e
check "last part lost: exit 1, no collection manifest ($vr)" bash -c "[ $vr -eq 1 ] && grep -q 'NO COLLECTION MANIFEST' '$W/v.out'"

# zip parts
collect --root "$R" --out "$W/zout" --split $SIZE --format zip --compress none "${INC[@]}"
mapfile -t ZP < <(ls "$W/zout"/*.part[0-9][0-9][0-9].zip)
big=0; for p in "${ZP[@]}"; do [ "$(stat -c %s "$p")" -le $LIMIT ] || big=1; unzip -tq "$p" > /dev/null || big=2; done
check "zip parts: exit 0 ($RC), ${#ZP[@]} parts, none larger than $SIZE, unzip -t passes each ($big)" \
    bash -c "[ $RC -eq 0 ] && [ ${#ZP[@]} -ge 3 ] && [ $big -eq 0 ]"
check "zip parts: verify the set" bash -c "'$C' verify '$W/zout' | grep -q 'verify: OK'"

# encrypted parts (deflate-free: zstd over random data)
"$C" keygen --age --out "$W/k" > /dev/null 2>&1
collect --root "$R" --out "$W/eout" --split $SIZE --encrypt-to "$W/k.age.pub" "${INC[@]}"
mapfile -t EP < <(ls "$W/eout"/*.part[0-9][0-9][0-9].tar.zst.age)
big=0; for p in "${EP[@]}"; do [ "$(stat -c %s "$p")" -le $LIMIT ] || big=1
    age -d -i "$W/k.age.key" "$p" | tar --zstd -tf - > /dev/null || big=2; done
check "encrypted parts: exit 0 ($RC), ${#EP[@]} parts, none larger, age -d | tar -t each ($big)" \
    bash -c "[ $RC -eq 0 ] && [ ${#EP[@]} -ge 3 ] && [ $big -eq 0 ]"
check "encrypted parts: verify the set with --identity" bash -c \
    "'$C' verify '${EP[0]}' --identity '$W/k.age.key' | grep -q 'verify: OK'"
check "no plaintext part in --out" bash -c "! ls '$W/eout' | grep -Eq '\\.tar\\.zst\$'"

set +e; "$C" collect --root "$R" --out "$W/o9" --split 1K > /dev/null 2>&1; b=$?; set -e
check "--split below 64K exits 2" [ "$b" -eq 2 ]
# Many entries, small parts: the collection manifest alone is larger than a part. It must
# still be carried whole by the last part, and the log must say that part is over SIZE.
mkdir -p "$W/many/d"
for i in $(seq 1 400); do echo "$i" > "$W/many/d/f$i"; done
collect --root "$W/many" --out "$W/mout" --split 64K --compress none --include '/**'
check "400 entries at --split 64K: exit 0" [ "$RC" -eq 0 ]
last=$(tail -n 1 "$W/collect.out")
check "  the warning that the last part is over SIZE is printed" grep -q 'does not fit in a part of --split' "$W/collect.err"
check "  the last part carries the whole collection manifest (400 files listed)" \
    bash -c "[ \$(tar -xOf '$last' --wildcards '*/collection-manifest.json' | jq '[.entries[] | select(.path | startswith(\"/d/\"))] | length') -eq 400 ]"
check "  and the set verifies" bash -c "'$C' verify '$W/mout' > /dev/null 2>&1"
finish
