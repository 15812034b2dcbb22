"""A tiny harness for benchmarks that compare against a baseline measured in the same run.

Figures on a shared 2-core machine drift from run to run, so every figure here is a ratio to a
baseline taken in the same process or the same loop, interleaved, over repeated runs. Fresh
processes are taken at their fastest run: other work on the machine only ever adds time, so the
minimum is the stable estimate of what the code itself costs (as `timeit` advises); in-process
loops, which are short and many, at their median.
Benchmarks print; they never fail a build (speed goals are read, not asserted in tests).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MACHINE_SPEED_STEPS",
    "Comparison",
    "compare_calls",
    "compare_fresh_processes",
    "fresh_process_cpu_seconds",
    "fresh_process_seconds",
    "machine_speed_seconds",
    "report",
]


@dataclass(frozen=True)
class Comparison:
    """A measured figure against its baseline, and the goal for their ratio."""

    name: str
    subject_seconds: float
    baseline_seconds: float
    target_ratio: float | None = None
    unit: str = "s"
    scale: float = 1.0

    @property
    def ratio(self) -> float:
        return self.subject_seconds / self.baseline_seconds

    @property
    def meets_target(self) -> bool | None:
        return None if self.target_ratio is None else self.ratio <= self.target_ratio

    def line(self) -> str:
        verdict = {None: "", True: "  meets target", False: "  MISSES target"}[self.meets_target]
        target = f" (target <= {self.target_ratio:.2f}x)" if self.target_ratio is not None else ""
        return (
            f"{self.name}: {self.subject_seconds * self.scale:.3f} {self.unit} vs baseline "
            f"{self.baseline_seconds * self.scale:.3f} {self.unit} = {self.ratio:.2f}x{target}{verdict}"
        )


# The steps of the yardstick loop: long enough to time, short enough to run before and after.
MACHINE_SPEED_STEPS = 10_000_000


def machine_speed_seconds(steps: int = MACHINE_SPEED_STEPS, *, repeats: int = 3) -> float:
    """How long a pure-Python loop of `steps` takes on this machine now, at its fastest of
    `repeats`: the yardstick that says whether absolute figures of two runs are comparable, as a
    shared machine's speed moves from one minute to the next."""

    def loop() -> None:
        for _ in range(steps):
            pass

    return min(timeit.repeat(loop, number=1, repeat=repeats))


def fresh_process_seconds(code: str, *, python: str = sys.executable) -> float:
    """Wall time of a new interpreter that runs `code` and exits (imports included)."""
    started = time.perf_counter()
    subprocess.run([python, "-c", code], check=True)
    return time.perf_counter() - started


def fresh_process_cpu_seconds(code: str, *, python: str = sys.executable) -> float:
    """CPU time (user and system) of a new interpreter that runs `code` and exits: what it costs
    itself, whatever else the machine is doing meanwhile (its wall time is not)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([python, "-c", code], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compare_fresh_processes(
    name: str,
    subject: str,
    baseline: str,
    *,
    runs: int = 15,
    target_ratio: float | None = None,
    clock: Literal["wall", "cpu"] = "wall",
) -> Comparison:
    """Fastest time of fresh processes running `subject` against ones running `baseline`,
    interleaved so that drift in the machine's load hits both alike. `clock="cpu"` takes their
    CPU time instead of their wall time: on a machine busy with other work (a shared CI runner,
    other suites side by side), a process's wall time is mostly waiting for a core, its CPU time
    is not."""
    measure = fresh_process_cpu_seconds if clock == "cpu" else fresh_process_seconds
    # Warm the file system cache and bytecode caches once for both, outside the measurement.
    measure(subject)
    measure(baseline)
    subject_times, baseline_times = [], []
    for _ in range(runs):
        subject_times.append(measure(subject))
        baseline_times.append(measure(baseline))
    return Comparison(name, min(subject_times), min(baseline_times), target_ratio)


def compare_calls(
    name: str,
    subject: Callable[[], object],
    baseline: Callable[[], object],
    *,
    runs: int = 21,
    target_ratio: float | None = None,
    per: int = 1,
) -> Comparison:
    """Median time of in-process calls, interleaved; `per` divides the times (e.g. per record)."""
    subject()
    baseline()
    subject_times, baseline_times = [], []
    for _ in range(runs):
        started = time.perf_counter()
        subject()
        subject_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        baseline()
        baseline_times.append(time.perf_counter() - started)
    return Comparison(
        name,
        statistics.median(subject_times) / per,
        statistics.median(baseline_times) / per,
        target_ratio,
        unit="us" if per > 1 else "s",
        scale=1e6 if per > 1 else 1.0,
    )


def report(title: str, comparisons: Sequence[Comparison]) -> str:
    """The figures as printed lines under a title."""
    return "\n".join([f"== {title}", *(f"  {comparison.line()}" for comparison in comparisons)])
