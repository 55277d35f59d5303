#!/usr/bin/env bash
# DHR training throughput: our Burn implementation (flex CPU backend, or Burn's LibTorch
# backend) vs the same network in PyTorch (tools/dhr_torch.py), same work, same thread count,
# one run each.
#
#   BENCH_BACKEND=flex|tch bash bench/train_throughput.sh
#
# Environment (defaults): BENCH_BACKEND (flex; tch builds with `--features tch` against the
# torch of TORCH_PYTHON and runs `--device tch`), BENCH_THREADS (2), BENCH_MODEL (dhr-s),
# BENCH_BATCH (8), BENCH_CROP (128), BENCH_ITERS (10 timed steps after BENCH_WARMUP = 2),
# BENCH_FORWARD (512: also time one forward pass of a 512x512 image; 0 = skip), TORCH_PYTHON
# (/work/venv/bin/python), CARGO_TARGET_DIR (target).
#
# One training step = forward + L1 loss + backward + Adam update on a fixed random batch.
# Output: the RESULT lines of both sides, logs in bench/out/, then the ratio
# Burn seconds per step / PyTorch seconds per step (1.0 = as fast as PyTorch).
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${BENCH_THREADS:-2}
MODEL=${BENCH_MODEL:-dhr-s}
BATCH=${BENCH_BATCH:-8}
CROP=${BENCH_CROP:-128}
ITERS=${BENCH_ITERS:-10}
WARMUP=${BENCH_WARMUP:-2}
FORWARD=${BENCH_FORWARD:-512}
PY=${TORCH_PYTHON:-/work/venv/bin/python}
BACKEND=${BENCH_BACKEND:-flex}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=bench/out
mkdir -p "$OUT"
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS \
  OPENBLAS_NUM_THREADS=$THREADS

case "$BACKEND" in
  flex)
    DEVICE=cpu
    cargo build --release -q -p dehaze-nn --example bench_train
    ;;
  tch)
    # libtorch from the pip-installed torch (README, "Fast CPU backend").
    DEVICE=tch
    PATH="$(dirname "$PY"):$PATH" LIBTORCH_USE_PYTORCH=1 \
      cargo build --release -q -p dehaze-nn --features tch --example bench_train
    TORCH_LIB=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
    export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    ;;
  *) echo "BENCH_BACKEND must be flex or tch" >&2; exit 2 ;;
esac
BIN="$TARGET/release/examples/bench_train"

echo "== training step: $MODEL on $BACKEND, batch $BATCH x ${CROP}x$CROP, $THREADS threads"
"$BIN" --device "$DEVICE" --model "$MODEL" --batch "$BATCH" --crop "$CROP" --iters "$ITERS" \
  --warmup "$WARMUP" | tee "$OUT/train_burn.log"
"$PY" tools/dhr_torch.py --bench train --model "$MODEL" --threads "$THREADS" --batch "$BATCH" \
  --crop "$CROP" --iters "$ITERS" --warmup "$WARMUP" | tee "$OUT/train_torch.log"
if [ "$FORWARD" -gt 0 ]; then
  echo "== forward: $MODEL, 1 x ${FORWARD}x$FORWARD, $THREADS threads"
  "$BIN" --device "$DEVICE" --model "$MODEL" --forward "$FORWARD" | tee "$OUT/forward_burn.log"
  "$PY" tools/dhr_torch.py --bench forward --model "$MODEL" --threads "$THREADS" --size "$FORWARD" \
    | tee "$OUT/forward_torch.log"
fi

field() { grep RESULT "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
"$PY" - "$(field "$OUT/train_burn.log" it_per_s)" "$(field "$OUT/train_torch.log" it_per_s)" "$BACKEND" <<'PY'
import sys
burn, torch = map(float, sys.argv[1:3])
print(f"training: Burn ({sys.argv[3]}) {burn:.3f} it/s, PyTorch {torch:.3f} it/s; "
      f"time ratio Burn/PyTorch = {torch / burn:.2f} (goal <= 1.2)")
PY
if [ "$FORWARD" -gt 0 ]; then
  "$PY" - "$(field "$OUT/forward_burn.log" median_s)" "$(field "$OUT/forward_torch.log" median_s)" "$BACKEND" <<'PY'
import sys
burn, torch = map(float, sys.argv[1:3])
print(f"forward: Burn ({sys.argv[3]}) {burn:.3f} s, PyTorch {torch:.3f} s; time ratio Burn/PyTorch = {burn / torch:.2f} (goal <= 1.2)")
PY
fi
