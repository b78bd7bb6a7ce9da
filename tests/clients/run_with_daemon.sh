#!/bin/sh
# Runs a command against a fresh memvisord: starts the daemon on private
# sockets, points the drop-in libraries and libxenstore at it
# (LD_LIBRARY_PATH, MEMVISOR_SOCKET, XENSTORED_PATH), runs the command, stops the daemon with SIGTERM and
# checks it stopped cleanly.
#   run_with_daemon.sh MEMVISORD LIBDIR [daemon options --] COMMAND [ARGS]
set -u
daemon=$1 libdir=$2
shift 2
dopts=""
for a in "$@"; do
    if [ "$a" = "--" ]; then
        while [ "$1" != "--" ]; do dopts="$dopts $1"; shift; done
        shift
        break
    fi
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sock=$dir/hypercall.sock
xs=$dir/xenstored.sock
# shellcheck disable=SC2086
"$daemon" --socket "$sock" --xenstore-socket "$xs" --log-level warn $dopts 2>"$dir/daemon.log" &
dpid=$!
i=0
while { [ ! -S "$sock" ] || [ ! -S "$xs" ]; } && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
if [ ! -S "$sock" ] || [ ! -S "$xs" ]; then
    echo "memvisord did not start:"; cat "$dir/daemon.log"; exit 1
fi
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" MEMVISOR_SOCKET=$sock \
    XENSTORED_PATH=$xs "$@"
rc=$?
kill -TERM $dpid
wait $dpid
drc=$?
if [ $drc -ne 0 ]; then
    echo "memvisord exited with $drc:"; cat "$dir/daemon.log"; exit 1
fi
if grep -q "Sanitizer" "$dir/daemon.log"; then
    echo "sanitizer report from memvisord:"; cat "$dir/daemon.log"; exit 1
fi
exit $rc
