#!/bin/sh
# Runs a command against a fresh `memvisor xenstored` on a private socket
# (XENSTORED_PATH points at it), stops the server with SIGTERM and checks
# it stopped cleanly, with nothing from a sanitizer in its log.
#   run_with_xenstored.sh MEMVISOR COMMAND [ARGS]
set -u
memvisor=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sock=$dir/xenstored.sock
"$memvisor" xenstored --socket "$sock" --log-level warn 2>"$dir/server.log" &
spid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
if [ ! -S "$sock" ]; then
    echo "memvisor xenstored did not start:"; cat "$dir/server.log"; exit 1
fi
XENSTORED_PATH=$sock "$@"
rc=$?
kill -TERM $spid
wait $spid
src=$?
if [ $src -ne 0 ]; then
    echo "memvisor xenstored exited with $src:"; cat "$dir/server.log"; exit 1
fi
if grep -q "Sanitizer" "$dir/server.log"; then
    echo "sanitizer report from memvisor xenstored:"; cat "$dir/server.log"; exit 1
fi
exit $rc
