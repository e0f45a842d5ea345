#!/usr/bin/env bash
# Load on the chat example: N WebSocket clients in one room, on one chat
# process or on two joined through Redis (`chat --redis`), measured by
# benches/compare/src/bin/chat_load.rs (delivered messages per second,
# latency from send to every receiver, memory per connection, losses).
#
#   scripts/chat-load.sh                       # 1,000 and 10,000 clients
#   CLIENTS=1000 SETUPS=1 scripts/chat-load.sh # one run
#
# Environment:
#   CLIENTS  comma-separated client counts (default 1000,10000)
#   SETUPS   1 (one process), 2 (two processes and Redis), or both
#            (default 1,2)
#   DELIVERIES  deliveries a second to aim for (default 100000): each run
#            has DELIVERIES / (clients x RATE) senders, so 100 of 1,000
#            clients send and 10 of 10,000 (every message goes to every
#            client: the cost is messages x clients)
#   SENDERS  clients that send, instead
#   RATE     messages a second per sender, at most 5 (default 1)
#   SECS     how long they send (default 20)
#   DEFLATE  1: the clients offer permessage-deflate, as browsers do
#            (default: they do not)
#   OUT      the markdown table (default benches/compare/results/chat-load.md)
#
# Everything listens on 127.0.0.1 and is started here: redis-server on a
# free port with no persistence and its own temporary directory (installed
# from Debian's packages when missing), the chat processes (release
# build), and the load tool; each run is bounded (chat_load's own
# deadlines, and `timeout`), and the trap ends all of them. The fd limit
# is raised for 10,000 connections (each is a descriptor on both ends).
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-1000,10000}
SETUPS=${SETUPS:-1,2}
DELIVERIES=${DELIVERIES:-100000}
SENDERS=${SENDERS:-}
RATE=${RATE:-1}
SECS=${SECS:-20}
DEFLATE=${DEFLATE:-}
OUT=${OUT:-benches/compare/results/chat-load.md}

# Descriptors: the chat processes and the load tool inherit this.
hard=$(ulimit -Hn)
want=200000
if [[ "$hard" != "unlimited" && "$hard" -lt "$want" ]]; then want=$hard; fi
ulimit -n "$want"
echo "== fd limit $(ulimit -n)"

if [[ ",$SETUPS," == *",2,"* ]] && ! command -v redis-server >/dev/null; then
    echo "== installing redis-server (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q redis-server
fi

echo "== building the chat example and chat_load (release)"
cargo build --release --example chat
(cd benches/compare && cargo build --release --bin chat_load)
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
compare_dir="${CARGO_TARGET_DIR:-$PWD/benches/compare/target}"
chat="$target_dir/release/examples/chat"
load="$compare_dir/release/chat_load"

dir=$(mktemp -d "${TMPDIR:-/tmp}/chat-load.XXXXXX")
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
    exit "$status"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (10 s at most) until file $1 has a line matching $2.
wait_for() {
    for _ in $(seq 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "not ready: $1 never said $2" >&2
    tail -5 "$1" >&2
    return 1
}

stop_all() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
failed=0
IFS=, read -ra client_counts <<<"$CLIENTS"
IFS=, read -ra setups <<<"$SETUPS"
for n in "${client_counts[@]}"; do
    for setup in "${setups[@]}"; do
        run="$dir/run-$n-$setup"
        mkdir -p "$run"
        chat_args=()
        label="1 process"
        if [[ "$setup" == 2 ]]; then
            redis_port=$(free_port)
            redis-server --port "$redis_port" --bind 127.0.0.1 --protected-mode yes \
                --save "" --appendonly no --dir "$run" --daemonize no \
                --logfile "$run/redis.log" &
            pids+=($!)
            wait_for "$run/redis.log" "Ready to accept connections"
            chat_args=(--redis "redis://127.0.0.1:$redis_port/")
            label="2 processes + Redis"
        fi
        addrs=()
        chat_pids=()
        for i in $(seq "$setup"); do
            port=$(free_port)
            "$chat" "127.0.0.1:$port" "${chat_args[@]}" >"$run/chat-$i.log" 2>&1 &
            pids+=($!)
            chat_pids+=($!)
            addrs+=("127.0.0.1:$port")
            wait_for "$run/chat-$i.log" "chat listening on"
            if [[ "$setup" == 2 ]]; then wait_for "$run/chat-$i.log" "connected to Redis"; fi
        done
        senders=${SENDERS:-$(python3 -c "print(max(1, min($n, round($DELIVERIES / ($n * $RATE)))))")}
        echo "== $n clients ($senders sending), $label: ${addrs[*]}"
        if ! timeout --kill-after=10 1500 "$load" \
            --addrs "$(IFS=,; echo "${addrs[*]}")" --pids "$(IFS=,; echo "${chat_pids[*]}")" \
            --clients "$n" --senders "$senders" --rate "$RATE" --secs "$SECS" \
            --label "$label${DEFLATE:+, deflate}" ${DEFLATE:+--deflate} >"$run/row.txt"; then
            failed=1
            echo "   (failed: see the chat logs' last lines)"
            for log in "$run"/chat-*.log; do tail -3 "$log"; done
        fi
        cat "$run/row.txt"
        rows+=("$(cat "$run/row.txt")")
        stop_all
    done
done

{
    echo "Chat load (scripts/chat-load.sh): senders at $RATE message(s)/s each for $SECS s, every"
    echo "message to every client, about ${SENDERS:+$SENDERS senders}${SENDERS:-$DELIVERIES deliveries/s}; $(nproc) cores, $(date -u +%Y-%m-%d),"
    echo "load average before: $load_before."
    echo
    echo "| run | clients | processes | senders | sent | msgs/s in | deliveries/s | p50 ms | p99 ms | p99.9 ms | bytes/conn | chat CPU s | lost | refused | dropped |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
} | tee "$OUT"
exit "$failed"
