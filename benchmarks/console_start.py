"""Console start to first reply: `printf '/aide\\n' | tisserand console`, timed end to end.

    python benchmarks/console_start.py [--runs 7]

Each run is a fresh process on a fresh data directory (so it includes migrating a new database),
then a second series on the same (already migrated) database. Prints the median and the spread.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _once(data_dir: Path, run: int = 0) -> float:
    tisserand = shutil.which("tisserand") or str(Path(sys.executable).with_name("tisserand"))
    env = {**os.environ, "TISSERAND_DATA_DIR": str(data_dir), "LANG": "fr_FR.UTF-8"}
    env.pop("TISSERAND_DATABASE_URL", None)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [tisserand, "console", "--out", str(data_dir / f"out{run}")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("/aide\n")
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            raise RuntimeError("no reply")
        if line.startswith("[#2]"):
            elapsed = time.perf_counter() - start
            break
    proc.stdin.close()
    proc.wait(timeout=60)
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = [_once(Path(tmp) / f"fresh{i}") for i in range(args.runs)]
        warm_dir = Path(tmp) / "warm"
        _once(warm_dir)
        warm = [_once(warm_dir, run + 1) for run in range(args.runs)]
    for label, values in (("new database", fresh), ("existing database", warm)):
        print(
            f"console start to first reply ({label}, {args.runs} runs): median {statistics.median(values):.0f} ms"
            f"  min {min(values):.0f} ms  max {max(values):.0f} ms"
        )


if __name__ == "__main__":
    main()
