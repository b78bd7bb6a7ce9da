#!/bin/sh
# Unpacks Debian's xen-utils-4.17 (xl, xenstored, test-xenstore, ...) into
# DIR/root without installing it (installing pulls in systemd).  Does
# nothing if it is already there.
#   fetch-xen-utils.sh DIR
set -eu
mkdir -p "$1"
dir=$(cd "$1" && pwd)
[ -x "$dir/root/usr/lib/xen-4.17/bin/xl" ] && exit 0
mkdir -p "$dir/deb" "$dir/root"
cd "$dir/deb"
if ! apt-get download xen-utils-4.17 >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get download xen-utils-4.17 >/dev/null
fi
for deb in "$dir"/deb/*.deb; do
    dpkg -x "$deb" "$dir/root"
done
[ -x "$dir/root/usr/lib/xen-4.17/bin/xl" ]
