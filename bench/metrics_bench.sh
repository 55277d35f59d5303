#!/usr/bin/env bash
# Times the Rust metrics (release build) and, if a Python with fade-python is given, pyfade on
# the same image. Usage: bench/metrics_bench.sh [IMAGE] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
IMG=${1:-../shared/reference/images/hazy_1024x768.png}
PY=${2:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo run -q --release -p dehaze-core --example bench_metrics -- "$IMG" 10
if [ -n "$PY" ]; then
  "$PY" bench/metrics_bench_py.py "$IMG"
fi
