#!/usr/bin/env bash
# The evaluation behind models/dhr-s.md: DHR-S against the dark channel prior (and CAP, BCCR)
# with `dehaze eval`, on the real hazy set (no-reference metrics: FADE, NIQE, BRISQUE, entropy)
# and on each paired set (adds PSNR / SSIM against the ground truth). Prints each summary.md.
#
#   bash bench/eval_dhr.sh [WEIGHTS] [WORKDIR]
#
# Defaults: WEIGHTS models/dhr-s.safetensors, WORKDIR bench/out/eval-dhr. Reports (with
# report.html and the dehazed images) land in WORKDIR/<set>/.
set -euo pipefail
cd "$(dirname "$0")/.."
weights=${1:-models/dhr-s.safetensors}
work=${2:-bench/out/eval-dhr}
data=../shared/data
mkdir -p "$work"
cargo build --release -q
bin=target/release/dehaze
methods=(-m dcp -m cap -m bccr -m dhr-s --weights "$weights")

echo "== real_hazy"
$bin eval "${methods[@]}" --hazy "$data/real_hazy" -r -o "$work/real_hazy"
for set in "$data"/paired/*/; do
  name=$(basename "$set")
  echo "== $name"
  $bin eval "${methods[@]}" --hazy "$set/hazy" --clear "$set/clear" -o "$work/$name"
done
