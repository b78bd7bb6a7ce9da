#!/bin/sh
# Runs every benchmark of a build (default build/release); each prints one
# JSON object per line.  The ones that need memvisord get a fresh one.
set -eu
dir=${1:-build/release}
here=$(cd "$(dirname "$0")/.." && pwd)
for b in "$dir"/bench/bench_*; do
    [ -x "$b" ] || continue
    case $(basename "$b") in
    bench_hypercall)
        "$here/tests/clients/run_with_daemon.sh" "$dir/memvisord" "$dir/lib" --ram 1G -- "$b" ;;
    *)
        "$b" ;;
    esac
done
