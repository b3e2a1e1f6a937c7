"""Runs several benchmark commands interleaved (A B C D A B C D ...) and summarises them, so
that a shared machine's changing load hits every engine alike.

Each command must print one line with "<x> img/s mean" and "peak RSS <n> MiB" (what
`runexp bench` and tools/bench_pytorch.py print). Before each run the 1-minute load average
must be below --max-load; otherwise it waits (up to --wait seconds, then runs anyway and
says so). Prints each run as it ends and then, per command, the mean, min and max of
images/s (and its sample sd) and of peak RSS, and the load seen before its runs.

    python3 tools/bench_interleaved.py --rounds 4 \\
        'runexp fp32=.build/release/runexp bench --steps 8' \\
        'runexp bf16=.build/release/runexp bench --steps 8 --precision bf16' \\
        'pytorch cl=/tmp/torchenv/bin/python tools/bench_pytorch.py --steps 8 --channels-last' \\
        'pytorch bf16=/tmp/torchenv/bin/python tools/bench_pytorch.py --steps 8 --autocast-bf16'
"""

import argparse
import os
import re
import shlex
import statistics
import subprocess
import time


def wait_for_quiet(max_load, limit):
    start = time.time()
    while os.getloadavg()[0] >= max_load and time.time() - start < limit:
        time.sleep(10)
    return os.getloadavg()[0], time.time() - start


def main():
    p = argparse.ArgumentParser(description="Interleaved benchmark rounds.")
    p.add_argument("commands", nargs="+", help="NAME=COMMAND")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--max-load", type=float, default=0.7, help="1-minute load to wait for before each run")
    p.add_argument("--wait", type=float, default=300, help="longest wait for it, in seconds")
    args = p.parse_args()
    named = [c.split("=", 1) for c in args.commands]
    results = {name: [] for name, _ in named}
    for r in range(args.rounds):
        for name, command in named:
            load, waited = wait_for_quiet(args.max_load, args.wait)
            out = subprocess.run(shlex.split(command), capture_output=True, text=True).stdout
            rate = re.search(r"([\d.]+) img/s mean", out)
            rss = re.search(r"peak RSS (\d+) MiB", out)
            if not rate or not rss:
                print(f"round {r} {name}: no result\n{out}", flush=True)
                continue
            results[name].append((float(rate.group(1)), int(rss.group(1)), load))
            late = "" if load < args.max_load else f" (load still {load:.2f} after {waited:.0f} s)"
            print(f"round {r} {name}: {rate.group(1)} img/s, {rss.group(1)} MiB, load {load:.2f}{late}", flush=True)
    print("\n| engine | images/s mean ± sd | min–max | peak RSS MiB | load before runs |\n|---|---:|---:|---:|---:|")
    for name, rows in results.items():
        if not rows:
            continue
        rates, rss, loads = zip(*rows)
        sd = statistics.stdev(rates) if len(rates) > 1 else 0
        print(f"| {name} | {statistics.mean(rates):.2f} ± {sd:.2f} | {min(rates):.2f}–{max(rates):.2f} | {min(rss)}–{max(rss)} "
              f"| {min(loads):.2f}–{max(loads):.2f} |")


if __name__ == "__main__":
    main()
