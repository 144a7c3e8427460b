"""Console start to first reply: `printf '/aide\\n' | tisserand console`, timed end to end,
and the resident memory of that process once it is idle.

    python benchmarks/console_start.py [--runs 7] [--command console|run]

Each run is a fresh process on a fresh data directory (so it includes migrating a new database),
then a second series on the same (already migrated) database. Prints the median and the spread.
The idle RSS is read from /proc/<pid>/status (VmRSS) half a second after the first reply, while
the process waits for its next line; ``--command run`` starts ``tisserand run`` (the console
when no platform is configured) instead of ``tisserand console``.
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

IDLE_AFTER_S = 0.5


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


RSS: list[float] = []


def _once(data_dir: Path, run: int = 0, command: str = "console") -> float:
    tisserand = shutil.which("tisserand") or str(Path(sys.executable).with_name("tisserand"))
    env = {**os.environ, "TISSERAND_DATA_DIR": str(data_dir), "LANG": "fr_FR.UTF-8"}
    env.pop("TISSERAND_DATABASE_URL", None)
    cwd = data_dir / f"cwd{run}"  # `run` writes the console's journal in ./tisserand-out
    cwd.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [tisserand, "console", "--out", str(data_dir / f"out{run}")]
        if command == "console"
        else [tisserand, "run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
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
    time.sleep(IDLE_AFTER_S)
    RSS.append(_rss_mib(proc.pid))
    proc.stdin.close()
    proc.wait(timeout=60)
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--command", choices=["console", "run"], default="console")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = [_once(Path(tmp) / f"fresh{i}", 0, args.command) for i in range(args.runs)]
        warm_dir = Path(tmp) / "warm"
        _once(warm_dir, 0, args.command)
        RSS.clear()
        warm = [_once(warm_dir, run + 1, args.command) for run in range(args.runs)]
    for label, values in (("new database", fresh), ("existing database", warm)):
        print(
            f"console start to first reply ({label}, {args.runs} runs): median {statistics.median(values):.0f} ms"
            f"  min {min(values):.0f} ms  max {max(values):.0f} ms"
        )
    print(
        f"idle RSS after the first reply (existing database, {args.runs} runs): "
        f"median {statistics.median(RSS):.1f} MiB  min {min(RSS):.1f}  max {max(RSS):.1f}"
    )


if __name__ == "__main__":
    main()
