#!/bin/bash
# mailpath.sh - quick throughput run of one postern instance, no Postfix needed.
#
#   tests/bench/mailpath.sh [accept|maildir|relay] ...      (as root; from anywhere)
#
# Builds an instance with the peer bench's postern adapter (the same main.cf
# and master.cf as ../shared/bench), loads it with smtp-source (Debian package
# postfix, which need not run) and waits until the queue is empty. Per
# scenario it prints one key=value line:
#   msgs_per_s          messages / (start of load .. queue empty)
#   source_msgs_per_s   messages / (start of load .. last 250)
#   cpu_ms_per_msg      CPU of every instance process (cgroup v2 cpu.stat)
#   kinsn_per_msg       thousands of instructions per message, user+kernel
#                       (perf stat on the cgroup; "-" when perf cannot count);
#   user_kinsn_per_msg  the user-space part: the steadiest figure on a noisy
#                       machine (the kernel part varies with the file system's
#                       state, e.g. ext4's search past recently freed inodes)
#   cs_per_msg          context switches per message (perf)
#   spawned_<prog>      processes of each daemon that logged anything
#   delay_p50/p90, delays_a/b/c/d_p50   from the status=sent lines (seconds)
#   other_cpu_pct       CPU used outside the instance and the load generator,
#                       as % of the machine: above ~10 the figures are noisy
#
# Environment: BUILD (build directory, default build), MSGS (5000), SESSIONS (20),
# SIZE (4096), RUNS (1), WORK (/tmp/postern-mailpath), ADAPTER (the postern
# adapter, default ../shared/bench/postern/adapter.sh), PORT (first free from
# 24025), KEEP=1 leaves the last instance (log in WORK/SCEN/log/maillog),
# PERF_RECORD=1 also records a call-graph profile of the instance into
# WORK/perf.data.SCEN (perf report -i ... --sort comm,dso,sym).
set -uo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MSGS=${MSGS:-5000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
RUNS=${RUNS:-1}
WORK=${WORK:-/tmp/postern-mailpath}
ADAPTER=${ADAPTER:-$ROOT/../shared/bench/postern/adapter.sh}
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SMTP_SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=(accept)

die() { echo "mailpath.sh: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root (cgroups, virtual(8) ownership)"
[ -x "$BUILD/sbin/postern" ] || die "no $BUILD/sbin/postern: make BUILD=... build"
[ -x "$ADAPTER" ] || die "no adapter $ADAPTER"
[ -x "$SMTP_SOURCE" ] || die "no $SMTP_SOURCE (Debian package postfix)"

# the adapter wants a checkout with build/ and conf/: give it one made of links
SRC=$WORK/src
mkdir -p "$SRC"
ln -sfn "$BUILD" "$SRC/build"
ln -sfn "$ROOT/conf" "$SRC/conf"
export POSTERN_SRC=$SRC

CG2=""
for t in /sys/fs/cgroup/unified /sys/fs/cgroup; do
    if [ "$(stat -f -c %T "$t" 2>/dev/null)" = cgroup2fs ]; then CG2=$t; break; fi
done
[ -n "$CG2" ] || die "no cgroup v2 hierarchy"
CG_NAME=postern-mailpath-$$
CG_INST=$CG2/$CG_NAME-inst
CG_LOAD=$CG2/$CG_NAME-load

free_port() {
    local p=${1:-24025}
    while ss -Hltn "sport = :$p" | grep -q .; do p=$((p + 1)); done
    echo "$p"
}
cg_usec() { awk '$1 == "usage_usec" { print $2 }' "$1/cpu.stat"; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
in_cg() { local cg=$1; shift; ( echo "$BASHPID" > "$cg/cgroup.procs"; exec "$@" ); }

PERF_PID=""
PERF_REC_PID=""
SINK_PID=""
INST=""
cleanup() {
    [ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null
    [ -n "$PERF_REC_PID" ] && kill -INT "$PERF_REC_PID" 2>/dev/null && wait "$PERF_REC_PID" 2>/dev/null
    [ -n "$INST" ] && "$ADAPTER" stop "$INST" >/dev/null 2>&1
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
    PERF_PID="" PERF_REC_PID="" SINK_PID="" INST=""
    for cg in "$CG_INST" "$CG_LOAD"; do
        for _ in $(seq 1 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.1; done
        rmdir "$cg" 2>/dev/null
    done
}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT

one_run() {
    local scen=$1 dir=$WORK/$1 port sink="" t0 t1 t2 c0 c2 l0 l2 b0 b2
    port=$(free_port)
    [ "$scen" = relay ] && sink=$(free_port $((port + 1)))
    "$ADAPTER" setup "$dir" "$port" "$scen" $sink >/dev/null || die "setup $scen failed"
    mkdir -p "$CG_INST" "$CG_LOAD"
    INST=$dir
    if [ -n "$sink" ]; then
        in_cg "$CG_LOAD" "$SMTP_SINK" -u nobody "127.0.0.1:$sink" 256 >/dev/null 2>&1 &
        SINK_PID=$!
    fi
    in_cg "$CG_INST" "$ADAPTER" start "$dir" || die "start $scen failed"
    for _ in $(seq 1 100); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done
    sleep 1; sync; sleep 0.5

    local perf_out=$WORK/perf.$scen
    rm -f "$perf_out"
    if command -v perf >/dev/null; then
        perf stat -a -x, -o "$perf_out" -e instructions:u,instructions:k,context-switches \
            -G "$CG_NAME-inst,$CG_NAME-inst,$CG_NAME-inst" >/dev/null 2>&1 &
        PERF_PID=$!
        if [ "${PERF_RECORD:-0}" = 1 ]; then
            perf record -a -g -e cycles -G "$CG_NAME-inst" -o "$WORK/perf.data.$scen" >/dev/null 2>&1 &
            PERF_REC_PID=$!
        fi
        sleep 0.3
    fi
    c0=$(cg_usec "$CG_INST"); l0=$(cg_usec "$CG_LOAD"); b0=$(busy_ticks)
    t0=$(date +%s.%N)
    in_cg "$CG_LOAD" "$SMTP_SOURCE" -s "$SESSIONS" -m "$MSGS" -r 1 -l "$SIZE" -d -N \
        -M bench.localdomain -f sender@bench.example -t user@bench.example \
        "127.0.0.1:$port" >"$dir.source.log" 2>&1
    t1=$(date +%s.%N)
    local deadline=$(( $(date +%s) + 300 ))
    until "$ADAPTER" queue_empty "$dir"; do
        [ "$(date +%s)" -ge "$deadline" ] && { echo "# $scen: queue not empty after 300 s" >&2; break; }
        sleep 0.02
    done
    t2=$(date +%s.%N)
    c2=$(cg_usec "$CG_INST"); l2=$(cg_usec "$CG_LOAD"); b2=$(busy_ticks)
    if [ -n "$PERF_PID" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null; PERF_PID=""; fi
    if [ -n "$PERF_REC_PID" ]; then kill -INT "$PERF_REC_PID"; wait "$PERF_REC_PID" 2>/dev/null; PERF_REC_PID=""; fi
    local delivered
    for _ in $(seq 1 50); do
        delivered=$("$ADAPTER" delivered_count "$dir")
        [ "${delivered:-0}" -ge "$MSGS" ] && break
        sleep 0.1
    done
    "$ADAPTER" stop "$dir" >/dev/null 2>&1
    INST=""
    if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; SINK_PID=""; fi
    for cg in "$CG_INST" "$CG_LOAD"; do
        for _ in $(seq 1 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.1; done
        rmdir "$cg" 2>/dev/null
    done

    local insn="-" uinsn="-" cs="-"
    if [ -s "$perf_out" ]; then
        uinsn=$(awk -F, -v n="$MSGS" '$3 == "instructions:u" && $1 ~ /^[0-9]+$/ { printf "%.0f", $1 / n / 1000 }' "$perf_out")
        insn=$(awk -F, -v n="$MSGS" '$3 ~ /^instructions/ && $1 ~ /^[0-9]+$/ { s += $1 } END { if (s) printf "%.0f", s / n / 1000 }' "$perf_out")
        cs=$(awk -F, -v n="$MSGS" '$3 == "context-switches" && $1 ~ /^[0-9]+$/ { printf "%.1f", $1 / n }' "$perf_out")
        [ -n "$insn" ] || insn="-"
        [ -n "$uinsn" ] || uinsn="-"
        [ -n "$cs" ] || cs="-"
    fi
    local hz; hz=$(getconf CLK_TCK)
    awk -v scen="$scen" -v n="$MSGS" -v got="$delivered" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
        -v c="$((c2 - c0))" -v l="$((l2 - l0))" -v b="$((b2 - b0))" -v hz="$hz" -v ncpu="$(nproc)" \
        -v insn="$insn" -v uinsn="$uinsn" -v cs="$cs" 'BEGIN {
        other = b / hz - c / 1e6 - l / 1e6; if (other < 0) other = 0
        printf "scenario=%s msgs=%d delivered=%d seconds=%.3f msgs_per_s=%.1f source_msgs_per_s=%.1f", scen, n, got, t2 - t0, n / (t2 - t0), n / (t1 - t0)
        printf " cpu_ms_per_msg=%.3f kinsn_per_msg=%s user_kinsn_per_msg=%s cs_per_msg=%s loadgen_cpu_s=%.2f other_cpu_pct=%.1f", c / 1000 / n, insn, uinsn, cs, l / 1e6, 100 * other / ((t2 - t0) * ncpu)
    }'
    # processes per program (pids that logged), and the delays of delivered mail
    awk '{ if (match($5, /\/[a-z]+\[[0-9]+\]/)) { p = substr($5, RSTART + 1, RLENGTH - 2); split(p, a, "["); seen[a[1] " " a[2]] = 1 } }
        END { for (k in seen) { split(k, a, " "); n[a[1]]++ } for (p in n) printf " spawned_%s=%d", p, n[p] }' "$dir/log/maillog"
    grep ' status=sent ' "$dir/log/maillog" | sed -n 's/.* delay=\([0-9.]*\), delays=\([0-9.]*\)\/\([0-9.]*\)\/\([0-9.]*\)\/\([0-9.]*\),.*/\1 \2 \3 \4 \5/p' |
        python3 -c '
import sys, statistics
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
if rows:
    col = lambda i: sorted(r[i] for r in rows)
    q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))]
    d = col(0)
    out = " delay_p50=%g delay_p90=%g" % (q(d, .5), q(d, .9))
    for i, name in enumerate("abcd", 1):
        out += " delays_%s_p50=%g" % (name, statistics.median(col(i)))
    sys.stdout.write(out)'
    echo
}

for scen in "${SCENARIOS[@]}"; do
    for run in $(seq 1 "$RUNS"); do
        one_run "$scen" | sed "s/^/run=$run /"
        sync; sleep 1
    done
done
[ "${KEEP:-0}" = 1 ] || rm -rf "${SCENARIOS[@]/#/$WORK/}"
