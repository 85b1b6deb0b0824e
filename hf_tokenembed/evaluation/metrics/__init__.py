"""`evaluate` modules of hf_tokenembed, loaded by local path (``evaluate.load(<folder>)``); see `metric_path`."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["load_metric", "metric_path"]


def metric_path(name: str) -> str:
    """The local folder of the metric `name` (e.g. ``"retrieval_at_k"``), for ``evaluate.load``."""
    folder = Path(__file__).parent / name
    if not (folder / f"{name}.py").is_file():
        raise ValueError(f"`name` {name!r} is not a metric of hf_tokenembed.evaluation.metrics")
    return str(folder)


@functools.cache
def load_metric(name: str):
    """``evaluate.load`` of the local metric `name` (once per process), or None when loading fails: callers then
    run the metric script's own compute function, the same maths."""
    path = metric_path(name)
    try:
        import evaluate

        return evaluate.load(path, keep_in_memory=True)
    except Exception as error:  # noqa: BLE001 - any loading failure falls back to the same maths
        logger.warning("evaluate.load of the local %s metric failed (%s); using the plain function", name, error)
        return None
