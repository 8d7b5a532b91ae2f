#!/usr/bin/env python3
"""Summarise a network homeostasis run: per-cell and mean rates over the last window.

Usage: summarise_network.py TRACES.csv SPIKES.csv TARGET_HZ [WINDOW_S=500]

Prints the network's mean rate and each cell's rate over the last WINDOW_S
seconds (from the detector spikes), their deviation from the target, and each
cell's final multipliers with their net change over the window.
Standard library only.
"""

import csv
import sys
from collections import defaultdict


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    target = float(sys.argv[3])
    window_ms = 1000.0 * float(sys.argv[4]) if len(sys.argv) == 5 else 500e3
    with open(sys.argv[1]) as f:
        rows = list(csv.DictReader(f))
    t_end = float(rows[-1]["t"])
    start = t_end - window_ms
    late = [r for r in rows if float(r["t"]) >= start]
    counts = defaultdict(int)
    cells = sorted({c.split(".homeostasis")[0] for c in rows[0] if ".homeostasis.rate" in c})
    with open(sys.argv[2]) as f:
        for r in csv.DictReader(f):
            if float(r["t"]) >= start:
                counts[r["cell"]] += 1
    seconds = window_ms / 1000.0
    rates = {c: counts[c] / seconds for c in cells}
    mean = sum(rates.values()) / len(rates)
    worst = max(abs(r / target - 1.0) for r in rates.values())
    print(f"window {start / 1000:.0f}-{t_end / 1000:.0f} s, target {target} Hz: network mean {mean:.3f} Hz "
          f"({100 * (mean / target - 1):+.1f} %), worst cell {100 * worst:.1f} % off")
    for c in cells:
        ms = [k for k in rows[0] if k.startswith(f"{c}.homeostasis.m[")]
        parts = []
        for k in ms:
            first, last = float(late[0][k]), float(late[-1][k])
            parts.append(f"{k.split('[')[-1][:-1]} {last:.3f} ({100 * (last / first - 1):+.1f} %)")
        print(f"  {c:<10} {rates[c]:6.3f} Hz ({100 * (rates[c] / target - 1):+6.1f} %)  " + ", ".join(parts))


if __name__ == "__main__":
    main()
