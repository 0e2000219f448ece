"""Figures (several runs of one measurement), their ratios and targets, as a markdown table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """A bound on a figure's ratio to its baseline, e.g. Target(">=", 0.9).

    An informative target (graded=False) is shown as a reference: the table says whether
    the ratio meets it, but gives no PASS or MISS.
    """

    op: str  # ">=" or "<="
    bound: float
    note: str = ""
    graded: bool = True

    def met(self, ratio: float) -> bool:
        return ratio >= self.bound if self.op == ">=" else ratio <= self.bound

    def __str__(self) -> str:
        bound = f"{self.bound:g}" + ("" if self.bound % 1 else ".0")  # 0.95x, 1.0x
        return f"{'≥' if self.op == '>=' else '≤'} {bound}x" + (
            f" ({self.note})" if self.note else ""
        )


@dataclass
class Figure:
    """One measurement repeated: its values, what it is compared with, and its target."""

    section: str
    name: str
    unit: str  # "rows/s", "tasks/s", "s" or "MiB"
    short: str = ""  # how a ratio against this figure names it: "limit", "ideal", ...
    values: list[float] = field(default_factory=list)
    baseline: Figure | None = None
    target: Target | None = None
    note: str = ""
    also: list[Figure] = field(default_factory=list)  # more baselines: ratios shown, ungraded

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def ratio(self, baseline: Figure | None = None) -> float | None:
        """This figure against its baseline, or another one (None without one).

        Measured in the same runs: the median of the runs' ratios. A graded figure and its
        baseline run back to back, so a slow spell of this shared machine slows both and
        cancels out; in a ratio of medians, the two medians can come from different runs.
        Against a baseline measured once (the ideal schedule): median over that value.
        """
        baseline = baseline or self.baseline
        if baseline is None or not self.values or not baseline.values:
            return None
        paired = self.paired_ratios(baseline)
        if paired:
            return statistics.median(paired)
        return self.median / baseline.median

    def paired_ratios(self, baseline: Figure | None = None) -> list[float]:
        """Run by run, this figure over its baseline (figures are measured interleaved)."""
        baseline = baseline or self.baseline
        if baseline is None or len(self.values) != len(baseline.values):
            return []
        return [value / base for value, base in zip(self.values, baseline.values, strict=True)]

    def verdict(self) -> str:
        """PASS or MISS for a graded target; for an informative one, whether it is met."""
        ratio = self.ratio()
        if self.target is None or ratio is None:
            return ""
        met = self.target.met(ratio)
        if not self.target.graded:
            return "informative: meets it" if met else "informative: below it"
        return "**PASS**" if met else "**MISS**"


def in_run_order(items: list, run_number: int) -> list:
    """The order of one run: as given on odd runs, reversed on even ones.

    Each graded figure is listed right after its baseline, so the pair stays side by side
    and swaps places from run to run: neither one always runs first (with five runs, one
    order three times, the other twice). Other figures share the baseline of their section
    and run further from it.
    """
    return items if run_number % 2 else items[::-1]


def number(value: float, unit: str) -> str:
    """A value the way its unit reads best: 12,345 rows/s, 1.023 s, 27.4 MiB."""
    if unit == "s":
        return f"{value:.3f}"
    if unit == "MiB":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def spread(figure: Figure) -> str:
    """median [min - max] unit."""
    if not figure.values:
        return "not measured"
    median, low, high = (
        number(value, figure.unit)
        for value in (figure.median, min(figure.values), max(figure.values))
    )
    return f"{median} [{low} - {high}] {figure.unit}"


def ratio_text(figure: Figure) -> str:
    """'0.93x limit', then the ratios to `also` ('; 0.57x course loop, not graded'), or ''
    for a figure compared with nothing."""
    texts = [one_ratio_text(figure, figure.baseline)] if figure.baseline else []
    for other in figure.also:
        text = one_ratio_text(figure, other)
        texts.append(f"{text}, not graded" if text else "")
    return "; ".join(text for text in texts if text)


def one_ratio_text(figure: Figure, baseline: Figure) -> str:
    """'0.93x limit (median of run by run 0.90-1.02)', or '' when either is not measured."""
    ratio = figure.ratio(baseline)
    if ratio is None:
        return ""
    text = f"{ratio:.2f}x {baseline.short or baseline.name}"
    paired = figure.paired_ratios(baseline)
    if len(paired) > 1:
        text += f" (median of run by run {min(paired):.2f}-{max(paired):.2f})"
    return text


def markdown(figures: list[Figure]) -> str:
    """The figures as one markdown table, with a row per figure, grouped by section."""
    lines = [
        "| Section | Figure | Runs | Median [min - max] | Ratio | Target | Result |",
        "|---|---|---|---|---|---|---|",
    ]
    for figure in figures:
        name = figure.name + (f" ({figure.note})" if figure.note else "")
        lines.append(
            f"| {figure.section} | {name} | {len(figure.values)} | {spread(figure)} | "
            f"{ratio_text(figure)} | {figure.target or ''} | {figure.verdict()} |"
        )
    return "\n".join(lines)
