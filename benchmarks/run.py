"""Measure reportgen against the straightforward reference script, side by side.

    .venv/bin/python benchmarks/run.py            # 100 briefs, 3 cold runs: about 7 minutes on 2 cores
    .venv/bin/python benchmarks/run.py --quick    # 10 briefs, 2 runs: a sanity check

Cold figures are medians of several runs of a whole process; warm is the median
per-brief time inside one process after its first brief; batches run once each.
reportgen's peak memory is what each worker reports (`--json` peak_mib); the
reference's is the kernel's accounting of its finished process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import write_briefs  # noqa: E402

PYTHON = sys.executable
REPORTGEN = [str(Path(PYTHON).parent / "reportgen")]  # the installed command, as users run it
REFERENCE = [PYTHON, str(HERE / "reference.py")]


def run(cmd: Sequence[str]) -> tuple[float, float, str]:
    """Run a command to the end: wall seconds, peak RSS of its process tree (MiB), stdout."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8")
    if os.waitstatus_to_exitcode(status) != 0 and "reference" not in cmd[1]:
        # reportgen exits 1 when a brief fails: the benchmark must not hide that
        failed = [json.loads(line)["brief"] for line in text.splitlines() if '"failed"' in line]
        raise SystemExit(f"command failed ({failed or status}): {' '.join(cmd[:8])} ...")
    return seconds, usage.ru_maxrss / 1024, text


class Bench:
    def __init__(self, work: Path, briefs: list[Path], runs: int):
        self.work, self.briefs, self.runs = work, briefs, runs
        self.rows: list[dict[str, object]] = []

    def fresh(self, name: str) -> Path:
        """An empty output folder: nothing cached from an earlier run."""
        folder = self.work / "out" / name
        shutil.rmtree(folder, ignore_errors=True)
        return folder

    def reportgen(self, briefs: Sequence[Path], out: Path, *options: str) -> list[str]:
        return [*REPORTGEN, "build", *map(str, briefs), "--out", str(out), "--json", *options]

    def reference(self, briefs: Sequence[Path], out: Path, *options: str) -> list[str]:
        return [*REFERENCE, *map(str, briefs), "--out", str(out), *options]

    def median(self, measure: Callable[[], float]) -> float:
        return statistics.median(measure() for _ in range(self.runs))

    def row(self, name: str, ours: float, ref: float | None, target: str, unit: str = "s") -> None:
        self.rows.append(
            {
                "measure": name,
                "reportgen": ours,
                "reference": ref,
                "target": target,
                "unit": unit,
                "ratio": (ours / ref) if ref else None,
            }
        )
        ratio = f"{ours / ref:6.2f}x" if ref else "      -"
        reference = f"{ref:10.2f}" if ref is not None else "         -"
        print(f"{name:<44} {ours:10.2f} {reference} {ratio}   {target}", flush=True)


def cold(bench: Bench, *flags: str) -> tuple[float, float]:
    """One brief, a whole new process, empty output folder (no chart cache)."""
    brief = bench.briefs[:1]
    ours = bench.median(
        lambda: run(bench.reportgen(brief, bench.fresh("cold"), "-j", "1", *flags))[0]
    )
    ref = bench.median(lambda: run(bench.reference(brief, bench.fresh("cold-ref"), *flags))[0])
    return ours, ref


def warm(bench: Bench, count: int) -> tuple[float, float]:
    """Median seconds per brief inside one process, after its first brief."""
    briefs = bench.briefs[:count]
    _, _, text = run(bench.reportgen(briefs, bench.fresh("warm"), "-j", "1"))
    ours = [json.loads(line)["seconds"] for line in text.splitlines()]
    _, _, text = run(bench.reference(briefs, bench.fresh("warm-ref")))
    ref = [json.loads(line)["seconds"] for line in text.splitlines()]
    return statistics.median(ours[1:]), statistics.median(ref[1:])


def rebuild_unchanged(bench: Bench, out: Path) -> float:
    """Seconds to find every brief unchanged. If reportgen's code changed since the
    last build (someone edited it meanwhile), that build is redone first."""
    for _ in range(2):
        seconds, _, text = run(bench.reportgen(bench.briefs, out))
        if all(json.loads(line)["status"] == "skipped" for line in text.splitlines()):
            return seconds
        print("  (reportgen's code changed during the run: rebuilt once, measuring again)")
    raise SystemExit("briefs were rebuilt twice: is the code still changing?")


def reference_parallel(bench: Bench, out: Path, workers: int) -> tuple[float, float]:
    """The reference split over `workers` processes started at once."""
    shares = [bench.briefs[i::workers] for i in range(workers)]
    start = time.perf_counter()
    procs = [subprocess.Popen(bench.reference(s, out), stdout=subprocess.DEVNULL) for s in shares]
    peaks = [os.wait4(p.pid, 0)[2].ru_maxrss / 1024 for p in procs]
    return time.perf_counter() - start, max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--briefs", type=int, default=100, help="batch size (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="runs per cold measure (default 3)")
    parser.add_argument("--quick", action="store_true", help="10 briefs, 2 runs")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a new temp folder)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    count, runs = (10, 2) if args.quick else (args.briefs, args.runs)
    work = args.work or Path(tempfile.mkdtemp(prefix="reportgen-bench-"))
    briefs = write_briefs(work / "briefs", count)
    bench = Bench(work, briefs, runs)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{count} synthetic briefs in {work}, {runs} runs, {os.cpu_count()} cores, load {load}\n")
    print(f"{'measure':<44} {'reportgen':>10} {'reference':>10} {'ratio':>7}   target")
    bench.row("cold, one brief, HTML+PDF (s)", *cold(bench), "<= 0.5x")
    bench.row("cold, one brief, HTML only (s)", *cold(bench, "--html-only"), "<= 0.35x")
    bench.row("warm, per brief in a batch, HTML+PDF (s)", *warm(bench, min(count, 20)), "<= 0.25 s")
    batch(bench, count)
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(bench.rows, indent=1), encoding="utf-8")


def batch(bench: Bench, count: int) -> None:
    """Throughput at 1 and 2 workers, the unchanged rebuild, and peak memory."""
    one, _, text = run(bench.reportgen(bench.briefs, bench.fresh("batch-1"), "-j", "1"))
    peak_one = max(json.loads(line)["peak_mib"] for line in text.splitlines())
    ref_one, ref_peak = reference_parallel(bench, bench.fresh("batch-ref-1"), 1)
    bench.row(f"{count} briefs, 1 worker (s)", one, ref_one, "")
    out = bench.fresh("batch-2")
    two, _, text = run(bench.reportgen(bench.briefs, out, "-j", "2"))
    ref_two, _ = reference_parallel(bench, bench.fresh("batch-ref-2"), 2)
    bench.row(f"{count} briefs, 2 workers (s)", two, ref_two, "<= 15 s for 100")
    bench.row("2 workers vs 1 (speed-up, x)", one / two, ref_one / ref_two, ">= 1.8x", "x")
    unchanged = bench.median(lambda: rebuild_unchanged(bench, out))
    bench.row(f"rebuild {count} unchanged briefs (s)", unchanged, None, "<= 1 s")
    bench.row(f"peak memory, 1 worker, {count} briefs (MiB)", peak_one, ref_peak, "<= 150", "MiB")
    peaks = [json.loads(line)["peak_mib"] for line in text.splitlines()]  # in finishing order
    tenth = max(1, len(peaks) // 10)
    bench.row("peak per worker, first 10% of the batch (MiB)", max(peaks[:tenth]), None, "", "MiB")
    bench.row("peak per worker, whole batch (MiB)", max(peaks), None, "<= 150, flat", "MiB")


if __name__ == "__main__":
    main()
