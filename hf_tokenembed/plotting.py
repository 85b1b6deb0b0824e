"""Pictures: a run's training curves, a word's neighbourhood in 2-D, a reconstruction's step trace.

Each function returns a matplotlib ``Figure``; `save_figure` writes it as a PNG atomically. matplotlib is an optional
dependency (``pip install "hf_tokenembed[plot]"``); the map uses UMAP where ``umap-learn`` is installed, else PCA.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hf_tokenembed.atomic import written_file
from hf_tokenembed.index import VocabIndex, encode_queries

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

__all__ = ["plot_neighbourhood", "plot_reconstruction_trace", "plot_training_curves", "save_figure"]

_MARKERS = {"word": ("o", "tab:gray"), "mwe": ("s", "tab:green"), "sense": ("^", "tab:purple")}
_OTHER_MARKER = ("o", "tab:gray")


def _pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend, or an ImportError that says what to install."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError('Plotting needs matplotlib: pip install "hf_tokenembed[plot]"') from error
    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _trainer_state(source: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """A trainer state from its dict, a trainer_state.json path, or a run folder (its own state, else its last
    checkpoint's)."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    if path.is_dir():
        checkpoints = sorted(path.glob("checkpoint-*/trainer_state.json"), key=lambda p: int(p.parent.name[11:]))
        candidates = [path / "trainer_state.json", *reversed(checkpoints)]
        path = next((p for p in candidates if p.is_file()), path / "trainer_state.json")
    if not path.is_file():
        raise FileNotFoundError(f"trainer_state: no trainer_state.json at {path} (give a run folder or the file)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"trainer_state: {path} is not valid JSON ({error})") from error


def plot_training_curves(
    trainer_state: str | os.PathLike | Mapping[str, Any], *, parts: Sequence[str] | None = None
) -> Figure:
    """The total loss and every loss part (``loss_*`` keys of the log history) against the step.

    Args:
        trainer_state: A run folder, a ``trainer_state.json`` path, or the loaded dict.
        parts: Loss parts to draw (default: every ``loss_*`` key logged). The total ``loss`` is always drawn.
    """
    history = [row for row in _trainer_state(trainer_state).get("log_history", []) if "loss" in row and "step" in row]
    if not history:
        raise ValueError("trainer_state: its log_history has no training-loss rows (was logging_steps too large?)")
    logged = sorted({key for row in history for key in row if key.startswith("loss_")})
    if parts is None:
        parts = logged
    unknown = sorted(set(parts) - set(logged))
    if unknown:
        raise ValueError(f"parts: {unknown} were never logged; logged parts: {logged}")
    plt = _pyplot()
    figure, (total, split) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    steps = [row["step"] for row in history]
    total.plot(steps, [row["loss"] for row in history], color="black", marker=".")
    total.set(title="total loss", xlabel="step", ylabel="loss")
    for part in parts:
        rows = [row for row in history if part in row]
        split.plot([row["step"] for row in rows], [row[part] for row in rows], marker=".", label=part[5:])
    positive = all(row[part] > 0 for row in history for part in parts if part in row)
    split.set(title="loss parts (as logged)", xlabel="step", yscale="log" if parts and positive else "linear")
    if parts:
        split.legend(fontsize="small")
    for axes in (total, split):
        axes.grid(alpha=0.3)
    return figure


def _project(vectors: np.ndarray, method: str) -> tuple[np.ndarray, str]:
    """2-D coordinates of the rows and the method used (``"umap"`` needs umap-learn; ``"auto"`` prefers it)."""
    if method not in ("auto", "pca", "umap"):
        raise ValueError(f"method must be 'auto', 'pca' or 'umap', got {method!r}")
    if method != "pca":
        try:
            import umap
        except ImportError:
            if method == "umap":
                raise ImportError("method='umap' needs umap-learn: pip install umap-learn") from None
        else:
            reducer = umap.UMAP(n_components=2, n_neighbors=min(15, len(vectors) - 1), metric="cosine", random_state=0)
            return reducer.fit_transform(vectors), "UMAP"
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=0).fit_transform(vectors), "PCA"


def plot_neighbourhood(
    index: VocabIndex,
    embedder: Any,
    word: str,
    *,
    contexts: Sequence[str] = (),
    k: int = 15,
    method: str = "auto",
) -> Figure:
    """A 2-D map of ``word``'s neighbourhood: its context-free vector, its vector in each context, their ``k``
    nearest index entries, and the word's own sense entries; words, MWEs and senses drawn with their own markers.

    Args:
        index: The `VocabIndex` to search (one built by ``hf-tokenembed index build`` has sense entries).
        embedder: The `TokenEmbedder` that built the index.
        word: A word or phrase.
        contexts: Sentences containing ``word``; each adds the in-context vector and its neighbours.
        k: Neighbours per query vector.
        method: ``"pca"``, ``"umap"`` or ``"auto"`` (UMAP where installed).
    """
    if not isinstance(word, str) or not word.strip():
        raise ValueError(f"word must be a non-empty string, got {word!r}")
    if isinstance(contexts, str):
        raise TypeError("contexts must be a list of sentences, not a single string")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    queries = [encode_queries(embedder, [word])]
    queries += [encode_queries(embedder, [word], context) for context in contexts]
    query_vectors = np.concatenate([vectors.numpy() for vectors, _ in queries])
    query_labels = [labels[0] for _, labels in queries]
    ids: dict[int, None] = dict.fromkeys(index.find(word, kind="sense"))
    for row in index.search_ids(query_vectors, k=k)[1]:
        ids.update(dict.fromkeys(int(i) for i in row if i >= 0))
    ids_list = list(ids)
    entries = [index.entries[i] for i in ids_list]
    coordinates, used = _project(np.concatenate([query_vectors, index.reconstruct(ids_list)]), method)
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9, 7), constrained_layout=True)
    points = coordinates[len(query_vectors) :]
    for kind in sorted({e.kind for e in entries}):
        rows = [i for i, e in enumerate(entries) if e.kind == kind]
        marker, colour = _MARKERS.get(kind, _OTHER_MARKER)
        axes.scatter(points[rows, 0], points[rows, 1], marker=marker, color=colour, s=36, label=kind, alpha=0.8)
    for (x, y), entry in zip(points, entries):
        axes.annotate(entry.label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    for (x, y), label in zip(coordinates[: len(query_vectors)], query_labels):
        axes.scatter([x], [y], marker="*", color="tab:red", s=220, zorder=3)
        short = label if len(label) <= 48 else label[:45] + "..."
        axes.annotate(short, (x, y), fontsize=8, color="tab:red", weight="bold", xytext=(5, -10),
                      textcoords="offset points")  # fmt: skip
    axes.scatter([], [], marker="*", color="tab:red", s=120, label="query (★), in context")
    axes.set(title=f"Neighbourhood of {word!r} ({used} of the token space)", xticks=[], yticks=[])
    _keep_labels_inside(axes)
    axes.legend(loc="best", fontsize="small")
    return figure


def _keep_labels_inside(axes, max_passes: int = 10) -> None:
    """Widen the data limits of `axes` until each of its annotations is drawn inside them.

    A label sits at a fixed offset in points from its data point, so widening the limits moves it too: repeat
    until every label fits (a label that takes a large share of the axes' width needs a few passes).
    """
    renderer = axes.figure.canvas.get_renderer()
    for _ in range(max_passes):
        axes.figure.draw_without_rendering()
        frame = axes.get_window_extent(renderer).padded(1.0)
        boxes = [text.get_window_extent(renderer) for text in axes.texts]
        if all(frame.contains(*box.p0) and frame.contains(*box.p1) for box in boxes):
            return
        inverse = axes.transData.inverted()
        for box in boxes:
            axes.update_datalim(inverse.transform(box.get_points()))
        axes.autoscale_view()


def plot_reconstruction_trace(steps: Sequence[Mapping[str, Any]], *, title: str | None = None) -> Figure:
    """Cosine to the target after each step of a reconstruction, each point labelled with the entry placed.

    Args:
        steps: A result's ``"steps"`` (``pipeline(..., return_steps=True)``): dicts with ``action`` (``"insert"``,
            ``"stop"`` or ``"move"``), ``entry`` and ``cosine``.
        title: Figure title (e.g. the target text).
    """
    if isinstance(steps, Mapping) or not steps:
        raise ValueError("steps must be a non-empty list of step dicts (a result's 'steps', from return_steps=True)")
    for i, step in enumerate(steps):
        if not isinstance(step, Mapping) or not {"action", "entry", "cosine"} <= set(step):
            raise ValueError(f"steps[{i}] must be a dict with 'action', 'entry' and 'cosine', got {step!r}")
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(max(6.0, 0.55 * len(steps) + 2), 4), constrained_layout=True)
    x = np.arange(1, len(steps) + 1)
    cosines = [float(step["cosine"]) for step in steps]
    axes.plot(x, cosines, color="tab:blue", marker="o")
    for xi, cosine, step in zip(x, cosines, steps):
        label = {"stop": "STOP", "move": f"move {step['entry']}"}.get(step["action"], str(step["entry"]))
        axes.annotate(label, (xi, cosine), rotation=50, fontsize=8, xytext=(0, 6), textcoords="offset points")
    axes.set(xlabel="step", ylabel="cosine to the target", xticks=x, title=title or "reconstruction trace")
    axes.set_ylim(min(0.0, min(cosines)), 1.08)
    axes.grid(alpha=0.3)
    return figure


def save_figure(figure: Figure, path: str | os.PathLike, *, dpi: int = 120) -> Path:
    """Write ``figure`` as a PNG at ``path`` (atomically: a crash leaves no half-written file) and close it."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must end in .png, got {str(path)!r}")
    with written_file(path) as temporary:
        figure.savefig(temporary, format="png", dpi=dpi)
    _pyplot().close(figure)
    return path
