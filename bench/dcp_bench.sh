#!/usr/bin/env bash
# DCP benchmark: our Rust dark channel prior vs an OpenCV DCP with the same parameters and vs
# the image_dehazer package, on a 3000x2000 image, all at the same thread count.
#
#   bench/dcp_bench.sh [VENV]
#
# Environment (defaults): BENCH_VENV (/work/venv-dcp; the first argument wins), BENCH_THREADS (2),
# BENCH_RUNS (7, Rust and OpenCV), BENCH_PEER_RUNS (3, image_dehazer: ~24 s per run),
# BENCH_METHODS (dcp; e.g. "all" or "dcp,cap,bccr" times our other priors too),
# SHARED_DIR (../shared), CARGO_TARGET_DIR (target).
#
# Output: one process per method under /usr/bin/time -v (for its peak RSS), logs in bench/out/,
# then a table (method, median s, ratio vs OpenCV DCP, peak RSS).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${1:-${BENCH_VENV:-/work/venv-dcp}}
THREADS=${BENCH_THREADS:-2}
RUNS=${BENCH_RUNS:-7}
PEER_RUNS=${BENCH_PEER_RUNS:-3}
METHODS=${BENCH_METHODS:-dcp}
SHARED=${SHARED_DIR:-../shared}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=bench/out
mkdir -p "$OUT"

# Same thread count everywhere: rayon, OpenCV (also set in the scripts), BLAS/OpenMP.
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS \
  MKL_NUM_THREADS=$THREADS

echo "== 1. venv $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# image-dehazer declares opencv-python (the GUI build) as a dependency; installing it next to
# the headless contrib build gives two packages owning `cv2`, so it is installed without deps.
"$VENV/bin/pip" install -q numpy==2.4.6 scipy==1.17.1 opencv-contrib-python-headless==5.0.0.93
"$VENV/bin/pip" install -q --no-deps image-dehazer==0.0.9
if "$VENV/bin/pip" show -q opencv-python >/dev/null 2>&1; then
  "$VENV/bin/pip" uninstall -q -y opencv-python
  "$VENV/bin/pip" install -q --force-reinstall --no-deps opencv-contrib-python-headless==5.0.0.93
fi
PY="$VENV/bin/python"

echo "== 2. test image"
IMG="$OUT/hazy_3000x2000.png"
if [ ! -f "$IMG" ]; then
  "$PY" bench/make_image.py "$SHARED/reference/images/hazy_1024x768.png" "$IMG" 3000 2000
fi

echo "== 3. Rust (release)"
cargo build --release -q -p dehaze-core --example bench_priors
BIN="$TARGET/release/examples/bench_priors"
timed() { # timed NAME CMD... : runs CMD under /usr/bin/time -v, log in $OUT/NAME.log
  local name=$1
  shift
  /usr/bin/time -v -o "$OUT/$name.time" "$@" | tee "$OUT/$name.log"
}
timed rust_dcp "$BIN" "$IMG" --runs "$RUNS" --methods dcp
# Stage breakdown in its own process (it allocates per stage, which would inflate the RSS above).
"$BIN" "$IMG" --runs "$RUNS" --methods none --stages | tee "$OUT/rust_stages.log"
# Our other priors (DCP is timed above), in one more process.
if [ "$METHODS" = all ]; then OTHER=cap,bccr; else OTHER=$(echo "$METHODS" | tr , '\n' | grep -v '^dcp$' | paste -sd, || true); fi
if [ -n "$OTHER" ]; then
  timed rust_other "$BIN" "$IMG" --runs "$RUNS" --methods "$OTHER"
fi

echo "== 4. peers"
timed opencv_dcp "$PY" bench/opencv_dcp.py "$IMG" --runs "$RUNS" --threads "$THREADS"
timed image_dehazer "$PY" bench/image_dehazer_peer.py "$IMG" --runs "$PEER_RUNS" \
  --threads "$THREADS"

echo "== 5. table"
"$PY" bench/table.py "$OUT" rust_dcp rust_stages rust_other opencv_dcp image_dehazer | tee "$OUT/table.md"
