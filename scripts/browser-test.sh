#!/usr/bin/env bash
# The chat example in a real browser (tests/browser/chat.mjs): two headless
# Chromium tabs exchange messages; a message sent before joining (Enter or
# Send, with or without a name) joins and is delivered; a refused name or
# message keeps the text; a message typed while the server is down stays
# pending, survives a reload and is delivered once the server is back and
# the page has reconnected by itself.
#
# Installs what it needs when missing: Debian's chromium (as root, with
# apt-get) and the pinned playwright-core from tests/browser/package-lock.json
# (npm ci). Needs Node.js 20 or later.
#
#   scripts/browser-test.sh                      # run the test
#   scripts/browser-test.sh --update-screenshot  # and save docs/chat.png
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--update-screenshot" ]]; then
    export CHAT_SCREENSHOT="$PWD/docs/chat.png"
elif [[ $# -gt 0 ]]; then
    echo "usage: $0 [--update-screenshot]" >&2
    exit 2
fi

if [[ ! -x /usr/bin/chromium ]]; then
    echo "== installing chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q chromium
fi

source scripts/playwright-core.sh

echo "== building the chat example"
cargo build --example chat

echo "== browser test (tests/browser/chat.mjs)"
CHAT_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/examples/chat" node tests/browser/chat.mjs
