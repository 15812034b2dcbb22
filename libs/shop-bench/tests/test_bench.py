import pytest
from shop_bench import (
    Comparison,
    compare_calls,
    compare_fresh_processes,
    fresh_process_cpu_seconds,
    fresh_process_seconds,
    machine_speed_seconds,
    report,
)


def test_a_comparison_is_a_ratio_to_its_baseline_with_a_verdict() -> None:
    within = Comparison("cold start", 1.2, 1.0, target_ratio=1.4)
    over = Comparison("cold start", 1.5, 1.0, target_ratio=1.4)
    informative = Comparison("throughput", 2.0, 1.0)

    assert within.ratio == pytest.approx(1.2)
    assert (within.meets_target, over.meets_target, informative.meets_target) == (True, False, None)
    assert (
        within.line()
        == "cold start: 1.200 s vs baseline 1.000 s = 1.20x (target <= 1.40x)  meets target"
    )
    assert over.line().endswith("MISSES target")
    assert informative.line() == "throughput: 2.000 s vs baseline 1.000 s = 2.00x"


def test_in_process_calls_are_compared_per_item() -> None:
    # Given a subject that does ten times the work of its baseline
    def work(n: int) -> int:
        return sum(i * i for i in range(n))

    # When they are compared per item of a 1,000-item batch
    comparison = compare_calls(
        "sum", lambda: work(100_000), lambda: work(10_000), runs=5, per=1_000
    )

    # Then the ratio shows it, in microseconds per item
    assert comparison.ratio > 3
    assert comparison.unit == "us"
    assert "us vs baseline" in comparison.line()


def test_fresh_processes_include_import_time() -> None:
    assert fresh_process_seconds("pass") > 0
    comparison = compare_fresh_processes(
        "sleepy import", "import time; time.sleep(0.2)", "pass", runs=2, target_ratio=1.1
    )
    assert comparison.subject_seconds - comparison.baseline_seconds > 0.15
    assert comparison.meets_target is False


def test_a_fresh_process_on_the_cpu_clock_counts_work_not_waiting() -> None:
    # Given a subject that waits 0.3 s and one that does a fixed amount of work (not a fixed wall
    # time, which a loaded machine would shorten in CPU time)
    sleeping = "import time; time.sleep(0.3)"
    working = "sum(i * i for i in range(3_000_000))"

    # When each is measured on the CPU clock
    waited = fresh_process_cpu_seconds(sleeping)
    worked = fresh_process_cpu_seconds(working)

    # Then the wait is not counted, the work is, and the comparison says so
    assert waited < 0.3
    assert worked > waited
    comparison = compare_fresh_processes("busy", working, sleeping, runs=2, clock="cpu")
    assert comparison.ratio > 1.5


def test_a_report_prints_a_title_and_one_line_per_figure() -> None:
    text = report("libraries", [Comparison("a", 1.0, 1.0), Comparison("b", 2.0, 1.0)])
    assert text.splitlines() == [
        "== libraries",
        "  a: 1.000 s vs baseline 1.000 s = 1.00x",
        "  b: 2.000 s vs baseline 1.000 s = 2.00x",
    ]


def test_the_machine_speed_is_the_time_of_a_loop_and_grows_with_it() -> None:
    # Given loops of ten times as many steps as each other
    short, long = machine_speed_seconds(100_000), machine_speed_seconds(1_000_000)

    # Then the longer one takes several times as long: the figure is the loop's work
    assert 0 < short < long / 3
