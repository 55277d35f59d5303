#!/usr/bin/env bash
# Network at a working size + guided upsampling (`--network-size 1024`; the default is `full`):
#   (a) a 24 MP photo, whole process (decode, network, upsampling, encode) of
#       `dehaze -m dhr-s` vs `dehaze -m dcp` on the same file, wall time and peak RSS;
#   (b) on the real hazy set (<= 1.3 MP, where the whole-image pass is the reference): the
#       guided output at working sizes 512/768/1024 vs the whole-image pass: PSNR for a sweep of
#       guide/radius/eps settings, and the change in mean FADE / NIQE / BRISQUE for the default.
#
#   bash bench/guided_upsample.sh
#
# Environment (defaults): BENCH_THREADS (2), BENCH_PYTHON (python3 with OpenCV, to make the
# 24 MP JPEG), BENCH_FULL (0; 1 also times `--network-size full`, the tiled pass: ~3 min),
# BENCH_PART (all; a or b), SHARED_DIR (../shared), CARGO_TARGET_DIR (target).
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${BENCH_THREADS:-2}
PY=${BENCH_PYTHON:-python3}
SHARED=${SHARED_DIR:-../shared}
TARGET=${CARGO_TARGET_DIR:-target}
PART=${BENCH_PART:-all}
OUT=bench/out
mkdir -p "$OUT"
export RAYON_NUM_THREADS=$THREADS

cargo build --release -q -p dehaze-cli -p dehaze-nn --example guided_eval
BIN="$TARGET/release/dehaze"

# One process under /usr/bin/time -v: prints "wall_s peak_rss_mib".
timed() {
  local log=$1
  shift
  /usr/bin/time -v "$@" >"$log" 2>&1
  "$PY" - "$log" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
print(f"{secs:.1f} {rss:.0f}")
PY
}

if [ "$PART" != b ]; then
  IMG=$OUT/hazy_6000x4000.jpg
  [ -f "$IMG" ] || "$PY" bench/make_image.py "$SHARED/reference/images/hazy_1024x768.png" "$IMG" 6000 4000
  echo "== (a) 24 MP ($IMG), whole process, $THREADS threads"
  read -r dcp_s dcp_rss < <(timed "$OUT/big_dcp.log" "$BIN" "$IMG" -m dcp -o "$OUT/big_dcp.jpg")
  read -r net_s net_rss < <(timed "$OUT/big_dhr.log" "$BIN" "$IMG" -m dhr-s -v \
    --network-size 1024 -o "$OUT/big_dhr.jpg")
  grep -h "network at\|whole image\|tiles of" "$OUT/big_dhr.log" || true
  echo "| run | wall s | / DCP | peak RSS MiB |"
  echo "|---|---:|---:|---:|"
  echo "| dcp | $dcp_s | 1.0 | $dcp_rss |"
  "$PY" -c "print(f'| dhr-s --network-size 1024 | $net_s | {$net_s/$dcp_s:.1f} | $net_rss |')"
  if [ "${BENCH_FULL:-0}" = 1 ]; then
    read -r full_s full_rss < <(timed "$OUT/big_full.log" "$BIN" "$IMG" -m dhr-s -v \
      --network-size full -o "$OUT/big_full.jpg")
    "$PY" -c "print(f'| dhr-s --network-size full (tiles) | $full_s | {$full_s/$dcp_s:.1f} | $full_rss |')"
  fi
fi

if [ "$PART" != a ]; then
  echo "== (b) real hazy set: guided at 512/768/1024 vs the whole-image pass (dhr-s)"
  "$TARGET/release/examples/guided_eval" "$SHARED/data/real_hazy" --metrics \
    2>"$OUT/guided_eval.log" | tee "$OUT/guided_eval.txt"
fi
