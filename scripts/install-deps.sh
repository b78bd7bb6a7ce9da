#!/bin/sh
# Installs the Debian 12 packages memvisor needs to build and test, if any
# are missing.  Run as root (or with sudo available); does nothing when
# everything is there.
set -eu

# chromium: the scenario reports' HTML is checked in a real (headless) browser.
PACKAGES="cmake ninja-build gcc clang libclang-rt-14-dev libxen-dev xenstore-utils python3-pyxs
          liblz4-dev libzstd-dev chromium"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "memvisor: installing missing packages:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "memvisor: need root to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
