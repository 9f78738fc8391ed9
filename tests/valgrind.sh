# valgrind memcheck over every verb on a real fixture (collect live and dead-box, with the
# exchange-proxylogon content tests, encrypted; verify, list, extract, keygen, decrypt): any
# memory error or definite leak fails. Prints the closing
# "N passed, N failed" line.
source "$(dirname "$0")/e2e/lib.sh"
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-fds=no)
vg() { # vg NAME ARGS...: run custody under valgrind; a memcheck error exits 99
    local name=$1; shift
    set +e; "${VG[@]}" "$CUSTODY" "$@" > "$W/$name.out" 2> "$W/$name.err"; local rc=$?; set -e
    if [ $rc -eq 99 ] || grep -q '^==[0-9]*== ' "$W/$name.err"; then
        fail "valgrind: $name: memory errors (see $W/$name.err)"; sed -n '1,40p' "$W/$name.err" >&2
    else
        ok "valgrind clean: $name (exit $rc)"
    fi
}
R=$W/root
make_fixture "$R"
vg keygen keygen --out "$W/k"
vg collect collect --root "$R" --out "$W/out" --sign-key "$W/k.key" --hash sha256,sha1,md5
A=$(tail -n 1 "$W/collect.out")
vg collect-live collect --root / --profile live --out "$W/out-live"
vg verify verify "$A" --pubkey "$W/k.pub"
vg verify-json verify "$A" --json
vg list list "$A"
vg extract extract "$A" --to "$W/x"
vg collect-rules collect --root "$R" --out "$W/out-rules" --profile exchange-proxylogon --include '/**' --max-total 1M --progress json
vg keygen-age keygen --age --out "$W/a"
vg collect-age collect --root "$R" --out "$W/out-age" --encrypt-to "$W/a.age.pub" --rate-limit 50M
AA=$(tail -n 1 "$W/collect-age.out")
vg verify-age verify "$AA" --identity "$W/a.age.key"
vg decrypt decrypt --identity "$W/a.age.key" --out "$W/dec.tar.zst" "$AA"
head -c 3000 "$A" > "$W/trunc.tar.zst"
vg verify-truncated verify "$W/trunc.tar.zst"
finish
