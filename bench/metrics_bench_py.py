"""Python peer of examples/bench_metrics.rs: times pyfade (fade-python 1.0.0) on one image.

Usage: python bench/metrics_bench_py.py IMAGE   (needs `pip install fade-python==1.0.0`)
"""
import sys
import time

import numpy as np
import pyfade
from PIL import Image

img = np.array(Image.open(sys.argv[1]).convert("RGB"))
value = pyfade.fade(img)  # warm-up (numba compilation, model loading)
times = []
for _ in range(5):
    t = time.perf_counter()
    pyfade.fade(img)
    times.append(time.perf_counter() - t)
times.sort()
print(f"pyfade       value {value:>10.6f}  best {times[0]:>8.4f} s  median {times[len(times) // 2]:>8.4f} s")
