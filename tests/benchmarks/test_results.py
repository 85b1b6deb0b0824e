"""benchmarks/results.py: each script rewrites only its own section of RESULTS.md."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from results import median_seconds, write_section  # noqa: E402


def test_write_section_touches_only_its_own_section(tmp_path):
    path = tmp_path / "RESULTS.md"
    write_section("bench_index", "first", path)
    assert "<!-- bench_index:start -->\nfirst\n<!-- bench_index:end -->" in path.read_text()
    write_section("bench_encode", "encode numbers", path)
    write_section("bench_index", "second", path)
    text = path.read_text()
    assert "first" not in text and text.count("second") == 1 and text.count("encode numbers") == 1
    assert text.count("<!-- bench_index:start -->") == 1
    assert text.index("bench_index:start") < text.index("bench_encode:start")
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]


def test_median_seconds_is_the_median_of_the_repeats(monkeypatch):
    import results

    clock = iter([0.0, 5.0, 10.0, 11.0, 20.0, 23.0])  # three calls lasting 5, 1 and 3 seconds
    monkeypatch.setattr(results.time, "perf_counter", lambda: next(clock))
    calls = []
    assert median_seconds(lambda: calls.append(1), repeats=3) == 3.0
    assert len(calls) == 3
