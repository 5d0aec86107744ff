#!/bin/bash
# run-instance.sh - the embedded default instance behind `make run`.
#
# Everything lives under run/ in the tree: run/etc (main.cf, master.cf),
# run/spool (the queue), run/mail/USER/ (Maildirs for USER@localhost),
# run/maillog. smtpd listens on 127.0.0.1:2525 (RUN_PORT overrides).
# The configuration is written afresh on every start; mail and queue stay.
# Ctrl-C stops the instance cleanly (postern stop).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=${RUN_DIR:-$ROOT/run}
PORT=${RUN_PORT:-2525}
SBIN=$ROOT/build/sbin
POSTERN=$SBIN/postern
ETC=$RUN/etc

mkdir -p "$ETC" "$RUN/spool" "$RUN/data" "$RUN/mail"
if [ "$(id -u)" = 0 ]; then
    owner=${POSTERN_MAIL_OWNER:-postern}
    getent passwd "$owner" >/dev/null || { echo "make run: no user $owner (run make deps as root)" >&2; exit 1; }
    # daemons running as $owner must reach the queue and the log under the tree
    chmod o+x "$ROOT" "$RUN"
else
    owner=$(id -un)
fi
vuid=$(id -u "$owner"); vgid=$(id -g "$owner")
chown "$vuid:$vgid" "$RUN/mail" "$RUN/data"

cat > "$ETC/main.cf" <<EOM
# written by tools/run-instance.sh for \`make run\`; rewritten on every start
queue_directory = $RUN/spool
data_directory = $RUN/data
daemon_directory = $ROOT/build/libexec
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
printf '/^([^@/]+)@localhost$/\t${1}/\n' > "$ETC/vmailbox"
# the stock master.cf with the smtp service on 127.0.0.1:PORT and no chroot
awk -v port="$PORT" '
    /^[^#[:space:]]/ && $2 == "inet" { if (!done && $1 == "smtp") { $1 = "127.0.0.1:" port; $5 = "n"; done = 1; print } skip = 1; next }
    /^[^#[:space:]]/ { skip = 0; if (NF >= 8) $5 = "n" }
    /^[[:space:]]/ && skip { next }
    { print }' "$ROOT/conf/master.cf" > "$ETC/master.cf"

touch "$RUN/maillog"
"$POSTERN" -c "$ETC" check || exit 1
"$POSTERN" -c "$ETC" start || exit 1

stop() {
    echo
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
wait $!
