"""The results table (measured, target, PASS/FAIL), the machine it ran on, and the Markdown form."""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

BEGIN_MARK = "<!-- bench:begin -->"
END_MARK = "<!-- bench:end -->"


@dataclass(frozen=True)
class Row:
    metric: str
    measured: str
    target: str = ""
    passed: bool | None = None  # None: reported, no target

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: ""}[self.passed]


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with `fraction` of them at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def megabytes(value: float) -> str:
    return f"{value / 2**20:.0f} MB"


def machine() -> dict[str, str]:
    """What the numbers depend on: cores, memory, CPU, Python, Gradio, and how busy it was."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.machine(),
    )
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cores (nproc)": str(os.cpu_count()),
        "CPU": model,
        "RAM": f"{total_kib / 2**20:.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "gradio": version("gradio"),
        "dashscope": version("dashscope"),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def table(rows: list[Row]) -> str:
    """A plain-text table for the terminal."""
    header = Row("Metric", "Measured", "Target", None)
    widths = [
        max(len(r.metric) for r in rows + [header]),
        max(len(r.measured) for r in rows + [header]),
        max(len(r.target) for r in rows + [header]),
    ]
    lines = []
    for row in [header] + rows:
        verdict = "Verdict" if row is header else row.verdict
        cells = (
            row.metric.ljust(widths[0]),
            row.measured.ljust(widths[1]),
            row.target.ljust(widths[2]),
            verdict,
        )
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def markdown(
    rows: list[Row], facts: dict[str, str], settings: dict[str, str], details: list[str]
) -> str:
    """The generated part of docs/performance.md."""
    out = [BEGIN_MARK, "", "### Machine", "", "| | |", "|---|---|"]
    out += [f"| {key} | {value} |" for key, value in facts.items()]
    out += ["", "### Settings of this run", "", "| | |", "|---|---|"]
    out += [f"| {key} | {value} |" for key, value in settings.items()]
    out += ["", "### Results", "", "| Metric | Measured | Target | Verdict |", "|---|---|---|---|"]
    out += [f"| {r.metric} | {r.measured} | {r.target} | {r.verdict} |" for r in rows]
    out += ["", "### Samples", ""] + [f"- {line}" for line in details] + ["", END_MARK]
    return "\n".join(out) + "\n"


def write_between_marks(path: Path, generated: str) -> None:
    """Replace the generated block of `path`, keeping the hand-written text around it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN_MARK in text and END_MARK in text:
        before = text[: text.index(BEGIN_MARK)]
        after = text[text.index(END_MARK) + len(END_MARK) :].lstrip("\n")
        text = before + generated + ("\n" + after if after else "")
    else:
        text = text + ("\n" if text else "") + generated
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
