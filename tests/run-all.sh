#!/usr/bin/env bash
# run-all.sh - build wrapd twice (gcc with -Werror, then clang with ASan and
# UBSan) and run every test with ctest in each build.  This is the project's
# test command.
#
# The sanitizer pass uses clang: its UBSan reports more than gcc's (a NULL
# array plus zero, for one), and it is the compiler of the fuzz build.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

run_build() {
	local dir=$1; shift
	cmake -S . -B "$dir" -DWRAPD_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
	(cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600)
}

echo "== build/ci: gcc -Wall -Wextra -Werror"
CC=gcc run_build build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== build/ci-clang-asan: clang, AddressSanitizer + UndefinedBehaviorSanitizer"
CC=clang \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_build build/ci-clang-asan -DCMAKE_BUILD_TYPE=Debug -DWRAPD_SANITIZE=ON
echo "== man pages: mandoc -Tlint"
mandoc -Tlint -Wwarning man/*.[58]
