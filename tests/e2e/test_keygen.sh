# keygen: the key files work with openssl, the fingerprint is the SHA-256 of the DER public
# key, nothing is overwritten, passphrase protection is real, and a passphrase-protected
# key signs a collection.
source "$(dirname "$0")/lib.sh"

set +e
"$CUSTODY" keygen --out "$W/k" > "$W/out" 2> "$W/err"; rc=$?
set -e
check "keygen exits 0" [ "$rc" -eq 0 ]
check "private key mode 0600" [ "$(stat -c %a "$W/k.key")" = 600 ]
check "openssl reads the private key" openssl pkey -in "$W/k.key" -noout
check "it is Ed25519" bash -c "openssl pkey -in '$W/k.key' -text -noout | grep -qi 'ED25519'"
fp=$(sed -n 's/.*fingerprint: \([0-9a-f]\{64\}\).*/\1/p' "$W/err")
check "fingerprint = sha256 of the DER public key" \
    [ "$fp" = "$(openssl pkey -pubin -in "$W/k.pub" -outform DER | sha256sum | cut -d' ' -f1)" ]
echo "some bytes" > "$W/f"
openssl pkeyutl -sign -inkey "$W/k.key" -rawin -in "$W/f" -out "$W/f.sig"
check "openssl signs with the key and verifies with the .pub" \
    openssl pkeyutl -verify -pubin -inkey "$W/k.pub" -rawin -in "$W/f" -sigfile "$W/f.sig"

before=$(sha256sum "$W/k.key" "$W/k.pub")
set +e
"$CUSTODY" keygen --out "$W/k" > /dev/null 2>&1; rc=$?
set -e
check "a second keygen to the same prefix exits 2" [ "$rc" -eq 2 ]
check "  and leaves the files unchanged" [ "$before" = "$(sha256sum "$W/k.key" "$W/k.pub")" ]

echo "correct horse battery staple" > "$W/pass"
"$CUSTODY" keygen --out "$W/k2" --passphrase-file "$W/pass" > /dev/null 2>&1
check "encrypted key: a wrong passphrase fails" bash -c "! openssl pkey -in '$W/k2.key' -passin pass:wrong -noout 2>/dev/null"
check "encrypted key: the right one works" openssl pkey -in "$W/k2.key" -passin "file:$W/pass" -noout
check "encrypted key file is PKCS#8 encrypted PEM" grep -q 'BEGIN ENCRYPTED PRIVATE KEY' "$W/k2.key"

# A collection signed with the passphrase-protected key.
R=$W/root; mkdir -p "$R/etc"; echo "x" > "$R/etc/hosts"
collect --root "$R" --out "$W/o" --include /etc/hosts --sign-key "$W/k2.key" --passphrase-file "$W/pass"
check "collect signs with a passphrase-protected key" [ "$RC" -eq 0 ]
set +e
"$CUSTODY" verify "$ARCHIVE" --pubkey "$W/k2.pub" > /dev/null 2>&1; vrc=$?
echo "wrong" > "$W/badpass"
"$CUSTODY" collect --root "$R" --out "$W/o2" --include /etc/hosts --sign-key "$W/k2.key" \
    --passphrase-file "$W/badpass" > /dev/null 2>&1; brc=$?
CUSTODY_PASSPHRASE="correct horse battery staple" "$CUSTODY" collect --root "$R" --out "$W/o3" \
    --include /etc/hosts --sign-key "$W/k2.key" > /dev/null 2>&1 </dev/null; erc=$?
"$CUSTODY" keygen > /dev/null 2>&1; nrc=$?
set -e
check "  and it verifies with the pinned .pub" [ "$vrc" -eq 0 ]
check "a wrong passphrase: collect exits 2" [ "$brc" -eq 2 ]
check "  and writes no archive" bash -c "! ls '$W/o2'/*.tar.zst >/dev/null 2>&1"
check "CUSTODY_PASSPHRASE is taken from the environment" [ "$erc" -eq 0 ]
check "keygen without --out exits 2" [ "$nrc" -eq 2 ]
# An ephemeral key never touches the disk: only the public key is written.
collect --root "$R" --out "$W/o4" --include /etc/hosts
check "ephemeral run writes no private key" bash -c "! grep -rl 'PRIVATE KEY' '$W/o4'"
finish
