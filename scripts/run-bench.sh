#!/bin/sh
# Runs every benchmark of a build (default build/release); each prints one
# JSON object per line.
set -eu
dir=${1:-build/release}
for b in "$dir"/bench/bench_*; do
    [ -x "$b" ] || continue
    "$b"
done
