#!/usr/bin/env bash
# Push versus polling, measured: one stream of updates (one every 100 ms)
# followed by 100 clients each way (short polling every 100 ms and every
# 1 s, long polling, Server-Sent Events, WebSocket without and with
# permessage-deflate), on 127.0.0.1 only.
#
#   scripts/polling-vs-push.sh
#
# 1. Builds the polling_vs_push server and the push_load client (examples)
#    in release mode.
# 2. Starts the server on 127.0.0.1 with a port the OS chooses, pinned to
#    CPU 0 when there are two or more (the client gets CPU 1).
# 3. Runs the client: ROUNDS rounds of every way in turn; per way, the
#    clients connect, warm up for WARMUP seconds, then SECS seconds are
#    measured: delivery latency p50/p99, bytes on the clients' sockets per
#    update, HTTP requests per second, the server's CPU time per update
#    (from /proc), the bytes a push connection takes to open, updates
#    missed. The table and plot show the median of the rounds; the CSV has
#    every round.
# 4. Writes the markdown table (stdout and docs/polling-vs-push.md), the
#    plot (docs/polling-vs-push.svg) and the raw figures
#    (docs/polling-vs-push.csv), then stops the server.
#
# The measurement takes about 2 minutes (3 rounds of six ways of 1 + 5 s,
# and the pauses between them); the first release build of the examples
# takes longer (the dev-dependencies are built too). Every step has a
# time limit.
#
# Environment:
#   CLIENTS      clients per way (default 100)
#   INTERVAL_MS  the server's update interval (default 100)
#   ROUNDS       rounds of all the ways (default 3)
#   WARMUP, SECS warm-up and measured seconds per way and round (default 1, 5)
#   WAYS         comma-separated, of poll:MS, long-poll, sse, ws, ws-deflate
#                (default poll:100,poll:1000,long-poll,sse,ws,ws-deflate)
#   OUT          where the .md, .svg and .csv go, without the extension
#                (default docs/polling-vs-push)
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-100}
INTERVAL_MS=${INTERVAL_MS:-100}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-1}
SECS=${SECS:-5}
WAYS=${WAYS:-poll:100,poll:1000,long-poll,sse,ws,ws-deflate}
OUT=${OUT:-docs/polling-vs-push}
TARGET=${CARGO_TARGET_DIR:-target}/release/examples

echo "== cargo build --release --example polling_vs_push --example push_load"
timeout 1200 cargo build --release --example polling_vs_push --example push_load

# Two CPUs or more: the server on CPU 0, the clients on CPU 1, so neither
# takes the other's time.
server_pin=() client_pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    server_pin=(taskset -c 0) client_pin=(taskset -c 1)
fi

log=$(mktemp)
server=
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap cleanup EXIT

"${server_pin[@]}" "$TARGET/polling_vs_push" 127.0.0.1:0 --interval-ms "$INTERVAL_MS" >"$log" 2>&1 &
server=$!
addr=
for _ in $(seq 100); do
    addr=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n1 | sed 's|http://||') || true
    [ -n "$addr" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$log"; echo "the server did not start" >&2; exit 1; }
    sleep 0.1
done
[ -n "$addr" ] || { cat "$log"; echo "the server did not say its address" >&2; exit 1; }
echo "== server on $addr (pid $server)"

mkdir -p "$(dirname "$OUT")"
# Each way takes WARMUP + SECS and about a second of setting up and
# tearing down; allow twice that.
n_ways=$(tr ',' '\n' <<<"$WAYS" | wc -l)
limit=$(awk -v r="$ROUNDS" -v n="$n_ways" -v w="$WARMUP" -v s="$SECS" \
    'BEGIN { printf "%d", 2 * r * n * (w + s + 1) + 30 }')
"${client_pin[@]}" timeout "$limit" "$TARGET/push_load" "$addr" \
    --server-pid "$server" --clients "$CLIENTS" --interval-ms "$INTERVAL_MS" \
    --rounds "$ROUNDS" --warmup-secs "$WARMUP" --secs "$SECS" --ways "$WAYS" \
    --md "$OUT.md" --svg "$OUT.svg" --csv "$OUT.csv"

kill -0 "$server" 2>/dev/null || { cat "$log"; echo "the server died during the run" >&2; exit 1; }
echo "== wrote $OUT.md, $OUT.svg and $OUT.csv"
