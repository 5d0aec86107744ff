#!/bin/bash
# deps.sh - install the Debian packages postern needs that are missing, and
# only those; as root, also create the mail_owner user and setgid_group group.
#
# Not root and something missing: name the packages and exit 1.
set -u

BUILD_PKGS="gcc make clang libclang-rt-14-dev libssl-dev libdb5.3-dev libpcre2-dev
            libsasl2-dev libspf2-dev liblmdb-dev libcdb-dev libcmocka-dev"
TEST_PKGS="python3 python3-pytest swaks dnsmasq-base sasl2-bin libsasl2-modules
           python3-aiosmtpd openssl pflogsumm acl"
MAIL_OWNER=${POSTERN_MAIL_OWNER:-postern}
SETGID_GROUP=${POSTERN_SETGID_GROUP:-postdrop}

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "postern: these Debian packages are missing:$missing" >&2
        echo "postern: install them as root: apt-get install$missing" >&2
        exit 1
    fi
    echo "postern: installing missing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || { echo "postern: apt-get update failed" >&2; exit 1; }
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        { echo "postern: apt-get install$missing failed" >&2; exit 1; }
fi

if [ "$(id -u)" = 0 ]; then
    if ! getent group "$SETGID_GROUP" >/dev/null; then
        groupadd --system "$SETGID_GROUP" && echo "postern: created group $SETGID_GROUP"
    fi
    if ! getent passwd "$MAIL_OWNER" >/dev/null; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$MAIL_OWNER" && echo "postern: created user $MAIL_OWNER"
    fi
fi
exit 0
