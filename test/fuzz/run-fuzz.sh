#!/bin/sh
# SPDX-License-Identifier: MIT
# Fuzz mica with fuzz-ops.c (doc/testing.md, "Fuzzing") for a time budget.
#   libfuzzer: clang -fsanitize=fuzzer,address,undefined; mica (src/static.c,
#              MI_TRACK_ASAN 1, MI_OVERRIDE 0) instrumented for coverage
#              and ASan too, so ASan also sees mica's blocks
#   afl:       AFL++'s afl-clang-fast (ASan: AFL_USE_ASAN) and its
#              libFuzzer-style driver (libAFLDriver.a), afl-fuzz -V SECONDS
# Both start from test/fuzz/corpus (plus WORK_DIR/corpus, which keeps what
# earlier runs found); a crash, a failed check or a leak of the harness
# fails the run and leaves the input in WORK_DIR (libFuzzer: crash-*;
# AFL++: out/default/crashes/). To replay one: fuzz-ops FILE (libFuzzer)
# or the replay build of ctest, `test-fuzz-replay FILE`.
# MICA_FUZZ_TRACK=0 builds mica without MI_TRACK_ASAN (ASan still checks
# mica's own code): then guarded sampling, which a tracked build never does,
# is fuzzed too (the OPTION operation sets a heap's sample rate).
# usage: run-fuzz.sh ENGINE SECONDS SOURCE_DIR WORK_DIR
set -eu
engine=$1 seconds=$2 src=$3 work=$4
mkdir -p "$work/corpus"
common="-g -O1 -fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -I$src/include -I$src/src -DMI_TRACK_ASAN=${MICA_FUZZ_TRACK:-1} -DMI_OVERRIDE=0"
case $engine in
  libfuzzer)
    clang $common -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -c "$src/src/static.c" -o "$work/mica.o"
    clang $common -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -pthread \
      "$src/test/fuzz/fuzz-ops.c" "$work/mica.o" -o "$work/fuzz-ops"
    cd "$work"
    ASAN_OPTIONS=detect_leaks=1 ./fuzz-ops -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
      -print_final_stats=1 corpus "$src/test/fuzz/corpus"
    ;;
  afl)
    export AFL_USE_ASAN=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
    afl-clang-fast $common -c "$src/src/static.c" -o "$work/mica-afl.o"
    afl-clang-fast $common -pthread "$src/test/fuzz/fuzz-ops.c" "$work/mica-afl.o" /usr/lib/afl/libAFLDriver.a -o "$work/fuzz-ops-afl"
    rm -rf "$work/afl-in" "$work/out" && mkdir -p "$work/afl-in"
    cp "$src/test/fuzz/corpus/"* "$work/afl-in/"
    ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 afl-fuzz -i "$work/afl-in" -o "$work/out" -m none -t 20000 \
      -V "$seconds" -- "$work/fuzz-ops-afl"
    crashes=$(find "$work/out" -path '*crashes/id:*' | wc -l)
    echo "afl-fuzz: $crashes crashing inputs"
    [ "$crashes" = 0 ]
    ;;
  *) echo "usage: run-fuzz.sh libfuzzer|afl SECONDS SOURCE_DIR WORK_DIR" >&2; exit 2 ;;
esac
