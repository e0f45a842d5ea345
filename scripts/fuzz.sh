#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time, as CI does.
#
#   scripts/fuzz.sh [SECONDS]        # default 30 seconds per target
#
# Works on the stable toolchain: the targets are built without a sanitizer
# (`--sanitizer none`), which needs no nightly feature. Each target starts
# from a copy of its committed seeds (fuzz/corpus/<target>/seed-*) and
# regression inputs (fuzz/regressions/<target>/*) in a temporary
# directory, under a memory limit that catches any allocation sized by a
# length the input declares (64 MiB for one allocation, 2 GiB in all). A
# crash leaves its input in fuzz/artifacts/<target>/ and makes the script
# exit non-zero.
#
# Environment:
#   FUZZ_TOOLCHAIN   rustup toolchain to use, e.g. `nightly` (default: the
#                    directory's default toolchain)
#   FUZZ_SANITIZER   `none` (default) or, on nightly, `address`
#   FUZZ_TARGETS     space-separated targets to run (default: all)
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2

seconds=${1:-30}
case $seconds in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS]" >&2
    exit 2
    ;;
esac
sanitizer=${FUZZ_SANITIZER:-none}
cargo=(cargo)
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    cargo+=("+$FUZZ_TOOLCHAIN")
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if ! "${cargo[@]}" fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    "${cargo[@]}" install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# The same flags for build and run, so `cargo fuzz run` finds the build
# up to date.
build_flags=(--sanitizer "$sanitizer")

start=$SECONDS
if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
    for target in "${targets[@]}"; do
        "${cargo[@]}" fuzz build "${build_flags[@]}" "$target"
    done
else
    mapfile -t targets < <("${cargo[@]}" fuzz list)
    "${cargo[@]}" fuzz build "${build_flags[@]}"
fi
echo "built ${#targets[@]} targets in $((SECONDS - start)) s"

work=$(mktemp -d "${TMPDIR:-/tmp}/rfc6455-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
failures=()
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    if compgen -G "fuzz/corpus/$target/seed-*" >/dev/null; then
        cp fuzz/corpus/"$target"/seed-* "$corpus"/
    fi
    # Inputs that once crashed run first, every time.
    if compgen -G "fuzz/regressions/$target/*" >/dev/null; then
        cp fuzz/regressions/"$target"/* "$corpus"/
    fi
    log="$work/$target.log"
    # One allocation over 64 MiB is a crash (the targets configure limits
    # of at most 1 MiB): libFuzzer's -malloc_limit_mb enforces it only under
    # a sanitizer, so the targets' allocator (fuzz/src/lib.rs) enforces it
    # in every build. -rss_limit_mb: so is a process over 2 GiB; -timeout:
    # so is one input running over 10 s.
    if "${cargo[@]}" fuzz run "${build_flags[@]}" "$target" "$corpus" -- \
        -max_total_time="$seconds" \
        -rss_limit_mb=2048 \
        -malloc_limit_mb=64 \
        -timeout=10 \
        -print_final_stats=1 \
        >"$log" 2>&1; then
        status=passed
        passed=$((passed + 1))
    else
        status=FAILED
        failed=$((failed + 1))
        failures+=("$target")
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    corpus_size=$(find "$corpus" -type f | wc -l)
    printf '%-20s %-7s %12s executions  %6s corpus inputs\n' \
        "$target" "$status" "${runs:-?}" "$corpus_size"
    if [ "$status" = FAILED ]; then
        echo "---- last lines of the $target log ----"
        tail -n 40 "$log"
        echo "---- (the crashing input is in fuzz/artifacts/$target/) ----"
    fi
done

echo "total time $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
    echo "failed: ${failures[*]}"
    exit 1
fi
