#!/usr/bin/env bash
# tests/fuzz/run.sh: builds refnet's libFuzzer targets with clang and runs each one.
#
#   tests/fuzz/run.sh [SECONDS] [BUILD_DIR] [TARGET...]
#
# SECONDS per target (default 60). TARGETs default to all of them (fuzz_envelope, fuzz_records,
# fuzz_api, fuzz_hsds); naming some builds and runs only those. BUILD_DIR defaults to
# $REFNET_FUZZ_BUILD or build-fuzz at the top of the checkout; it is a separate clang build (REFNET_FUZZ=ON,
# SANITIZE=address), so it never disturbs the normal one. Each target starts from the committed seeds in
# tests/fuzz/corpus/<target>/ and writes what it discovers to BUILD_DIR/fuzz-corpus/<target>/,
# leaving the committed corpus untouched. A crash, a leak or a sanitizer report leaves its input
# in BUILD_DIR/fuzz-artifacts/ and makes this script exit 1. Copy such an input into
# tests/fuzz/corpus/<target>/ once fixed: ctest then replays it in every build.
#
# Needs clang and its fuzzer runtime (Debian: clang, libclang-rt-14-dev) on top of the project's
# own build dependencies; installs them with apt-get when run as root. Exits 77 when they are
# missing and cannot be installed (tests/run.sh then reports the fuzz step as skipped).
set -euo pipefail

FUZZ_SECONDS=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${2:-${REFNET_FUZZ_BUILD:-$ROOT/build-fuzz}}
ALL_TARGETS=(fuzz_envelope fuzz_records fuzz_api fuzz_hsds)
TARGETS=("${@:3}")
if [ "${#TARGETS[@]}" -eq 0 ]; then
    TARGETS=("${ALL_TARGETS[@]}")
fi
CLANG_PACKAGES=(clang libclang-rt-14-dev)

if ! [[ "$FUZZ_SECONDS" =~ ^[0-9]+$ ]] || [ "$FUZZ_SECONDS" -lt 1 ]; then
    echo "usage: tests/fuzz/run.sh [SECONDS] [BUILD_DIR] [TARGET...]" >&2
    exit 2
fi
for t in "${TARGETS[@]}"; do
    if ! [[ " ${ALL_TARGETS[*]} " == *" $t "* ]]; then
        echo "fuzz: unknown target $t (known: ${ALL_TARGETS[*]})" >&2
        exit 2
    fi
done

# Longest input each target is given: the envelope target goes past WIRE_MAX_FRAME (64 KiB) so
# that the size gate is exercised too.
max_len_of() {
    case "$1" in
    fuzz_envelope) echo 66000 ;;
    *) echo 16384 ;;
    esac
}

# True when clang can build and link a libFuzzer target.
clang_fuzzer_works() {
    command -v clang >/dev/null 2>&1 || return 1
    local tmp
    tmp=$(mktemp -d)
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$tmp/t.c"
    if clang -fsanitize=fuzzer,address "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1; then
        rm -rf "$tmp"
        return 0
    fi
    rm -rf "$tmp"
    return 1
}

if ! clang_fuzzer_works; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "fuzz: installing ${CLANG_PACKAGES[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${CLANG_PACKAGES[@]}" >/dev/null
    fi
    if ! clang_fuzzer_works; then
        echo "fuzz: clang with libFuzzer is missing; install: ${CLANG_PACKAGES[*]}" >&2
        exit 77
    fi
fi

echo "fuzz: configuring $BUILD"
mkdir -p "$BUILD"
CC=clang cmake -S "$ROOT" -B "$BUILD" -DREFNET_FUZZ=ON -DSANITIZE=address \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/configure.log" 2>&1 || {
    cat "$BUILD/configure.log" >&2
    exit 1
}
echo "fuzz: building ${TARGETS[*]}"
cmake --build "$BUILD" -j2 --target "${TARGETS[@]}" >"$BUILD/build.log" 2>&1 || {
    tail -50 "$BUILD/build.log" >&2
    exit 1
}

mkdir -p "$BUILD/fuzz-artifacts"
failed=()
for t in "${TARGETS[@]}"; do
    work="$BUILD/fuzz-corpus/$t"
    mkdir -p "$work"
    log="$BUILD/fuzz-$t.log"
    # A target with a dictionary of its input's words (tests/fuzz/<target>.dict) gets it.
    dict=()
    if [ -f "$ROOT/tests/fuzz/$t.dict" ]; then
        dict=(-dict="$ROOT/tests/fuzz/$t.dict")
    fi
    echo "fuzz: running $t for ${FUZZ_SECONDS}s"
    if "$BUILD/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$(max_len_of "$t")" -print_final_stats=1 ${dict[@]+"${dict[@]}"} \
        -artifact_prefix="$BUILD/fuzz-artifacts/$t-" \
        "$work" "$ROOT/tests/fuzz/corpus/$t" >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
        echo "fuzz: $t ok: ${runs:-?} runs, ${cov:-cov: ?}, corpus $(find "$work" -type f | wc -l) inputs"
    else
        echo "fuzz: $t FAILED; last lines of $log:" >&2
        tail -40 "$log" >&2
        failed+=("$t")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: failures in ${failed[*]}; inputs in $BUILD/fuzz-artifacts/" >&2
    exit 1
fi
echo "fuzz: all targets ran ${FUZZ_SECONDS}s without a crash"
