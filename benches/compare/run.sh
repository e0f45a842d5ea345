#!/usr/bin/env bash
# rfc6455 side by side with fastwebsockets, tokio-websockets and tungstenite.
#
#   benches/compare/run.sh
#
# 1. Builds this project (its own workspace and Cargo.lock) in release mode.
# 2. In memory, warm (src/bin/inmem.rs --mode warm): the same pre-encoded
#    masked frames read by each library's server read path, a wire of about
#    4 MiB read again every sample (in cache), next to memcpy of the same
#    bytes; binary and four text mixes (ASCII, mixed 80/20, CJK, emoji).
# 3. In memory, cold (src/bin/inmem.rs --mode cold): the same, the wire
#    at least 256 MiB and streamed once per sample, so it comes from memory
#    as traffic from a socket does.
# 4. Loopback echo (src/bin/loadgen.rs echo): each library's echo server
#    (src/bin/echo_server.rs, tokio current-thread runtime) pinned to CPU 0,
#    one load generator pinned to CPU 1; 1, 16 and 256 connections; 32 B,
#    1 KiB and 64 KiB payloads; several rounds, libraries interleaved;
#    messages per second, per server CPU-second, and the server's CPU
#    time per echo split into user space and kernel.
# 5. Idle memory (src/bin/loadgen.rs memory): VmRSS of each echo server
#    holding 10,000 idle connections after the handshake.
# 6. Loopback echo with permessage-deflate (loadgen echo --deflate): the
#    same load with JSON-like text compressed both ways, rfc6455 against
#    yawc, every server at level 6 with 15-bit windows and context takeover
#    (src/bin/echo_server.rs), the compressed reply sizes beside.
# 7. Loopback echo through blocking servers (step echo-blocking): the same
#    load against rfc6455's blocking adapter and tungstenite's blocking
#    WebSocket, a thread per connection, each `read()` then `send()`.
# 8. Deflate backends (src/bin/deflate_backends.rs, step deflate): flate2's
#    three backends (zlib-rs, miniz_oxide, C zlib) each through its own API,
#    compressing and decompressing the payloads of benches/deflate.rs at the
#    crate's default level, windows of 15 and 12 bits, interleaved samples.
#
# Markdown tables go to stdout and to results/ (inmem.md, inmem-cold.md,
# echo.md, memory.md, echo-deflate.md, echo-blocking.md,
# deflate-backends.md, machine.md; echo-raw.csv, echo-deflate-raw.csv and
# echo-blocking-raw.csv have every echo sample).
# machine.md also gets the load average and the time of every step. Every
# load targets 127.0.0.1; each step is bounded in time and memory (the cold
# step holds about twice its wire). The whole run takes about 15 minutes on
# 2 cores (warm 0.5, cold 6 with a 256 MiB wire and more with a larger
# one, echo 3, echo-deflate 1.5, echo-blocking 2, deflate 1.5); half the
# cold step is its 16-byte rows, 12 million messages a pass of 256 MiB.
#
# Environment:
#   SAMPLES      warm in-memory samples per library and payload (default 21)
#   COLD_SAMPLES cold in-memory samples (default 7)
#   COLD_MIB     cold wire size in MiB (default: twice the L3 cache the
#                machine reports, at least 256 and at most 4096; the cold
#                step's time grows with it, 6 minutes per 256 MiB)
#   INMEM_KINDS  in-memory contents: binary,ascii,mixed,cjk,emoji; text for
#                the four text mixes (default all)
#   INMEM_SIZES  in-memory payload sizes in bytes (default
#                16,125,1024,16384,1048576)
#   INMEM_ONLY   in-memory readers whose names contain any of these
#                comma-separated words (default all when warm; when cold,
#                COLD_ONLY)
#   COLD_ONLY    cold readers when INMEM_ONLY is unset (default: rfc6455
#                receive_buffer and read_with, the three peers, memcpy; "all"
#                adds rfc6455's receive and read(), which cost a third more
#                time)
#   ROUNDS       echo rounds (default 3)
#   WARMUP, SECS echo warm-up and measurement seconds (default 0.25, 0.75)
#   CONNS        echo connection counts (default 1,16,256)
#   SIZES        echo payload sizes in bytes (default 32,1024,65536)
#   VARIANTS     echo servers to run (default: all but tokio-websockets-feed)
#   IDLE_CONNS   connections for the memory step (default 10000)
#   DEFLATE_SIZES    echo-deflate payload sizes (default 125,1024,16384)
#   DEFLATE_VARIANTS echo-deflate servers (default rfc6455-deflate,
#                rfc6455-read_with-deflate,yawc-deflate)
#   BLOCKING_VARIANTS echo-blocking servers (default rfc6455-blocking,
#                tungstenite-blocking)
#   BACKEND_SAMPLES, BACKEND_SAMPLE_MIB  deflate step: samples, and MiB
#                of payload per sample and row (default 7 and 8)
#   INMEM_TUNABLES  GLIBC_TUNABLES for the in-memory steps (default: glibc's
#                rep movsb off, see below; empty for glibc's defaults)
#   STEPS        any of "inmem cold echo memory echo-deflate echo-blocking
#                deflate" (default all)
#
# Examples:
#   STEPS=cold INMEM_KINDS=mixed,cjk INMEM_SIZES=16384,1048576 bash run.sh
#   STEPS=inmem INMEM_KINDS=text bash run.sh
set -euo pipefail
cd "$(dirname "$0")"

SAMPLES=${SAMPLES:-21}
COLD_SAMPLES=${COLD_SAMPLES:-7}
# A wire that fits in the last-level cache is read back from it, not from
# memory: the cold wire is at least twice the L3 (a 256 MiB wire was eight
# times one machine's L3 and half another's).
l3_mib() {
    local size
    size=$(cat /sys/devices/system/cpu/cpu0/cache/index3/size 2>/dev/null || true)
    case $size in
        *K) echo $((${size%K} / 1024)) ;;
        *M) echo "${size%M}" ;;
        *) echo 0 ;;
    esac
}
cold_default=$((2 * $(l3_mib)))
cold_default=$((cold_default < 256 ? 256 : cold_default > 4096 ? 4096 : cold_default))
COLD_MIB=${COLD_MIB:-$cold_default}
COLD_ONLY=${COLD_ONLY:-receive_buffer,read_with,fastwebsockets,tokio-websockets,tungstenite,memcpy}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-0.25}
SECS=${SECS:-0.75}
CONNS=${CONNS:-1,16,256}
SIZES=${SIZES:-32,1024,65536}
IDLE_CONNS=${IDLE_CONNS:-10000}
DEFLATE_SIZES=${DEFLATE_SIZES:-125,1024,16384}
DEFLATE_VARIANTS=${DEFLATE_VARIANTS:-rfc6455-deflate,rfc6455-read_with-deflate,yawc-deflate}
BLOCKING_VARIANTS=${BLOCKING_VARIANTS:-rfc6455-blocking,tungstenite-blocking}
BACKEND_SAMPLES=${BACKEND_SAMPLES:-7}
BACKEND_SAMPLE_MIB=${BACKEND_SAMPLE_MIB:-8}
STEPS=${STEPS:-inmem cold echo memory echo-deflate echo-blocking deflate}
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
    echo "- Caches: L2 $(cat /sys/devices/system/cpu/cpu0/cache/index2/size 2>/dev/null || echo '?') per core, L3 $(l3_mib) MiB; cold wire $COLD_MIB MiB"
    echo
} | tee "$RESULTS/machine.md"

cold_args=(--mode cold --samples "$COLD_SAMPLES" --cold-mib "$COLD_MIB")
if [ -z "${INMEM_ONLY:-}" ] && [ "$COLD_ONLY" != all ]; then
    cold_args+=(--only "$COLD_ONLY")
fi

variant_args=()
if [ -n "${VARIANTS:-}" ]; then
    variant_args=(--variants "$VARIANTS")
fi

# The machine may be shared: the load average every 30 s, to read the
# figures against (results/load.txt, summed up in machine.md).
while sleep 30; do
    echo "$(date +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
done >"$RESULTS/load.txt" &
load_pid=$!
trap 'kill "$load_pid" 2>/dev/null || true' EXIT

# The echo steps' bound grows with the work asked of them: every round
# runs each server (at most 7) in every configuration for its warm-up and
# measurement plus about 1.5 s to connect and drain, and 300 s more.
count() { echo "$1" | tr ',' '\n' | grep -c .; }
echo_bound() {
    awk -v r="$ROUNDS" -v w="$WARMUP" -v s="$SECS" -v n="$(($(count "$CONNS") * $1))" \
        'BEGIN { printf "%d", r * n * 7 * (w + s + 1.5) + 300 }'
}

# The in-memory transport copies with glibc's memcpy, which for 64 KiB
# uses `rep movsb`. On an AMD EPYC (Zen 3) with glibc 2.36 that copy ran
# 12 times slower (455 against 37 us per MiB) when the destination lay 16
# bytes past a page boundary and the source just before it: 4 KiB
# aliasing. Which reader's buffers land there depends on what was
# allocated before, so rows moved with the order of the steps (a 1 MiB
# read 65,000 ns alone, 200,000 after the small sizes). With rep movsb off
# every alignment copies at 28-40 us per MiB. A socket's copy is the
# kernel's, not glibc's, so the echo steps keep the default.
INMEM_TUNABLES=${INMEM_TUNABLES-glibc.cpu.x86_rep_movsb_threshold=4294967295}
echo "- In-memory steps run with GLIBC_TUNABLES=$INMEM_TUNABLES" >>"$RESULTS/machine.md"

started=$SECONDS
for step in $STEPS; do
    step_started=$SECONDS
    echo "- Load average before step $step: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/machine.md"
    case $step in
        inmem)
            echo "== in memory, warm ($SAMPLES samples)" >&2
            GLIBC_TUNABLES=$INMEM_TUNABLES timeout 600 "${PIN_CLIENT[@]}" "$BIN/inmem" --mode warm --samples "$SAMPLES" |
                tee "$RESULTS/inmem.md"
            ;;
        cold)
            echo "== in memory, cold ($COLD_SAMPLES samples, $COLD_MIB MiB wire)" >&2
            # 30 minutes per 256 MiB of wire: five times what it takes.
            GLIBC_TUNABLES=$INMEM_TUNABLES timeout $((1800 * (COLD_MIB + 255) / 256)) "${PIN_CLIENT[@]}" "$BIN/inmem" "${cold_args[@]}" |
                tee "$RESULTS/inmem-cold.md"
            ;;
        echo)
            echo "== loopback echo ($ROUNDS rounds)" >&2
            timeout "$(echo_bound "$(count "$SIZES")")" "${PIN_CLIENT[@]}" "$BIN/loadgen" echo \
                --rounds "$ROUNDS" --warmup "$WARMUP" --secs "$SECS" \
                --conns "$CONNS" --sizes "$SIZES" --server-cpu "$SERVER_CPU" \
                --server "$BIN/echo_server" --out "$RESULTS" "${variant_args[@]}"
            ;;
        echo-deflate)
            echo "== loopback echo with permessage-deflate ($ROUNDS rounds)" >&2
            timeout "$(echo_bound "$(count "$DEFLATE_SIZES")")" "${PIN_CLIENT[@]}" "$BIN/loadgen" echo --deflate \
                --rounds "$ROUNDS" --warmup "$WARMUP" --secs "$SECS" \
                --conns "$CONNS" --sizes "$DEFLATE_SIZES" --server-cpu "$SERVER_CPU" \
                --server "$BIN/echo_server" --out "$RESULTS" --variants "$DEFLATE_VARIANTS"
            ;;
        echo-blocking)
            echo "== loopback echo through blocking servers ($ROUNDS rounds)" >&2
            timeout "$(echo_bound "$(count "$SIZES")")" "${PIN_CLIENT[@]}" "$BIN/loadgen" echo \
                --rounds "$ROUNDS" --warmup "$WARMUP" --secs "$SECS" \
                --conns "$CONNS" --sizes "$SIZES" --server-cpu "$SERVER_CPU" \
                --server "$BIN/echo_server" --out "$RESULTS" --variants "$BLOCKING_VARIANTS"
            ;;
        deflate)
            echo "== deflate backends ($BACKEND_SAMPLES samples of $BACKEND_SAMPLE_MIB MiB)" >&2
            timeout 900 "${PIN_CLIENT[@]}" "$BIN/deflate_backends" \
                --samples "$BACKEND_SAMPLES" --sample-mib "$BACKEND_SAMPLE_MIB" |
                tee "$RESULTS/deflate-backends.md"
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
    echo "- Step $step: $((SECONDS - step_started)) s" >>"$RESULTS/machine.md"
done

{
    echo "- Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Steps run: $STEPS, in $((SECONDS - started)) s"
    if [ -s "$RESULTS/load.txt" ]; then
        echo "- 1-minute load average every 30 s during the run: $(cut -d' ' -f2 "$RESULTS/load.txt" |
            sort -n | sed -n '1p;$p' | paste -sd- -) (min-max)"
    fi
} | tee -a "$RESULTS/machine.md"
