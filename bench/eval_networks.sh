#!/usr/bin/env bash
# The evaluation behind the model cards (models/dhr-s.md, models/ka-net-s.md): networks beside
# the classical priors with `dehaze eval`, on the real hazy set (no-reference metrics: FADE,
# NIQE, BRISQUE, entropy; all 58 images, subfolders included) and on each paired set (adds
# PSNR / SSIM against the ground truth). Prints each summary (summary.md).
#
#   bash bench/eval_networks.sh [WORKDIR] [METHOD FLAGS...]
#
# WORKDIR defaults to bench/out/eval; the flags (`-m …`, `--weights FILE` for an unbundled
# network, one at a time) to `-m dcp -m cap -m bccr -m dhr-s -m ka-net-s`, the networks with
# their bundled weights. DEHAZE names the binary (default: a release build of this checkout) and DEVICE its
# backend (default cpu; tch needs a `--features tch` build, README). Reports (with
# report.html and the dehazed images) land in WORKDIR/<set>/.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-bench/out/eval}
shift || true
methods=("$@")
[ ${#methods[@]} -gt 0 ] || methods=(-m dcp -m cap -m bccr -m dhr-s -m ka-net-s)
data=../shared/data
device=${DEVICE:-cpu}
if [ -n "${DEHAZE:-}" ]; then
  bin=$DEHAZE
else
  cargo build --release -q
  bin=target/release/dehaze
fi
mkdir -p "$work"

echo "== real_hazy"
"$bin" eval "${methods[@]}" --device "$device" --hazy "$data/real_hazy" -r -o "$work/real_hazy"
for set in "$data"/paired/*/; do
  name=$(basename "$set")
  echo "== $name"
  "$bin" eval "${methods[@]}" --device "$device" --hazy "$set/hazy" --clear "$set/clear" \
    -o "$work/$name"
done
