#!/bin/sh
# Runs every benchmark of a build (default build/release); each prints one
# JSON object per line.  The ones that need a server get fresh ones:
# bench_hypercall a memvisord, bench_xenstore memvisor's xenstore and
# Debian's own C xenstored (../shared/tools/peer-xenstored) side by side.
set -eu
dir=${1:-build/release}
here=$(cd "$(dirname "$0")/.." && pwd)
peer_runner=$here/../shared/tools/peer-xenstored/run-peer.sh

bench_xenstore() {
    scratch=$(mktemp -d)
    "$dir/memvisor" xenstored --socket "$scratch/memvisor.sock" --log-level warn &
    mpid=$!
    peer_sock=""
    if [ -x "$peer_runner" ] && "$peer_runner" "$scratch/peer" >"$scratch/peer.out" 2>&1; then
        peer_sock=$(tail -1 "$scratch/peer.out")
        [ -S "$peer_sock" ] || peer_sock=""
    fi
    [ -n "$peer_sock" ] || echo "bench_xenstore: Debian's xenstored could not be started; no peer figures" >&2
    i=0
    while [ ! -S "$scratch/memvisor.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    rc=0
    # shellcheck disable=SC2086
    "$1" "$scratch/memvisor.sock" $peer_sock || rc=$?
    kill "$mpid" 2>/dev/null || true
    wait "$mpid" 2>/dev/null || true
    [ -f "$scratch/peer/pid" ] && kill "$(cat "$scratch/peer/pid")" 2>/dev/null || true
    rm -rf "$scratch"
    return $rc
}

for b in "$dir"/bench/bench_*; do
    [ -x "$b" ] || continue
    case $(basename "$b") in
    bench_hypercall)
        "$here/tests/clients/run_with_daemon.sh" "$dir/memvisord" "$dir/lib" --ram 1G -- "$b" ;;
    bench_xenstore)
        bench_xenstore "$b" ;;
    *)
        "$b" ;;
    esac
done
