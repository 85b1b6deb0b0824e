"""`evaluate` modules of hf_tokenembed, loaded by local path (``evaluate.load(<folder>)``); see `metric_path`."""

from __future__ import annotations

from pathlib import Path

__all__ = ["metric_path"]


def metric_path(name: str) -> str:
    """The local folder of the metric `name` (e.g. ``"retrieval_at_k"``), for ``evaluate.load``."""
    folder = Path(__file__).parent / name
    if not (folder / f"{name}.py").is_file():
        raise ValueError(f"`name` {name!r} is not a metric of hf_tokenembed.evaluation.metrics")
    return str(folder)
