#!/bin/bash
# run-unit-tests.sh - run each cmocka test binary; print a plain summary.
set -u
pass=0 fail=0 failed=""
for t in "$@"; do
    if "$t" > "$t.log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed="$failed $t"
        cat "$t.log"
    fi
    grep -E '^\[  (PASSED|FAILED)  \]' "$t.log" | sed "s|^|$(basename "$(dirname "$t")")/$(basename "$t"): |"
done
echo "unit: $pass passed, $fail failed"
[ "$fail" = 0 ] || { echo "failed:$failed" >&2; exit 1; }
