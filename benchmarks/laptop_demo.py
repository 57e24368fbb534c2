"""Time the laptop s1 demo: the sweep with the shipped checkpoint, and (optionally) training one seed from scratch.

    python benchmarks/laptop_demo.py [--n-eval 200] [--train-seed 0]

Targets: `s1 demo` with the shipped checkpoint <= 60 s; training one seed <= 15 min on the 2-core machine with one
torch thread; all shipped checkpoints <= 5 MB of package data. Wall time depends on how busy the machine is, so
the table also prints the process CPU time. Prints a table and writes benchmarks/results/laptop_demo.json.
"""
import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-eval", type=int, default=200, help="held-out questions per setting")
    ap.add_argument("--train-seed", type=int, default=None, help="also train this seed from scratch and time it")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "laptop_demo.json"))
    args = ap.parse_args()

    from s1_nb.laptop import run_demo, train_laptop
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t, c = time.time(), time.process_time()
        h = run_demo(out=str(Path(tmp) / "demo"), n_eval=args.n_eval)
        rows.append(dict(what=f"s1 demo, shipped checkpoint, {args.n_eval} questions", seconds=round(time.time() - t, 1),
                         cpu_seconds=round(time.process_time() - c, 1), goal_seconds=60, wait_gain=h[0]["wait_gain"]))
        if args.train_seed is not None:
            info = train_laptop(Path(tmp) / "train", seed=args.train_seed, progress=False)
            rows.append(dict(what=f"train seed {args.train_seed} (base + s1 stage)",
                             seconds=round(info["base_seconds"] + info["s1_seconds"], 1),
                             cpu_seconds=round(info["base_cpu_seconds"] + info["s1_cpu_seconds"], 1), goal_seconds=900))
    from s1_nb.core import _laptop_assets_folder
    size = sum(f.stat().st_size for f in _laptop_assets_folder().rglob("*") if f.is_file())
    rows.append(dict(what="package data, shipped laptop files (MB)", seconds=round(size / 2**20, 2), cpu_seconds="",
                     goal_seconds=5))
    load = os.getloadavg()[0]
    print(f"{'what':<52}{'wall s':>9}{'cpu s':>9}{'goal s':>9}")
    for r in rows: print(f"{r['what']:<52}{r['seconds']:>9}{r['cpu_seconds']:>9}{r['goal_seconds']:>9}")
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} cores")
    out = Path(args.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(rows=rows, load_average=load, cpus=os.cpu_count(), machine=platform.platform()), indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
