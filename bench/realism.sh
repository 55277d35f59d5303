#!/usr/bin/env bash
# Realism check of the haze synthesis: are synthetic hazy images distributed like real ones?
# Synthesises from the clean images in ../shared/data (with their depth maps where there are
# some, pseudo-depth for the Kodak photos), once with the full multi-degradation pipeline
# (configs/synth.toml) and once with scattering alone (configs/synth-scatter-only.toml), scores
# every image with `dehaze metrics`, and prints the FADE / NIQE / BRISQUE distributions next to
# those of the real hazy images in ../shared/data/real_hazy.
#
#   bash bench/realism.sh [WORKDIR]      (default WORKDIR: bench/out/realism)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-bench/out/realism}
data=../shared/data
mkdir -p "$work"
cargo build --release -q
bin=target/release/dehaze

for arm in full:configs/synth.toml scatter-only:configs/synth-scatter-only.toml; do
  name=${arm%%:*}; cfg=${arm#*:}
  for set in middlebury:disparity eth3d_two_view:disparity esanet_kinect_sample:depth; do
    ds=${set%%:*}; kind=${set#*:}
    $bin synth --clean $data/depth/$ds/rgb --depth $data/depth/$ds/depth --depth-kind $kind \
      --out "$work/$name/$ds" --per-image 4 --seed 7 --config "$cfg" 2>/dev/null
  done
  $bin synth --clean $data/clean_outdoor/kodak --out "$work/$name/kodak" --per-image 4 --seed 7 \
    --config "$cfg" 2>/dev/null
  $bin metrics "$work/$name"/*/hazy > "$work/$name.csv"
done
$bin metrics -r $data/real_hazy > "$work/real.csv"

python3 - "$work" <<'PY'
import csv, statistics as st, sys
work = sys.argv[1]
def load(name):
    with open(f"{work}/{name}.csv") as f:
        return list(csv.DictReader(f))
print("| set | n | FADE mean | FADE median [p25, p75] | NIQE-Y mean | BRISQUE mean |")
print("|---|---|---|---|---|---|")
for name, label in [("real", "real hazy (shared/data/real_hazy)"),
                    ("full", "synthetic, full pipeline"),
                    ("scatter-only", "synthetic, scattering only")]:
    rows = load(name)
    col = lambda k: [float(r[k]) for r in rows if r.get(k)]
    fade = sorted(col("fade"))
    q = st.quantiles(fade, n=4)
    print(f"| {label} | {len(rows)} | {st.mean(fade):.3f} | {st.median(fade):.3f} [{q[0]:.3f}, {q[2]:.3f}] "
          f"| {st.mean(col('niqe_y')):.2f} | {st.mean(col('brisque')):.2f} |")
PY
