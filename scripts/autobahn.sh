#!/usr/bin/env bash
# The Autobahn testsuite in both directions, compared with
# autobahn/expected-results.json.
#
#   scripts/autobahn.sh
#
# 1. Creates a Python virtual environment (.venv-autobahn/, git-ignored) and
#    installs kosoku==0.1.0 from PyPI: a Python 3 runner of the Autobahn
#    testsuite's own case files (the original needs Python 2 and Docker).
# 2. Builds the examples in release mode.
# 3. Runs, each bounded in time, all cases of sections 1-10 and the
#    permessage-deflate sections 12 and 13 (which the examples negotiate by
#    default):
#      server-tokio     kosoku (fuzzing client)  -> examples/echo_server.rs
#      server-blocking  kosoku (fuzzing client)  -> examples/echo_server_blocking.rs
#      client-tokio     examples/autobahn_client.rs            -> kosoku -m fuzzingserver
#      client-blocking  examples/autobahn_client.rs --blocking -> kosoku -m fuzzingserver
#    Sections 12 and 13 are 216 cases of 1000 messages each, 4 to 7
#    minutes a run on 2 cores: all of them run against one server and from
#    one client, one per adapter (AUTOBAHN_DEFLATE_FULL, default
#    server-blocking and client-tokio); the other two runs take a subset
#    that still covers every data set, every parameter combination of 13,
#    the smallest and largest messages and fragmented ones (DEFLATE_SUBSET).
# 4. Compares every run's verdicts with autobahn/expected-results.json
#    (scripts/autobahn_compare.py): prints the verdict counts per run and
#    the cases that do not match, and ends with `N passed, N failed`.
#
# Exits non-zero when any case of any run does not match its expectation,
# or a run did not finish. Reports (kosoku's index.json and per-case JSON and
# HTML) go to autobahn/reports/RUN/, logs to autobahn/reports/logs/.
#
# Environment:
#   AUTOBAHN_CASES    space-separated case ids or globs to run in every run
#                     instead of the above, e.g. "1.* 2.10 9.1.* 12.1.*".
#   AUTOBAHN_DEFLATE_FULL  the runs that take all of sections 12 and 13
#                     (default "server-blocking client-tokio"; "" for none).
#   AUTOBAHN_RUNS     space-separated subset of the runs above.
#   AUTOBAHN_TIMEOUT  seconds each run may take (default 900; sections 1-10
#                     take about 15 s on 2 cores, 12 and 13 in full 4 to 7
#                     minutes, the subset about 1).
#   AUTOBAHN_VENV     where the virtual environment lives (default
#                     .venv-autobahn in the repository).
#   PYTHON            the interpreter that creates it (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

KOSOKU_VERSION=0.1.0
VENV=${AUTOBAHN_VENV:-.venv-autobahn}
RUNS=${AUTOBAHN_RUNS:-server-tokio server-blocking client-tokio client-blocking}
TIMEOUT=${AUTOBAHN_TIMEOUT:-900}
DEFLATE_FULL=${AUTOBAHN_DEFLATE_FULL-server-blocking client-tokio}
REPORTS=autobahn/reports
LOGS=$REPORTS/logs
TARGET=${CARGO_TARGET_DIR:-target}/release/examples

# Every background process, killed on exit.
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for run in $RUNS; do
    case $run in
        server-tokio | server-blocking | client-tokio | client-blocking) ;;
        *) echo "unknown run $run (AUTOBAHN_RUNS)" >&2; exit 2 ;;
    esac
done

# Sections 1-10 (there is no section 8).
PLAIN_SECTIONS="1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.*"
# permessage-deflate for the runs that do not take all of it: every data
# set of 12 and every offer/accept pair of 13, each with messages of 64
# bytes, 1 KiB and 64 KiB, and of 8 KiB and 128 KiB fragmented into
# 256-byte and 32 KiB frames; about 1 minute. kosoku matches an --include
# as a prefix once its `*` is expanded ("12.*.1" also takes 12.1.10 to
# 12.1.18), so no size index here is the start of another.
DEFLATE_SUBSET="12.*.2 12.*.4 12.*.9 12.*.11 12.*.18 13.*.2 13.*.4 13.*.9 13.*.11 13.*.18"

# The case selection of one run, as --include options, the same for kosoku
# and the comparison.
select_for() {
    local run=$1 globs glob
    if [ -n "${AUTOBAHN_CASES:-}" ]; then
        globs=$AUTOBAHN_CASES
    elif [[ " $DEFLATE_FULL " == *" $run "* ]]; then
        globs="$PLAIN_SECTIONS 12.* 13.*"
    else
        globs="$PLAIN_SECTIONS $DEFLATE_SUBSET"
    fi
    SELECT=()
    for glob in $globs; do
        SELECT+=(--include "$glob")
    done
}

echo "== kosoku $KOSOKU_VERSION in $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$VENV"
fi
installed=$("$VENV/bin/python" -c \
    'import importlib.metadata as m; print(m.version("kosoku"))' 2>/dev/null || true)
if [ "$installed" != "$KOSOKU_VERSION" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "kosoku==$KOSOKU_VERSION"
fi
KOSOKU=$VENV/bin/kosoku

echo "== cargo build --release --features tokio --examples"
cargo build --release --features tokio --examples

rm -rf "$REPORTS"
mkdir -p "$LOGS"

# Waits for a line of a log that names the port a process listens on, and
# prints the port; fails if the process exits or 30 s pass first.
wait_for_port() {
    local pid=$1 log=$2 pattern=$3 port
    for _ in $(seq 300); do
        port=$(sed -nE "s#.*$pattern.*#\\1#p" "$log" | head -n 1)
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "process $pid exited before listening; its log $log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "no port in $log after 30 s" >&2
    return 1
}

# Stops a background process (if still running) and waits for it.
stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# The fuzzing client drives one of the echo servers.
run_server() {
    local run=$1 example=$2 pid port rc=0 started=$SECONDS
    select_for "$run"
    echo "== $run: kosoku (fuzzing client) -> examples/$example.rs"
    timeout "$TIMEOUT" "$TARGET/$example" 127.0.0.1:0 "${DEFLATE_ARGS[@]}" \
        >"$LOGS/$run-$example.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    port=$(wait_for_port "$pid" "$LOGS/$run-$example.log" 'listening on ws://127\.0\.0\.1:([0-9]+)')
    timeout --kill-after=10 "$TIMEOUT" "$KOSOKU" "127.0.0.1:$port" "${SELECT[@]}" \
        --outdir "$REPORTS/$run" >"$LOGS/$run-kosoku.log" 2>&1 || rc=$?
    # kosoku exits 1 when a case fails its own judgement; the comparison
    # below decides. Anything else means the run did not finish.
    if [ "$rc" -gt 1 ]; then
        echo "   kosoku exited with $rc (124: timed out after ${TIMEOUT}s); see $LOGS/$run-kosoku.log"
    fi
    stop "$pid"
    tail -n 1 "$LOGS/$run-kosoku.log" | sed 's/^/   kosoku: /'
    echo "   took $((SECONDS - started)) s"
}

# The fuzzing server tests autobahn_client; the client ends the run with
# /updateReports, after which kosoku writes its reports and exits.
run_client() {
    local run=$1 pid port rc=0 started=$SECONDS
    shift
    select_for "$run"
    echo "== $run: examples/autobahn_client.rs $* -> kosoku -m fuzzingserver"
    timeout --kill-after=10 "$TIMEOUT" "$KOSOKU" -m fuzzingserver 127.0.0.1:0 "${SELECT[@]}" \
        --outdir "$REPORTS/$run" >"$LOGS/$run-kosoku.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    port=$(wait_for_port "$pid" "$LOGS/$run-kosoku.log" 'listening on ws://127\.0\.0\.1:([0-9]+)')
    timeout "$TIMEOUT" "$TARGET/autobahn_client" "ws://127.0.0.1:$port" \
        --agent "rfc6455-$run" "$@" "${DEFLATE_ARGS[@]}" --autobahn-offer \
        >"$LOGS/$run-autobahn_client.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "   autobahn_client exited with $rc; see $LOGS/$run-autobahn_client.log"
    fi
    # kosoku ends by itself after /updateReports; give it a moment to write
    # the reports, then stop it if it has not.
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "   kosoku did not end after the client; stopping it"
    fi
    stop "$pid"
    tail -n 1 "$LOGS/$run-kosoku.log" | sed 's/^/   kosoku: /'
    echo "   took $((SECONDS - started)) s"
}

# kosoku 0.1.0 hands the 12.x/13.x cases an uncompressed text message as a
# str and a compressed one as bytes; the cases hash what they get, which
# fails on a str ("Strings must be encoded before hashing", verdict ERROR).
# RFC 7692 lets a sender leave any message uncompressed, and the examples
# do for messages under 32 bytes (DeflateConfig::min_size), so under
# kosoku they compress every message instead.
DEFLATE_ARGS=(--deflate-min-size 0)
# The client also offers as Autobahn's own client does (see --autobahn-offer
# in examples/autobahn_client.rs): the fuzzing server only tries no context
# takeover and window sizes on a client whose offer says it can.

started=$SECONDS
COMPARE=()
for run in $RUNS; do
    case $run in
        server-tokio) run_server "$run" echo_server ;;
        server-blocking) run_server "$run" echo_server_blocking ;;
        client-tokio) run_client "$run" ;;
        client-blocking) run_client "$run" --blocking ;;
    esac
    select_for "$run"
    COMPARE+=(--run "$run=$REPORTS/$run" "${SELECT[@]}")
done
echo "== runs took $((SECONDS - started)) s"

echo "== comparing with autobahn/expected-results.json"
"$VENV/bin/python" scripts/autobahn_compare.py --expected autobahn/expected-results.json \
    "${COMPARE[@]}"
