#!/usr/bin/env bash
# Network forward-pass benchmark: our Burn KA-Net (flex CPU backend) against our PyTorch
# reference implementation of the same network (tools/ka_net_torch.py), same input size and
# thread count, one run each, then a ratio table.
#
#   bench/nn_forward.sh [MODELS...]        (default: ka-net; dhr-s / dhr-b time Burn only)
#
# Environment (defaults): BENCH_THREADS (2), BENCH_SIZE (512), BENCH_REPS (5),
# TORCH_PY (/work/venv-torch/bin/python), CARGO_TARGET_DIR (target).
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${BENCH_THREADS:-2}
SIZE=${BENCH_SIZE:-512}
REPS=${BENCH_REPS:-5}
PY=${TORCH_PY:-/work/venv-torch/bin/python}
TARGET=${CARGO_TARGET_DIR:-target}
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=(ka-net)
OUT=bench/out
mkdir -p "$OUT"

# The same thread count everywhere: rayon (burn-flex and gemm), PyTorch's intra-op pool
# (also set with torch.set_num_threads), OpenMP/MKL.
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

cargo build --release -q -p dehaze-nn --example bench_forward
BIN="$TARGET/release/examples/bench_forward"

median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$1"; }

printf '%-8s %6s %7s %12s %12s %10s\n' model size threads "burn ms" "pytorch ms" "burn/torch"
for m in "${MODELS[@]}"; do
  "$BIN" --model "$m" --size "$SIZE" --reps "$REPS" > "$OUT/nn_burn_$m.log"
  burn=$(median "$OUT/nn_burn_$m.log")
  torch="-" ratio="-"
  if [ "$m" = ka-net ]; then
    "$PY" tools/ka_net_torch.py bench --size "$SIZE" --threads "$THREADS" --reps "$REPS" \
      > "$OUT/nn_torch_$m.log"
    torch=$(median "$OUT/nn_torch_$m.log")
    ratio=$(awk -v a="$burn" -v b="$torch" 'BEGIN { printf "%.2f", a / b }')
  fi
  printf '%-8s %6s %7s %12s %12s %10s\n' "$m" "$SIZE" "$THREADS" "$burn" "$torch" "$ratio"
done
echo "logs: $OUT/nn_burn_*.log, $OUT/nn_torch_*.log"
