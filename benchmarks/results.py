"""Write one script's section of benchmarks/RESULTS.md, leaving the other sections as they are."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from hf_tokenembed.atomic import write_text

__all__ = ["RESULTS_PATH", "median_seconds", "write_section"]

RESULTS_PATH = Path(__file__).with_name("RESULTS.md")
_HEADER = (
    "# Benchmark results\n\nEvery figure below is written by the script named in its section; rerun it to refresh.\n"
)


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of `repeats` calls of `fn`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_section(name: str, markdown: str, path: Path = RESULTS_PATH) -> None:
    """Replace the section between `<!-- name:start -->` and `<!-- name:end -->` (append it if new), atomically."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    write_text(path, text)
