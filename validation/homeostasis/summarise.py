#!/usr/bin/env python3
"""Summarise a homeostasis run: rate over the last window and parameter drift in it.

Usage: summarise.py TRACES.csv SPIKES.csv [WINDOW_S=500]

TRACES.csv is `rall run -o` of a model with [homeostasis] (columns
homeostasis.m[...]), SPIKES.csv its `_spikes.csv`. Prints the spike rate over
the last WINDOW_S seconds, the mean sensor reading there, and per controlled
parameter the net change and the peak-to-peak swing over that window, in %.
Standard library only.
"""

import csv
import sys


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    window_ms = 1000.0 * float(sys.argv[3]) if len(sys.argv) == 4 else 500e3
    with open(sys.argv[1]) as f:
        rows = list(csv.DictReader(f))
    t_end = float(rows[-1]["t"])
    start = t_end - window_ms
    late = [r for r in rows if float(r["t"]) >= start]
    with open(sys.argv[2]) as f:
        spikes = [float(r["t"]) for r in csv.DictReader(f) if float(r["t"]) >= start and float(r["gid"]) == 0]
    rate = len(spikes) / (window_ms / 1000.0)
    sensor = sum(float(r["homeostasis.rate"]) for r in late) / len(late)
    print(f"window {start / 1000:.0f}-{t_end / 1000:.0f} s: spike rate {rate:.3f} Hz, mean sensor {sensor:.3f} Hz")
    for name in rows[0].keys():
        if name.startswith("homeostasis.m["):
            values = [float(r[name]) for r in late]
            net = 100.0 * (values[-1] / values[0] - 1.0)
            swing = 100.0 * (max(values) - min(values)) / values[0]
            print(f"  {name[14:-1]:<20} final multiplier {values[-1]:.4f}  net change {net:+.2f} %  peak-to-peak {swing:.2f} %")


if __name__ == "__main__":
    main()
