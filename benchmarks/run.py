"""Measure reportgen against the straightforward reference script (issue 19's targets, re-based on
the measured floor: parity cold, 0.8x on a batch).

    .venv/bin/python benchmarks/run.py            # about 10 minutes on 2 quiet cores
    .venv/bin/python benchmarks/run.py --quick    # 1 run each, rebuild of 20: a sanity check

Ratios are reportgen / reference from runs taken in turns (reportgen, then the
reference, then again), so that a change in the machine's load hits both alike;
each figure is the median of `--runs`. Every check of a build stays on. Peak
memory is what each reportgen worker reports (`--json` peak_mib) against the
kernel's accounting of each reference process. Growth and the preview are
reportgen alone: a brief four times as long against the usual one, and the time
from saving an edit to the preview server offering the new HTML.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import write_briefs  # noqa: E402

PYTHON = sys.executable
REPORTGEN = [str(Path(PYTHON).parent / "reportgen")]  # the installed command, as users run it
REFERENCE = [PYTHON, str(HERE / "reference.py")]
EXAMPLE = HERE.parent / "seeds" / "alibaba-ai-2026"


# Both sides run in an empty folder: run from the repository, reportgen would read the
# example project's reportgen.toml and give every synthetic brief its compliance back
# matter, a page the reference does not make.
NEUTRAL = Path(tempfile.mkdtemp(prefix="reportgen-bench-cwd-"))


def run(cmd: Sequence[str]) -> tuple[float, float, str]:
    """Run a command to the end: wall seconds, peak RSS of its process tree (MiB), stdout."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=NEUTRAL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8")
    if os.waitstatus_to_exitcode(status) != 0:  # a failed brief must not pass for a fast one
        failed = [json.loads(line)["brief"] for line in text.splitlines() if '"failed"' in line]
        raise SystemExit(f"command failed ({failed or status}): {' '.join(cmd[:8])} ...")
    return seconds, usage.ru_maxrss / 1024, text


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


class Bench:
    def __init__(self, work: Path, runs: int):
        self.work, self.runs = work, runs
        self.rows: list[dict[str, object]] = []

    def fresh(self, name: str) -> Path:
        """An empty output folder: nothing cached from an earlier run."""
        folder = self.work / "out" / name
        shutil.rmtree(folder, ignore_errors=True)
        return folder

    def reportgen(self, briefs: Sequence[Path], out: Path, *options: str) -> list[str]:
        return [*REPORTGEN, "build", *map(str, briefs), "--out", str(out), "--json", *options]

    def paired(
        self, ours: Callable[[], float], ref: Callable[[], float]
    ) -> tuple[float, float, float]:
        """Medians of both and of the per-pair ratio, from runs taken in turns."""
        pairs = [(ours(), ref()) for _ in range(self.runs)]
        return (
            statistics.median(a for a, _ in pairs),
            statistics.median(b for _, b in pairs),
            statistics.median(a / b for a, b in pairs),
        )

    def row(self, name: str, ours: float, ref: float | None, ratio: float | None, target: str):
        met = _met(target, ratio if ratio is not None else ours)
        self.rows.append(
            {"measure": name, "reportgen": ours, "reference": ref, "ratio": ratio}
            | {"target": target, "met": met}
        )
        shown = f"{ratio:6.2f}x" if ratio is not None else "      -"
        reference = f"{ref:10.2f}" if ref is not None else "         -"
        verdict = "met" if met else "NOT met"
        print(f"{name:<46} {ours:10.2f} {reference} {shown}   {target:<16} {verdict}", flush=True)


def _met(target: str, value: float) -> bool:
    """'<= 0.6x' or '<= 1 s' or '<= 4.4x': the number after '<='."""
    return value <= float(target.split()[1].rstrip("x"))


def reference(briefs: Sequence[Path], out: Path, workers: int) -> tuple[float, float]:
    """The reference split over `workers` processes started at once: seconds, peak MiB."""
    shares = [list(briefs[i::workers]) for i in range(workers)]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*REFERENCE, *map(str, s), "--out", str(out)], stdout=subprocess.DEVNULL, cwd=NEUTRAL
        )
        for s in shares
    ]
    peaks = [os.wait4(p.pid, 0)[2].ru_maxrss / 1024 for p in procs]
    return time.perf_counter() - start, max(peaks)


def cold(bench: Bench, brief: Path) -> None:
    """One brief, a whole new process, empty output folder (no chart cache)."""
    ours = lambda: run(bench.reportgen([brief], bench.fresh("cold"), "-j", "1"))[0]  # noqa: E731
    ref = lambda: reference([brief], bench.fresh("cold-ref"), 1)[0]  # noqa: E731
    bench.row("cold, one brief, HTML+PDF (s)", *bench.paired(ours, ref), "<= 1.0x")


def batch(bench: Bench, briefs: list[Path]) -> None:
    """The batch on 2 workers, and the peak memory of a worker while it runs."""
    peaks: list[float] = []
    ref_peaks: list[float] = []

    def ours() -> float:
        seconds, _, text = run(bench.reportgen(briefs, bench.fresh("batch"), "-j", "2"))
        peaks.append(max(float(str(line["peak_mib"])) for line in lines(text)))
        return seconds

    def ref() -> float:
        seconds, peak = reference(briefs, bench.fresh("batch-ref"), 2)
        ref_peaks.append(peak)
        return seconds

    name = f"batch of {len(briefs)} briefs, 2 workers (s)"
    bench.row(name, *bench.paired(ours, ref), "<= 0.8x")
    peak, ref_peak = statistics.median(peaks), statistics.median(ref_peaks)
    bench.row("peak memory per worker (MiB)", peak, ref_peak, peak / ref_peak, "<= 1.0x")


def growth(bench: Bench) -> None:
    """Per-brief seconds in one warm process: briefs 4x as long against the usual ones."""
    short = write_briefs(bench.work / "short", 3, seed=7)
    long = []
    for folder in write_briefs(bench.work / "long", 2, seed=8, times=4):
        long.append(folder.rename(folder.with_name(f"long-{folder.name}")))
    order = [short[0], short[1], long[0], short[2], long[1]]  # short[0] warms the process up
    results = []
    for _ in range(bench.runs):
        _, _, text = run(bench.reportgen(order, bench.fresh("growth"), "-j", "1"))
        results.append({str(line["brief"]): float(str(line["seconds"])) for line in lines(text)})
    seconds = {name: statistics.median(r[name] for r in results) for name in results[0]}
    short_s = statistics.median(seconds[f.name] for f in short[1:])
    long_s = statistics.median(seconds[f.name] for f in long)
    bench.row(
        "growth: brief 4x as long, per brief (s)", long_s, short_s, long_s / short_s, "<= 5.0x"
    )


def rebuild(bench: Bench, briefs: list[Path]) -> None:
    """Build every brief once, then time finding them all unchanged."""
    out = bench.fresh("rebuild")
    seconds, _, _ = run(bench.reportgen(briefs, out, "-j", "2"))
    print(f"  (first build of {len(briefs)} briefs on 2 workers: {seconds:.1f} s)", flush=True)

    def unchanged() -> float:
        seconds, _, text = run(bench.reportgen(briefs, out))
        if not all(line["status"] == "skipped" for line in lines(text)):
            raise SystemExit("an unchanged brief was rebuilt: did reportgen's code change?")
        return seconds

    bench.row(
        f"rebuild {len(briefs)} unchanged briefs (s)",
        statistics.median(unchanged() for _ in range(bench.runs)),
        None,
        None,
        "<= 1 s",
    )


def preview(bench: Bench) -> None:
    """Save an edit to the example brief; seconds until the preview offers the new HTML."""
    from reportgen.serve import serve

    brief = bench.work / "preview" / EXAMPLE.name
    shutil.rmtree(brief.parent, ignore_errors=True)
    shutil.copytree(EXAMPLE, brief)
    server = serve(brief, port=0)
    try:
        times = []
        for n in range(max(3, bench.runs)):
            time.sleep(1)  # let the watcher settle: an edit saved mid-rebuild is missed (serve.py)
            before = _version(server.url)
            thesis = brief / "thesis.md"
            start = time.perf_counter()
            thesis.write_text(thesis.read_text(encoding="utf-8") + f"\nEdit {n}.\n")
            while _version(server.url) == before:  # what the page's own script asks
                if time.perf_counter() - start > 60:
                    raise SystemExit("the preview did not pick up an edit within a minute")
                time.sleep(0.02)
            times.append(time.perf_counter() - start)
    finally:
        server.stop()
    bench.row(
        "preview: edit to new HTML, example (s)", statistics.median(times), None, None, "<= 0.5 s"
    )


def _version(url: str) -> int:
    with urllib.request.urlopen(url + "__version", timeout=10) as response:
        return int(json.load(response)["version"])


def machine() -> str:
    """Cores, CPU model and memory, for the figures to mean something."""
    model = platform.processor() or "unknown CPU"
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        total = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        memory = f", {int(total) / 1024 / 1024:.1f} GiB memory"
    except OSError:
        pass
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({model}){memory}, load {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=20, help="batch size (default 20)")
    parser.add_argument("--rebuild", type=int, default=20, help="unchanged rebuild (20)")
    parser.add_argument("--runs", type=int, default=3, help="paired runs per measure (3)")
    parser.add_argument("--quick", action="store_true", help="1 run each, rebuild of 20")
    parser.add_argument("--only", nargs="*", help="cold batch growth rebuild preview")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a new temp folder)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    runs, rebuilt = (1, 20) if args.quick else (args.runs, args.rebuild)
    work = (args.work or Path(tempfile.mkdtemp(prefix="reportgen-bench-"))).resolve()
    briefs = write_briefs(work / "briefs", max(args.batch, rebuilt))
    bench = Bench(work, runs)
    print(f"{machine()}\n{runs} paired runs, scratch {work}\n")
    print(f"{'measure':<46} {'reportgen':>10} {'reference':>10} {'ratio':>7}   target")
    measures: dict[str, Callable[[], None]] = {
        "cold": lambda: cold(bench, briefs[0]),
        "batch": lambda: batch(bench, briefs[: args.batch]),
        "growth": lambda: growth(bench),
        "rebuild": lambda: rebuild(bench, briefs[:rebuilt]),
        "preview": lambda: preview(bench),
    }
    for name, measure in measures.items():
        if not args.only or name in args.only:
            measure()
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(bench.rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
