#!/usr/bin/env bash
# The crate's three `unsafe` spots under Miri: the AVX2 build of the
# masking loops (frame::mask), the `&str` and `String` built from validated
# text (utf8), and the unmasked bytes appended to a `Vec` without zero-fill
# (frame::mask::extend_masked).
#
#   scripts/miri.sh
#
# Needs a nightly toolchain with the miri component, which CI does not
# have (it has no network but the package registries), so this runs
# locally. AVX2 is enabled at compile time so that Miri, which reports no
# run-time CPU features, takes the AVX2 path; the tests compare it with
# the byte-by-byte reference. The proptest runs 8 cases: Miri is about a
# thousand times slower than native code. About two minutes here.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly miri --version >/dev/null 2>&1; then
    echo "miri.sh: needs 'rustup toolchain install nightly --component miri'" >&2
    exit 2
fi
export MIRIFLAGS="-Zmiri-disable-isolation"
export PROPTEST_CASES=8
export RUSTFLAGS="-C target-feature=+avx2"
export CARGO_TARGET_DIR=target/miri
exec cargo +nightly miri test --lib -- \
    utf8:: \
    frame::mask::tests::unmasking_text_tells_ascii \
    frame::mask::tests::extend_masked \
    frame::mask::tests::a_split_payload \
    frame::mask::tests::masking_twice
