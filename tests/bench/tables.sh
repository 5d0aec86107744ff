#!/bin/bash
# tables.sh - build and query a 100,000-key table of each on-disk type.
#
#   tests/bench/tables.sh [BUILD_DIR] [KEYS]
#
# Two measurements per type (hash, btree, lmdb, cdb):
#   postmap  end to end: parse a KEYS-line source file and build the table
#            with the postmap command (atomic rebuild included), then
#            "postmap -q -" over every key (one process, keys on stdin);
#   library  dict_rebuild_open/dict_put/commit and dict_get in one process
#            (tests/progs/bench_tables), found and missing keys.
# Prints keys/s for each. Needs "make build" first.
set -eu
cd "$(dirname "$0")/../.."
build=${1:-${POSTERN_BUILD:-build}}
keys=${2:-100000}
postmap=$build/sbin/postmap
bench=$build/tests/bench_tables
[ -x "$postmap" ] && [ -x "$bench" ] || { echo "tables.sh: run make build first ($build)" >&2; exit 1; }

dir=$(mktemp -d /tmp/postern-bench-tables.XXXXXX)
trap 'rm -rf "$dir"' EXIT
: > "$dir/main.cf"
awk -v n="$keys" 'BEGIN { for (i = 0; i < n; i++) printf "user%d@example.com mailbox/%d/Maildir/\n", i, i }' > "$dir/source"
awk -v n="$keys" 'BEGIN { srand(1); for (i = 0; i < n; i++) printf "user%d@example.com\n", int(rand() * n) }' > "$dir/queries"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; printf "%.3f s %.0f keys/s", d, n / d }'; }

echo "== postmap command, $keys keys"
for type in hash btree lmdb cdb; do
    t0=$(now); "$postmap" -c "$dir" "$type:$dir/source"; t1=$(now)
    found=$("$postmap" -c "$dir" -q - "$type:$dir/source" < "$dir/queries" | wc -l); t2=$(now)
    [ "$found" = "$keys" ] || { echo "tables.sh: $type: $found of $keys keys found" >&2; exit 1; }
    printf '%-6s build %s  query %s\n' "$type" "$(rate "$keys" "$t0" "$t1")" "$(rate "$keys" "$t1" "$t2")"
done
echo "== library (dict API), $keys keys"
"$bench" -n "$keys" "$dir"
