#!/usr/bin/env bash
# The chat example as one room over two processes and Redis
# (`chat --redis`, examples/chat/cluster.rs), in a real browser
# (tests/browser/chat-cluster.mjs): a tab on each process sees the other's
# messages and the room's online count; Redis is killed and started again
# mid-test and both processes recover, the message sent meanwhile
# delivered once it is back; a crashed process drops out of the count.
#
# Installs what it needs when missing: Debian's redis-server and chromium
# (as root, with apt-get) and the pinned playwright-core from
# tests/browser/package-lock.json (npm ci). Needs Node.js 20 or later.
# The test starts redis-server itself on a free 127.0.0.1 port, with no
# persistence and its files in a temporary directory, and two chat
# processes; it ends them when it finishes, and this script's trap ends
# whatever is left should the test itself die. At most 5 minutes.
#
#   scripts/chat-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -gt 0 ]]; then
    echo "usage: $0" >&2
    exit 2
fi

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "== installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
fi
# Debian's package starts a redis-server service on port 6379 where a
# service manager runs; this test uses its own on another port, and leaves
# that one alone.

source scripts/playwright-core.sh

echo "== building the chat example"
cargo build --example chat
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

dir=$(mktemp -d "${TMPDIR:-/tmp}/chat-cluster.XXXXXX")
runner=""
cleanup() {
    local status=$?
    [[ -n "$runner" ]] && kill -KILL "$runner" 2>/dev/null || true
    # The test writes the pids of what it started; end those still running.
    if [[ -f "$dir/pids" ]]; then
        while read -r pid; do
            [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
        done <"$dir/pids"
    fi
    rm -rf "$dir"
    exit "$status"
}
trap cleanup EXIT INT TERM

echo "== browser test across two chat processes and Redis (tests/browser/chat-cluster.mjs)"
CHAT_BIN="$target_dir/debug/examples/chat" CLUSTER_DIR="$dir" \
    timeout --kill-after=10 330 node tests/browser/chat-cluster.mjs &
runner=$!
wait "$runner"
