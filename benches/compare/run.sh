#!/usr/bin/env bash
# rfc6455 side by side with fastwebsockets, tokio-websockets and tungstenite.
#
#   benches/compare/run.sh
#
# 1. Builds this project (its own workspace and Cargo.lock) in release mode.
# 2. In memory (src/bin/inmem.rs): the same pre-encoded masked frames read
#    by each library's server read path, next to memcpy of the same buffer.
# 3. Loopback echo (src/bin/loadgen.rs echo): each library's echo server
#    (src/bin/echo_server.rs, tokio current-thread runtime) pinned to CPU 0,
#    one load generator pinned to CPU 1; 1, 16 and 256 connections; 32 B,
#    1 KiB and 64 KiB payloads; several rounds, libraries interleaved.
# 4. Idle memory (src/bin/loadgen.rs memory): VmRSS of each echo server
#    holding 10,000 idle connections after the handshake.
#
# Markdown tables go to stdout and to results/ (inmem.md, echo.md,
# memory.md, machine.md; echo-raw.csv has every echo sample). Every load
# targets 127.0.0.1; each step is bounded in time (the whole run takes
# about five minutes on 2 cores).
#
# Environment:
#   SAMPLES      in-memory samples per library and size (default 21)
#   ROUNDS       echo rounds (default 3)
#   WARMUP, SECS echo warm-up and measurement seconds (default 0.25, 0.75)
#   CONNS        echo connection counts (default 1,16,256)
#   SIZES        echo payload sizes in bytes (default 32,1024,65536)
#   VARIANTS     echo servers to run (default: all but tokio-websockets-feed)
#   IDLE_CONNS   connections for the memory step (default 10000)
#   STEPS        any of "inmem echo memory" (default all three)
set -euo pipefail
cd "$(dirname "$0")"

SAMPLES=${SAMPLES:-21}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-0.25}
SECS=${SECS:-0.75}
CONNS=${CONNS:-1,16,256}
SIZES=${SIZES:-32,1024,65536}
IDLE_CONNS=${IDLE_CONNS:-10000}
STEPS=${STEPS:-inmem echo memory}
RESULTS=results
BIN=target/release

echo "== building (release)" >&2
cargo build --release --bins --quiet

mkdir -p "$RESULTS"

# Pin the servers to CPU 0 and the measuring side to CPU 1 where taskset
# exists and there are two CPUs.
PIN_CLIENT=()
SERVER_CPU=""
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN_CLIENT=(taskset -c 1)
    SERVER_CPU=0
fi

# 10,000 connections need 10,000 descriptors on each side.
want=$((IDLE_CONNS + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
    want=$hard
fi
ulimit -n "$want"

{
    echo "### Machine"
    echo
    echo "- CPUs: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "- Kernel: $(uname -sr)"
    echo "- rustc: $(rustc --version)"
    echo "- Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Pinning: ${PIN_CLIENT[*]:-none} (servers on CPU ${SERVER_CPU:-any})"
    echo
} | tee "$RESULTS/machine.md"

variant_args=()
if [ -n "${VARIANTS:-}" ]; then
    variant_args=(--variants "$VARIANTS")
fi

for step in $STEPS; do
    case $step in
        inmem)
            echo "== in memory ($SAMPLES samples)" >&2
            timeout 600 "${PIN_CLIENT[@]}" "$BIN/inmem" "$SAMPLES" | tee "$RESULTS/inmem.md"
            ;;
        echo)
            echo "== loopback echo ($ROUNDS rounds)" >&2
            timeout 900 "${PIN_CLIENT[@]}" "$BIN/loadgen" echo \
                --rounds "$ROUNDS" --warmup "$WARMUP" --secs "$SECS" \
                --conns "$CONNS" --sizes "$SIZES" --server-cpu "$SERVER_CPU" \
                --server "$BIN/echo_server" --out "$RESULTS" "${variant_args[@]}"
            ;;
        memory)
            echo "== idle memory ($IDLE_CONNS connections)" >&2
            timeout 600 "${PIN_CLIENT[@]}" "$BIN/loadgen" memory \
                --conns "$IDLE_CONNS" --server-cpu "$SERVER_CPU" \
                --server "$BIN/echo_server" --out "$RESULTS" "${variant_args[@]}"
            ;;
        *)
            echo "unknown step $step (STEPS)" >&2
            exit 2
            ;;
    esac
done

echo "- Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS/machine.md"
