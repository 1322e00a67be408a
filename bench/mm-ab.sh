#!/bin/sh
# A/B of two builds of the matmul-heavy steps (bench/mm-steps.ts), alternated
# process by process so that a busy machine slows both alike.
# Usage: bench/mm-ab.sh BEFORE_BUILD AFTER_BUILD ROUNDS THREADS MS [WORKLOAD...]
# (a build is a directory holding bench/mm-steps.js, as `npm run compile` makes under .build).
before=$1 after=$2 rounds=$3 threads=$4 ms=$5
shift 5
i=0
while [ "$i" -lt "$rounds" ]; do
  printf 'before %s T%s %s\n' "$i" "$threads" "$(node "$before/bench/mm-steps.js" "$threads" "$ms" "$@")"
  printf 'after %s T%s %s\n' "$i" "$threads" "$(node "$after/bench/mm-steps.js" "$threads" "$ms" "$@")"
  i=$((i + 1))
done
