#!/bin/bash
# install.sh DESTDIR PREFIX SYSCONFDIR - install the built programs, man pages
# and default configuration. Existing configuration files are never overwritten.
set -eu
destdir=$1 prefix=$2 sysconfdir=$3
sbin=$destdir$prefix/sbin
libexec=$destdir$prefix/libexec/postern
man=$destdir$prefix/share/man
etc=$destdir$sysconfdir

install -d -m 755 "$sbin" "$libexec" "$etc"
for f in build/sbin/*; do
    [ -e "$f" ] || continue
    if [ -L "$f" ]; then
        ln -sf "$(readlink "$f")" "$sbin/$(basename "$f")"
    else
        install -m 755 "$f" "$sbin/"
    fi
done
for f in build/libexec/*; do
    [ -e "$f" ] && install -m 755 "$f" "$libexec/"
done
for sect in 1 5 8; do
    for f in man/man$sect/*.$sect; do
        [ -e "$f" ] || continue
        install -d -m 755 "$man/man$sect"
        install -m 644 "$f" "$man/man$sect/"
    done
done
for f in conf/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    if [ -e "$etc/$name" ]; then
        install -m 644 "$f" "$etc/$name.postern-dist"
    else
        install -m 644 "$f" "$etc/$name"
    fi
done
echo "postern: installed under $destdir$prefix (configuration in $etc)"
