#!/usr/bin/env bash
# Fuzz smoke run: every target replays its seed corpus, then fuzzes for SECONDS (default 20);
# any crash, hang (> 10 s per input), leak of more than 2 GB or panic fails the script.
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and, on a stable toolchain,
# RUSTC_BOOTSTRAP=1 for its -Z flags. Usage: fuzz/smoke.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decode_image synth_config metrics niqe weights train_config)
fi
# No sanitizer: the Rust code is safe code (a panic or abort is what we look for); libjpeg's C
# is fuzzed upstream under ASan (OSS-Fuzz). One build, all targets (the nn feature adds Burn).
cargo fuzz build -s none --features nn
for t in "${targets[@]}"; do
  work="$(mktemp -d)"
  cp corpus/"$t"/* "$work"/ 2>/dev/null || true
  echo "== fuzz $t for ${seconds}s"
  status=0
  cargo fuzz run -s none --features nn "$t" "$work" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$work.log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|cov: .*DONE|Done [0-9]+ runs" "$work.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$work.log" >&2
    echo "fuzz $t: failed (exit $status); the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  rm -f "$work.log"
  rm -rf "$work"
done
