#!/bin/sh
# Runs a libFuzzer binary for a fixed number of runs from a fixed seed,
# starting from the committed corpus (new inputs go to a scratch folder,
# never into the repository).
#   run-fuzzer.sh FUZZER CORPUS RUNS
set -eu
fuzzer=$1 corpus=$2 runs=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$fuzzer" -runs="$runs" -seed=1 -max_len=4096 -print_final_stats=1 "$scratch" "$corpus"
