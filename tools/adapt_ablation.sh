#!/usr/bin/env bash
# The stage-2 ablation of docs/training.md (issue 10): each row fine-tunes the stage-1 weights
# with configs/dhr-s-adapt.toml, every adaptation weight at 0 except the row's, for ITERATIONS
# iterations, then scores the result with `dehaze eval` on the evaluation sets (all 58 images of
# ../shared/data/real_hazy; the 31 pairs of ../shared/data/paired, set by set). Nothing of the
# evaluation sets is read by the training.
#
#   DEHAZE=target/release/dehaze DEVICE=tch ITERATIONS=500 bash tools/adapt_ablation.sh [ROW...]
#
# Rows (default: all, in this order): priors (DCP, CAP, BCCR; no training), pretrained (the
# stage-1 weights, no training), full, consistency, dark, bright, channels, clahe, scattering,
# strong, mncd, gauss, mncd-enc, gauss-enc. A trained row writes configs/ablation-ROW.toml
# (git-ignored; beside the base config so its relative paths hold) and OUT/ROW/ (training run,
# eval-real/, eval-paired/SET/; OUT = $ABLATION_DIR, default runs/ablation). A row whose
# weights exist is only re-scored; a killed row resumes. `python3 tools/ablation_table.py OUT` prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${DEHAZE:-dehaze}
device=${DEVICE:-cpu}
iterations=${ITERATIONS:-500}
out=${ABLATION_DIR:-runs/ablation}
data=../shared/data

# Adaptation weights of each row (key=value; every other adaptation weight is 0). The
# consistency pair is in every row: without it nothing anchors the synthetic skill.
declare -A ROWS=(
  [consistency]="consistency=1.0 real_consistency=0.5"
  [dark]="consistency=1.0 real_consistency=0.5 dark_channel=1.0"
  [bright]="consistency=1.0 real_consistency=0.5 bright_channel=0.5"
  [clahe]="consistency=1.0 real_consistency=0.5 clahe=1.0"
  [channels]="consistency=1.0 real_consistency=0.5 dark_channel=1.0 bright_channel=0.5"
  [full]="consistency=1.0 real_consistency=0.5 dark_channel=1.0 bright_channel=0.5 clahe=1.0"
  [scattering]="consistency=1.0 real_consistency=0.5 dark_channel=1.0 bright_channel=0.5 clahe=1.0 scattering=5.0"
  [strong]="consistency=1.0 real_consistency=0.1 dark_channel=4.0 bright_channel=1.0 clahe=1.0 scattering=5.0"
  [mncd]="consistency=1.0 real_consistency=0.5 dark_channel=1.0 bright_channel=0.5 clahe=1.0 mncd=0.1"
  [gauss]="consistency=1.0 real_consistency=0.5 dark_channel=1.0 bright_channel=0.5 clahe=1.0 contrastive=0.1"
  [mncd-enc]="consistency=1.0 real_consistency=0.5 dark_channel=1.0 bright_channel=0.5 clahe=1.0 mncd=0.1 features=enc"
  [gauss-enc]="consistency=1.0 real_consistency=0.5 dark_channel=1.0 bright_channel=0.5 clahe=1.0 contrastive=0.1 features=enc"
)
# `features=enc`: the contrastive terms' features from the frozen encoder of the stage-1
# weights (loss.features = a DHR weights file) instead of the seeded VGG19 stand-in.
stage1=runs/dhr-s-real/best.safetensors
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(priors pretrained full consistency dark bright channels clahe scattering strong mncd gauss mncd-enc gauss-enc)

# score OUT METHOD-FLAGS...: `dehaze eval` on the real hazy set and on each paired set.
score() {
  local out=$1
  shift
  echo "== $out: real_hazy"
  "$bin" eval "$@" --device "$device" --jobs 1 --hazy "$data/real_hazy" -r \
    -o "$out/eval-real" --thumb-size 320 >/dev/null
  for set in "$data"/paired/*/; do
    local name
    name=$(basename "$set")
    echo "== $out: paired/$name"
    "$bin" eval "$@" --device "$device" --jobs 1 --hazy "$set/hazy" --clear "$set/clear" \
      -o "$out/eval-paired/$name" --thumb-size 320 >/dev/null
  done
}

for row in "${rows[@]}"; do
  case $row in
    priors)
      score "$out/priors" -m dcp -m cap -m bccr
      continue
      ;;
    pretrained)
      score "$out/pretrained" -m dhr-s --weights "$stage1"
      continue
      ;;
  esac
  weights_of_row=${ROWS[$row]:?unknown row $row (rows: ${!ROWS[*]})}
  config=configs/ablation-$row.toml
  run=$out/$row
  # Every adaptation weight to 0, then the row's; the row's length, output folder, and one
  # validation at the end.
  script='s/^(dark_channel|bright_channel|clahe|scattering|consistency|real_consistency|mncd|contrastive) = .*/\1 = 0.0/'
  sed -E "$script" configs/dhr-s-adapt.toml |
    sed -E "s/^iterations = .*/iterations = $iterations/" |
    sed -E "/^\[validation\]/,/^\[/ s/^interval = .*/interval = $iterations/" |
    sed -E "s#^dir = .*#dir = \"../$run\"#" >"$config.tmp"
  for kv in $weights_of_row; do
    if [ "$kv" = features=enc ]; then
      sed -i -E "s#^\[loss\]#[loss]\nfeatures = \"../$stage1\"#" "$config.tmp"
      continue
    fi
    sed -i -E "s/^${kv%%=*} = .*/${kv%%=*} = ${kv#*=}/" "$config.tmp"
  done
  mv "$config.tmp" "$config"

  if [ ! -f "$run/dhr.safetensors" ]; then
    resume=()
    [ -f "$run/checkpoints/latest" ] && resume=(--resume)
    echo "== $row: training ($weights_of_row; $iterations iterations)"
    "$bin" train --config "$config" --device "$device" "${resume[@]}"
  fi
  score "$run" -m dhr-s --weights "$run/dhr.safetensors"
done
