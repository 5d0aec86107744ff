#!/bin/bash
# install.sh DESTDIR PREFIX SYSCONFDIR [BUILD] - install the built programs, man pages
# and default configuration. Existing configuration files are never overwritten.
set -eu
destdir=$1 prefix=$2 sysconfdir=$3 build=${4:-build}
sbin=$destdir$prefix/sbin
libexec=$destdir$prefix/libexec/postern
man=$destdir$prefix/share/man
etc=$destdir$sysconfdir

install -d -m 755 "$sbin" "$libexec" "$etc"
for f in "$build"/sbin/*; do
    [ -e "$f" ] || continue
    if [ -L "$f" ]; then
        ln -sf "$(readlink "$f")" "$sbin/$(basename "$f")"
    else
        install -m 755 "$f" "$sbin/"
    fi
done
for f in "$build"/libexec/*; do
    [ -e "$f" ] && install -m 755 "$f" "$libexec/"
done
for sect in 1 5 8; do
    for f in man/man$sect/*.$sect; do
        [ -e "$f" ] || continue
        install -d -m 755 "$man/man$sect"
        install -m 644 "$f" "$man/man$sect/"
    done
done
new_main=0
unitdir=$destdir$prefix/lib/systemd/system
install -d -m 755 "$unitdir"
install -m 644 conf/postern.service "$unitdir/"
for f in conf/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    [ "$name" = postern.service ] && continue
    if [ -e "$etc/$name" ]; then
        install -m 644 "$f" "$etc/$name.postern-dist"
    else
        install -m 644 "$f" "$etc/$name"
        [ "$name" = main.cf ] && new_main=1
    fi
done
# a fresh main.cf names the directories this install used
if [ "$new_main" = 1 ]; then
    "$sbin/postconf" -c "$etc" -e "daemon_directory = $prefix/libexec/postern" \
        "command_directory = $prefix/sbin" >/dev/null
fi
# postdrop and postqueue are the setgid doors into maildrop/ and public/
if [ "$(id -u)" = 0 ] && [ -z "$destdir" ]; then
    group=$("$sbin/postconf" -c "$etc" -h setgid_group 2>/dev/null || echo postdrop)
    if getent group "$group" >/dev/null; then
        for p in postdrop postqueue; do
            [ -f "$sbin/$p" ] || continue
            chgrp "$group" "$sbin/$p" && chmod 2755 "$sbin/$p"
        done
    else
        echo "postern: warning: group $group is missing: run make deps, then make install again" >&2
    fi
fi
echo "postern: installed under $destdir$prefix (configuration in $etc)"
