"""What a demo run shows: each journey's outcome against what was expected, the trail of its
order's events across the services (producing service, hop timings), and the same as a Markdown
report with one Mermaid sequence diagram per order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from localcloud.trail import TrailEntry, entries_for, mermaid, render

from shop_e2e.journeys import JourneyResult

PASSED, FAILED = "ok", "NOT AS EXPECTED"


def outcome(result: JourneyResult) -> str:
    """`paid: FULFILLMENT_REQUESTED (expected FULFILLMENT_REQUESTED) ok`, one line."""
    expected = result.expected.status + (
        f" / {result.expected.reason}" if result.expected.reason else ""
    )
    verdict = PASSED if result.ok else FAILED
    return f"{result.name}: {result.final} (expected {expected}) {verdict}"


def moments(result: JourneyResult) -> str:
    """`payable 0.9 s, confirmed 1.0 s, final 2.1 s`: when each step happened after placing."""
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.marks.items())


def text(result: JourneyResult, entries: list[TrailEntry]) -> str:
    """A journey as the terminal shows it: outcome, story, timings, problems, then the trail."""
    lines = [outcome(result), f"  {result.story}"]
    if result.order_id:
        lines.append(f"  order {result.order_id}: {moments(result)}")
    lines += [f"  problem: {problem}" for problem in result.problems]
    if result.order_id and entries_for(entries, result.order_id):
        lines += ["  " + line for line in render(entries, result.order_id).splitlines()]
    return "\n".join(lines)


def markdown(
    results: Sequence[JourneyResult],
    entries: list[TrailEntry],
    consumers: Mapping[str, Sequence[str]],
    *,
    started_ms: int,
) -> str:
    """The whole run as Markdown: a summary table, then a section per order."""
    started = datetime.fromtimestamp(started_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    passed = sum(result.ok for result in results)
    lines = [
        "# The shop's journeys on the local cloud",
        "",
        f"Run at {started}: {passed} of {len(results)} journeys ended as expected.",
        "Each order went through the public interfaces only (GraphQL with a customer's token, and",
        "Stripe's confirm with the publishable key and the client secret, as Stripe.js does).",
        "",
        "| journey | order | ended | expected | timings | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        expected = result.expected.status + (
            f" / {result.expected.reason}" if result.expected.reason else ""
        )
        lines.append(
            f"| {result.name} | `{result.order_id or '-'}` | {result.final} | {expected} |"
            f" {moments(result) or '-'} | {PASSED if result.ok else FAILED} |"
        )
    for result in results:
        lines += ["", f"## {result.name}: {result.final}", "", f"The customer {result.story}."]
        lines += [f"- **problem:** {problem}" for problem in result.problems]
        if not result.order_id or not entries_for(entries, result.order_id):
            continue
        lines += [
            "",
            "```",
            render(entries, result.order_id),
            "```",
            "",
            "```mermaid",
            mermaid(entries, result.order_id, consumers),
            "```",
        ]
    return "\n".join(lines) + "\n"
