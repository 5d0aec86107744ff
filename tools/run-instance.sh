#!/bin/bash
# run-instance.sh - the embedded default instance behind `make run`.
#
# Everything lives under run/ in the tree: run/etc (main.cf, master.cf),
# run/spool (the queue), run/mail/USER/ (Maildirs for USER@localhost),
# run/maillog. smtpd listens on 127.0.0.1:2525. RUN_PORT, RUN_DIR and
# POSTERN_BUILD (the build directory) override the defaults.
# The configuration is written afresh on every start; mail and queue stay.
# Ctrl-C stops the instance cleanly (postern stop).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=${RUN_DIR:-$ROOT/run}
PORT=${RUN_PORT:-2525}
BUILD=${POSTERN_BUILD:-$ROOT/build}
SBIN=$BUILD/sbin
POSTERN=$SBIN/postern
ETC=$RUN/etc

mkdir -p "$ETC" "$RUN/spool" "$RUN/data" "$RUN/mail"
if [ "$(id -u)" = 0 ]; then
    owner=${POSTERN_MAIL_OWNER:-postern}
    getent passwd "$owner" >/dev/null || { echo "make run: no user $owner (run make deps as root)" >&2; exit 1; }
    # daemons running as $owner must reach the queue and the log under the
    # tree: where a directory above run/ (such as /root) keeps them out, give
    # $owner alone search permission there (an ACL entry: no listing, no
    # change for anyone else), and say so.
    d=$RUN
    while [ "$d" != / ]; do
        if ! setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups test -x "$d"; then
            setfacl -m "u:$owner:x" "$d" || { echo "make run: $owner cannot reach $d" >&2; exit 1; }
            echo "make run: gave $owner search permission on $d (setfacl -x u:$owner $d undoes it)"
        fi
        d=$(dirname "$d")
    done
else
    owner=$(id -un)
fi
vuid=$(id -u "$owner"); vgid=$(id -g "$owner")
chown "$vuid:$vgid" "$RUN/mail" "$RUN/data"

cat > "$ETC/main.cf" <<EOM
# written by tools/run-instance.sh for \`make run\`; rewritten on every start
queue_directory = $RUN/spool
data_directory = $RUN/data
daemon_directory = $BUILD/libexec
command_directory = $SBIN
mail_owner = $owner
maillog_file = $RUN/maillog
myhostname = postern.localdomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
# mail for anyone@localhost goes to run/mail/anyone/ (a Maildir)
virtual_mailbox_domains = localhost
virtual_mailbox_base = $RUN/mail
virtual_mailbox_maps = pcre:$ETC/vmailbox
virtual_uid_maps = static:$vuid
virtual_gid_maps = static:$vgid
virtual_minimum_uid = $vuid
EOM
# a safe local part only: it becomes a directory name under run/mail
printf '/^([a-z0-9][-a-z0-9._+=]*)@localhost$/\t${1}/\n' > "$ETC/vmailbox"
# the stock master.cf with the smtp service on 127.0.0.1:PORT and no chroot
awk -v port="$PORT" '
    /^[^#[:space:]]/ && $2 == "inet" { if (!done && $1 == "smtp") { $1 = "127.0.0.1:" port; $5 = "n"; done = 1; print } skip = 1; next }
    /^[^#[:space:]]/ { skip = 0; if (NF >= 8) $5 = "n" }
    /^[[:space:]]/ && skip { next }
    { print }' "$ROOT/conf/master.cf" > "$ETC/master.cf"

touch "$RUN/maillog" && chown "$owner" "$RUN/maillog"
"$POSTERN" -c "$ETC" check || exit 1
"$POSTERN" -c "$ETC" start || exit 1

tail_pid=
stop() {
    trap - INT TERM
    echo
    [ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
    "$POSTERN" -c "$ETC" stop
    exit 0
}
trap stop INT TERM

cat <<EOM

postern is running: SMTP on 127.0.0.1:$PORT, configuration in $ETC, log in $RUN/maillog.

Send a test message:
  swaks --server 127.0.0.1:$PORT --from you@example.com --to alice@localhost
  printf 'Subject: hello\n\nfirst message\n' | $SBIN/sendmail -C $ETC -f you@example.com alice@localhost

It lands in $RUN/mail/alice/new/ (any name@localhost gets its own Maildir).
Queue: $SBIN/postqueue -c $ETC -p        Settings: $SBIN/postconf -c $ETC -n

Following the log; Ctrl-C stops postern.
EOM
tail -n 0 -f "$RUN/maillog" &
tail_pid=$!
wait "$tail_pid"
stop
