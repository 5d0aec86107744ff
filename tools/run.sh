#!/bin/bash
# run.sh - start a private postern instance under run/ (make run).
set -u
cd "$(dirname "$0")/.."
b=${POSTERN_BUILD:-build}
need="$b/sbin/postern $b/libexec/master $b/libexec/smtpd $b/libexec/cleanup
      $b/libexec/qmgr $b/libexec/virtual"
for p in $need; do
    if [ ! -x "$p" ]; then
        echo "make run: $p is not built yet: the private instance needs the receive and" >&2
        echo "make run: delivery daemons (see the open issues)." >&2
        exit 1
    fi
done
exec tools/run-instance.sh
