#!/usr/bin/env bash
# Network forward-pass benchmark: our Burn KA-Net (flex CPU backend) against our PyTorch
# reference implementation of the same network (tools/ka_net_torch.py), same input size and
# thread count, one run each, then a ratio table of wall-clock and CPU-time medians (ratio =
# Burn / PyTorch; below 1 means Burn is faster). On a shared machine the CPU times are the
# steadier comparison; PyTorch's OpenMP threads spin while waiting, which inflates its wall time
# when cores are oversubscribed (set OMP_WAIT_POLICY=PASSIVE to avoid that).
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

# Wall-clock and CPU-time medians from a log line "...: median W ms (...); cpu median C ms".
wall() { sed -n 's/.*: median \([0-9.]*\) ms.*/\1/p' "$1"; }
cpu() { sed -n 's/.*cpu median \([0-9.]*\) ms.*/\1/p' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %5s %7s | %9s %9s %6s | %9s %9s %6s\n' model size threads \
  "burn ms" "torch ms" ratio "burn cpu" "torch cpu" ratio
for m in "${MODELS[@]}"; do
  "$BIN" --model "$m" --size "$SIZE" --reps "$REPS" > "$OUT/nn_burn_$m.log"
  bw=$(wall "$OUT/nn_burn_$m.log") bc=$(cpu "$OUT/nn_burn_$m.log")
  tw="-" tc="-" rw="-" rc="-"
  if [ "$m" = ka-net ]; then
    "$PY" tools/ka_net_torch.py bench --size "$SIZE" --threads "$THREADS" --reps "$REPS" \
      > "$OUT/nn_torch_$m.log"
    tw=$(wall "$OUT/nn_torch_$m.log") tc=$(cpu "$OUT/nn_torch_$m.log")
    rw=$(ratio "$bw" "$tw") rc=$(ratio "$bc" "$tc")
  fi
  printf '%-8s %5s %7s | %9s %9s %6s | %9s %9s %6s\n' "$m" "$SIZE" "$THREADS" \
    "$bw" "$tw" "$rw" "$bc" "$tc" "$rc"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "logs: $OUT/nn_burn_*.log, $OUT/nn_torch_*.log"
