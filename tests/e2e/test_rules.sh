# Rule filters from a user profile: the ProxyLogon guidance ("*.zip, *.rar, *.7z, *.dmp files
# created or modified on or after 2021-02-25", case-insensitive names on a Windows volume) with
# decoys just before the cut-off; --set moves the window; --dry-run prints the plan and writes
# nothing; a bad profile is refused with its file, line and column.
source "$(dirname "$0")/lib.sh"

R=$W/vol
mkdir -p "$R/inetpub/wwwroot/aspnet_client" "$R/Windows/Temp" "$R/Users/x"
mk() { printf 'data %s\n' "$1" > "$R/$1"; touch -d "$2" "$R/$1"; }
mk inetpub/wwwroot/aspnet_client/out.ZIP   '2021-03-02 10:00:00 UTC'
mk Windows/Temp/lsass.dmp                  '2021-02-25 00:00:00 UTC'
mk Users/x/backup.7z                       '2021-02-26 08:00:00 UTC'
mk Users/x/exfil.rar                       '2021-03-01 12:00:00 UTC'
mk Users/x/old.zip                         '2021-02-24 23:59:59 UTC'
mk Windows/Temp/decoy.dmp                  '2020-12-31 00:00:00 UTC'
mk Users/x/notes.txt                       '2021-03-01 12:00:00 UTC'
: > "$R/Users/x/empty.zip"; touch -d '2021-03-01 UTC' "$R/Users/x/empty.zip"
cat > "$W/proxylogon.json" <<'P'
{
  "name": "proxylogon-archives",
  "description": "Archives and dumps created or modified on or after the cut-off (CISA/Microsoft guidance, March 2021)",
  "case_insensitive": true,
  "variables": {"since": "2021-02-25"},
  "rules": [
    {"id": "staged-archives",
     "description": "*.zip, *.rar, *.7z, *.dmp modified on or after ${since}",
     "include": ["/**/*.zip", "/**/*.rar", "/**/*.7z", "/**/*.dmp"],
     "types": ["file"], "size_min": 1,
     "time": {"field": "mtime", "after": "${since}"}}
  ]
}
P
want="/Users/x/backup.7z /Users/x/exfil.rar /Windows/Temp/lsass.dmp /inetpub/wwwroot/aspnet_client/out.ZIP"
set +e
"$CUSTODY" collect --root "$R" --profile "$W/proxylogon.json" --dry-run --out "$W/never" > "$W/plan" 2> "$W/plan.err"
rc=$?
set -e
check "dry run exits 0" [ "$rc" -eq 0 ]
check "dry run writes nothing (no output directory)" test ! -e "$W/never"
got=$(grep -v '^#' "$W/plan" | cut -f4 | sort | tr '\n' ' ' | sed 's/ $//')
check "dry run plans exactly the four files in the window [$got]" [ "$got" = "$want" ]
check "dry run names the rule and the size" grep -qP '^collect\t23\tstaged-archives\t/Users/x/exfil.rar$' "$W/plan"
check "dry run prints totals" grep -q '^# 4 items selected, 4 files to collect, ' "$W/plan"

collect --root "$R" --profile "$W/proxylogon.json" --out "$W/out"
check "collect with the user profile: exit 0" [ "$RC" -eq 0 ]
unpack "$ARCHIVE" "$W/x"
got=$(jq -r '.entries[] | select(.path != "collection.log") | .path' "$MF" | sort | tr '\n' ' ' | sed 's/ $//')
check "collected exactly the four files [$got]" [ "$got" = "$want" ]
check "the decoy one second before the cut-off is left out" bash -c "! grep -q old.zip <<< '$got'"
check "the profile's name and sha256 are in the manifest" bash -c \
    "[ \"\$(jq -r .collection.profile.sha256 '$MF')\" = \"\$(sha256sum < '$W/proxylogon.json' | cut -d' ' -f1)\" ] && jq -e '.collection.profile.name == \"proxylogon-archives\"' '$MF' >/dev/null"
check "summary counts hits by rule" jq -e '.summary.by_rule["staged-archives"] == 4' "$MF"

"$CUSTODY" collect --root "$R" --profile "$W/proxylogon.json" --set since=2021-03-01 --dry-run > "$W/plan2"
got=$(grep -v '^#' "$W/plan2" | cut -f4 | sort | tr '\n' ' ' | sed 's/ $//')
check "--set since=2021-03-01 narrows the window [$got]" \
    [ "$got" = "/Users/x/exfil.rar /inetpub/wwwroot/aspnet_client/out.ZIP" ]

# created_or_modified: the later of birth and modification time. The fixture was created
# today, so where the file system reports birth times an old-mtime decoy is selected.
sed 's/"mtime"/"created_or_modified"/' "$W/proxylogon.json" > "$W/com.json"
"$CUSTODY" collect --root "$R" --profile "$W/com.json" --dry-run > "$W/plan3"
if [ "$(stat -c %W "$R/Users/x/old.zip")" -gt 0 ]; then
    check "created_or_modified: a file created today with an old mtime is selected" grep -q '/Users/x/old.zip$' "$W/plan3"
else
    echo "SKIP: this file system reports no birth time: the created_or_modified check did not run"
fi

# The embedded pre-rebuild profile: content of logs and configuration, metadata of everything.
F=$W/fixture
make_fixture "$F"
"$CUSTODY" collect --root "$F" --profile pre-rebuild --dry-run > "$W/plan-pr"
check "pre-rebuild: /etc/hosts is collected" grep -qP '^collect\t[0-9]+\tconfiguration,inventory\t/etc/hosts$' "$W/plan-pr"
check "pre-rebuild: /usr/bin/ls is recorded as metadata" grep -qP '^metadata\t0\tinventory\t/usr/bin/ls$' "$W/plan-pr"
check "pre-rebuild: a home dot-file is collected" grep -qP '^collect\t[0-9]+\thome-dotfiles,inventory\t/home/alice/.bash_history$' "$W/plan-pr"

# ---- linux-triage's indicator rules on a dead-box fixture -----------------------------------
echo 'libevil.so' > "$F/etc/ld.so.preload"
echo 'suid' > "$F/usr/bin/passwd"; chmod 4755 "$F/usr/bin/passwd"
mkdir -p "$F/var/www/html/blog"
printf '<?php\n// a benign page that talks about eval() and $_POST\necho htmlspecialchars($_POST["q"]);\n' > "$F/var/www/html/blog/index.php"
collect --root "$F" --out "$W/lt"
check "linux-triage on the fixture: exit 0" [ "$RC" -eq 0 ]
unpack "$ARCHIVE" "$W/lt/x"
LF=$(jq -r '.findings[] | "\(.rule) \(.path)"' "$MF" | sort | tr '\n' ';')
check "web shell flagged, the benign page is not; ld.so.preload flagged [$LF]" \
    [ "$LF" = "ld-so-preload /etc/ld.so.preload;webshell-content /var/www/html/shell.php;" ]
check "the web-shell finding says which signature matched" \
    jq -e '.findings[] | select(.rule == "webshell-content") | .excerpt | test("eval\\(\\$_POST")' "$MF"
check "SUID file recorded as metadata (no content), ordinary binaries not at all" \
    jq -e '([.entries[] | select(.path == "/usr/bin/passwd")][0] | .member == null and (.rules | index("suid-sgid")) != null and .mode == "104755")
           and ([.entries[] | select(.path == "/usr/bin/ls")] | length == 0)' "$MF"
check "stderr ends with the findings summary" bash -c "tail -n 1 '$W/collect.err' | grep -q '^custody: 2 findings: '"
"$CUSTODY" collect --root "$F" --set since=2000-01-01 --dry-run > "$W/plan-since"
check "--set since=DATE turns on changed-binaries (metadata)" \
    grep -qP '^metadata\t0\tchanged-binaries\t/usr/bin/ls$' "$W/plan-since"
check "changed-binaries is off without since" bash -c "! grep -q changed-binaries '$W/plan-pr' '$W/lt/x/$STEM/manifest.json'"

# ---- a user profile: includes, known-hash list, flag, finding, per-rule total cap ---------
U=$W/user
mkdir -p "$U/data" "$U/prof/lists"
for i in 1 2 3; do head -c 100 /dev/zero | tr '\0' "$i" > "$U/data/blob$i.bin"; done
echo 'known bad tool' > "$U/data/tool.elf"
echo 'innocent' > "$U/data/readme.txt"
printf '# sha256sum output works\n%s  tool.elf\n' "$(sha256sum < "$U/data/tool.elf" | cut -d' ' -f1)" > "$U/prof/lists/bad.sha256"
cat > "$U/prof/base.json" <<'P'
{"name": "base", "variables": {"dir": "/data"},
 "rules": [{"id": "readme", "description": "base rule", "include": ["${dir}/readme.txt"]}]}
P
cat > "$U/prof/case.json" <<'P'
{"name": "case-42", "includes": ["base.json"], "variables": {"dir": "/data"},
 "rules": [
  {"id": "blobs", "include": ["${dir}/*.bin"], "max_total_bytes": 250},
  {"id": "known-bad", "description": "hash in the case's list", "include": ["${dir}/*.elf", "${dir}/*.txt"],
   "types": ["file"], "action": "flag", "hashes": {"files": ["lists/bad.sha256"]}},
  {"id": "readme-seen", "description": "readme present", "include": ["${dir}/readme.txt"],
   "action": "metadata", "finding": true}
 ]}
P
collect --root "$U" --profile "$U/prof/case.json" --out "$W/uo"
check "user profile with includes: exit 0" [ "$RC" -eq 0 ]
unpack "$ARCHIVE" "$W/uo/x"
check "the included profile's rule collects" \
    jq -e '.entries[] | select(.path == "/data/readme.txt") | .member != null and (.rules | index("readme")) != null' "$MF"
check "the manifest names the included profile" jq -e '.collection.profile.includes == ["base"]' "$MF"
check "per-rule total cap: two blobs collected, the third skipped with the reason" \
    jq -e '([.entries[] | select(.path | test("blob")) | .status] | sort == ["ok","ok","skipped"])
           and ([.entries[] | select(.status == "skipped")][0] | .member == null and (.reason | test("rule-total-cap: rule .blobs.")))' "$MF"
check "the known-hash list flags the tool (a flag rule collects what it looks at)" \
    jq -e '([.findings[] | select(.rule == "known-bad") | .path] == ["/data/tool.elf"])
           and ([.entries[] | select(.path == "/data/tool.elf")][0].member != null)' "$MF"
check "a metadata rule with finding:true reports without content tests" \
    jq -e '[.findings[] | select(.rule == "readme-seen") | .path] == ["/data/readme.txt"]' "$MF"
check "the manifest with findings, reasons and includes validates" "$PY" "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$MF"

# ---- the profile schema: every embedded profile and every valid case is valid; the
# structurally broken cases are not ---------------------------------------------------------
PSCHEMA=$CUSTODY_SRC/docs/profile.schema.json
for name in $("$CUSTODY" profiles | cut -f1); do
    "$CUSTODY" profiles show "$name" > "$W/show-$name.json"
    check "embedded profile $name validates against docs/profile.schema.json" \
        "$PY" "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$PSCHEMA" "$W/show-$name.json"
done
for f in "$CUSTODY_SRC"/tests/data/profiles/valid/*.json; do
    check "valid case $(basename "$f") validates" "$PY" "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$PSCHEMA" "$f"
done
for c in bad-action bad-perm bad-size bad-type missing-id no-include no-name unknown-key unknown-rule-key \
         tests-on-metadata bad-hex empty-content empty-lines bad-hash bad-total bad-windows negative-cap; do
    check "schema rejects the invalid case $c" bash -c "! '$PY' '$CUSTODY_SRC/tests/tools/validate_manifest.py' '$PSCHEMA' '$CUSTODY_SRC/tests/data/profiles/invalid/$c/profile.json' 2>/dev/null"
done

printf '{"name": "x",\n "rules": [\n  {"id": "a", "include": ["/a"],, }\n ]}\n' > "$W/broken.json"
set +e
"$CUSTODY" collect --root "$R" --profile "$W/broken.json" --dry-run > /dev/null 2> "$W/broken.err"; brc=$?
set -e
check "a broken profile: exit 2" [ "$brc" -eq 2 ]
check "  with file, line and column" grep -q 'broken.json:3:' "$W/broken.err"
finish
