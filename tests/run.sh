#!/usr/bin/env bash
# tests/run.sh: the whole refnet test suite, as CI runs it (.ci/run).
#
#   tests/run.sh           packages, then build/ (warnings are errors) and ctest, then the same
#                          suite in build-asan/ under AddressSanitizer and UBSan, then every
#                          libFuzzer target for REFNET_CI_FUZZ_SECONDS (default 10) in build-fuzz/
#   tests/run.sh --quick   only the first pass
#
# Missing Debian packages are installed when run as root, and named otherwise (see
# deploy/lib/deps.sh). The exit status is ctest's: non-zero when either pass failed to configure,
# build or test. Works from any folder.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR/.. source=deploy/lib/deps.sh
source deploy/lib/deps.sh

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}

QUICK=0
for arg in "$@"; do
    case $arg in
    --quick) QUICK=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "tests/run.sh: unknown argument '$arg'" >&2
        usage >&2
        exit 2
        ;;
    esac
done

# Two cores: two compile jobs, and two tests at a time. The integration tests use free ports and
# their own temporary folders, so they run side by side safely; most of their time is spent
# waiting on the daemons, not computing.
JOBS=2
START=$SECONDS

say() {
    printf '\n==> [%3ss] %s\n' "$((SECONDS - START))" "$*"
}

# suite DIR [CMAKE ARGS]...: configure, build and test one build folder. Returns non-zero at the
# first step that fails.
suite() {
    local dir=$1 rc=0
    shift
    say "Configuring $dir ($*)"
    cmake -S "$ROOT" -B "$ROOT/$dir" -DREFNET_WERROR=ON "$@" || return $?
    say "Building $dir with -j$JOBS"
    cmake --build "$ROOT/$dir" -j"$JOBS" || return $?
    say "Testing $dir: ctest -j$JOBS"
    (cd "$ROOT/$dir" && ctest --output-on-failure -j"$JOBS") || rc=$?
    say "ctest in $dir finished with status $rc"
    return "$rc"
}

say "Checking the Debian packages"
deps_install

STATUS=0
suite build || STATUS=$?
if ((QUICK == 0)); then
    suite build-asan -DSANITIZE=address || {
        rc=$?
        ((STATUS != 0)) || STATUS=$rc
    }
    # Every fuzzer, briefly, from its committed corpus: a regression that a few seconds of
    # fuzzing finds never reaches a release. About 1.5 minutes: the clang build, then each
    # target for REFNET_CI_FUZZ_SECONDS. Long runs are tests/fuzz/run.sh's job.
    say "Fuzzing each target for ${REFNET_CI_FUZZ_SECONDS:-10}s (tests/fuzz/run.sh)"
    rc=0
    tests/fuzz/run.sh "${REFNET_CI_FUZZ_SECONDS:-10}" "$ROOT/build-fuzz" || rc=$?
    if ((rc == 77)); then
        say "Fuzz step skipped: clang with libFuzzer is not available"
    elif ((rc != 0)); then
        say "Fuzz step failed with status $rc"
        ((STATUS != 0)) || STATUS=$rc
    fi
else
    say "Skipping the sanitizer pass and the fuzz step (--quick)"
fi

if ((STATUS == 0)); then
    say "All passes succeeded in $((SECONDS - START))s"
else
    say "FAILED (status $STATUS) after $((SECONDS - START))s"
fi
exit "$STATUS"
