#!/usr/bin/env python3
"""Markdown table from the benchmark logs: method, median seconds, ratio to the OpenCV DCP,
peak RSS of the process (from `/usr/bin/time -v`).

    python bench/table.py OUT_DIR NAME [NAME ...]

Reads OUT_DIR/NAME.log (lines `method M runs N median_s X min_s Y`, `stage S median_s X`) and
OUT_DIR/NAME.time; missing names are skipped. When one process timed several methods, they
share its peak RSS (the largest of them).
"""
import os
import re
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, names = sys.argv[1], sys.argv[2:]
    rows, stages = [], []
    for name in names:
        log, tim = os.path.join(out, name + ".log"), os.path.join(out, name + ".time")
        if not os.path.exists(log):
            continue
        rss = None
        if os.path.exists(tim):
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(tim).read())
            rss = int(m.group(1)) / 1024 if m else None
        shared = sum(1 for line in open(log) if line.startswith("method ")) > 1
        for line in open(log):
            f = line.split()
            if f[:1] == ["method"] and len(f) >= 8:
                label = f[1] if name.startswith(("opencv", "image_dehazer")) else f"ours {f[1]}"
                rows.append((label, int(f[3]), float(f[5]), float(f[7]), rss, shared))
            elif f[:1] == ["method"]:
                rows.append((f"ours {f[1]}", 0, None, None, rss, shared))
            elif f[:1] == ["stage"]:
                stages.append((f[1], float(f[3])))
    ref = next((r[2] for r in rows if r[0] == "opencv_dcp"), None)
    print("| method | runs | median s | min s | OpenCV DCP / method | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, runs, med, mn, rss, shared in rows:
        if med is None:
            print(f"| {label} | – | failed | – | – | – |")
            continue
        ratio = f"{ref / med:.1f}×" if ref else "–"
        r = "–" if rss is None else f"{rss:.0f}" + (" (shared)" if shared else "")
        print(f"| {label} | {runs} | {med:.3f} | {mn:.3f} | {ratio} | {r} |")
    if stages:
        print()
        print("| DCP stage (ours) | median s |")
        print("|---|---:|")
        for s, v in stages:
            print(f"| {s} | {v:.4f} |")


if __name__ == "__main__":
    main()
