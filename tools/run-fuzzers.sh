#!/bin/bash
# run-fuzzers.sh BUILD SECONDS FUZZER... - run each libFuzzer harness for a bounded time.
set -u
build=$1 secs=$2; shift 2
pass=0 fail=0
for f in "$@"; do
    name=$(basename "$f")
    corpus=$build/fuzz/corpus-$name
    mkdir -p "$corpus"
    seeds=tests/fuzz/seeds/${name#fuzz_}
    [ -d "$seeds" ] || seeds=
    if "$f" -max_total_time="$secs" -max_len=4096 -timeout=10 -print_final_stats=0 \
        "$corpus" $seeds > "$build/fuzz/$name.log" 2>&1; then
        pass=$((pass + 1)); echo "fuzz: $name ran ${secs}s, no crash"
    else
        fail=$((fail + 1)); tail -40 "$build/fuzz/$name.log"; echo "fuzz: $name FAILED"
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
