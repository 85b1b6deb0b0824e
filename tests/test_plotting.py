"""`hf_tokenembed.plotting`: training curves, a word's neighbourhood map, a reconstruction trace; PNGs written
atomically."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from hf_tokenembed.plotting import plot_neighbourhood, plot_reconstruction_trace, plot_training_curves, save_figure

PNG = b"\x89PNG\r\n\x1a\n"


def _state(steps: int = 10) -> dict:
    rows = [{"step": s, "loss": 3.0 / s, "loss_order": 1.0 / s, "loss_senses": 2.0 / s} for s in range(1, steps + 1)]
    return {"log_history": [*rows, {"step": steps, "train_loss": 1.0, "train_runtime": 3.0}]}


def test_training_curves_draw_the_total_and_every_logged_part():
    figure = plot_training_curves(_state())
    total, parts = figure.axes
    (line,) = total.get_lines()
    assert list(line.get_xdata()) == list(range(1, 11)) and line.get_ydata()[1] == pytest.approx(1.5)
    assert [text.get_text() for text in parts.get_legend().get_texts()] == ["order", "senses"]
    assert [list(line.get_ydata()) for line in parts.get_lines()][1][0] == pytest.approx(2.0)
    only = plot_training_curves(_state(), parts=["loss_order"])
    assert len(only.axes[1].get_lines()) == 1


def test_training_curves_read_a_run_folder_or_its_last_checkpoint(tmp_path):
    for step in (3, 10):  # checkpoint-10 sorts before checkpoint-3 as text: the number must decide
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps(_state(step)))
    assert len(plot_training_curves(tmp_path).axes[0].get_lines()[0].get_xdata()) == 10
    (tmp_path / "trainer_state.json").write_text(json.dumps(_state(4)))
    assert len(plot_training_curves(tmp_path).axes[0].get_lines()[0].get_xdata()) == 4
    assert len(plot_training_curves(tmp_path / "trainer_state.json").axes[0].get_lines()[0].get_xdata()) == 4


def test_training_curves_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="trainer_state"):
        plot_training_curves(tmp_path / "missing")
    (tmp_path / "trainer_state.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        plot_training_curves(tmp_path)
    with pytest.raises(ValueError, match="no training-loss rows"):
        plot_training_curves({"log_history": [{"step": 1, "eval_loss": 1.0}]})
    with pytest.raises(ValueError, match="parts"):
        plot_training_curves(_state(), parts=["loss_nothing"])


STEPS = [
    {"action": "insert", "entry": "bank", "slot": 0, "score": -0.1, "cosine": 0.41},
    {"action": "insert", "entry": "The", "slot": 1, "score": -0.2, "cosine": 0.72},
    {"action": "move", "entry": "The", "from": 1, "slot": 0, "score": 0.0, "cosine": 0.75},
    {"action": "stop", "entry": None, "slot": None, "score": -0.05, "cosine": 0.75},
]


def test_reconstruction_trace_plots_the_cosine_after_each_step_with_its_entry():
    axes = plot_reconstruction_trace(STEPS, title="The bank").axes[0]
    (line,) = axes.get_lines()
    assert list(line.get_ydata()) == [0.41, 0.72, 0.75, 0.75] and list(line.get_xdata()) == [1, 2, 3, 4]
    assert [text.get_text() for text in axes.texts] == ["bank", "The", "move The", "STOP"]
    assert axes.get_title() == "The bank"


@pytest.mark.parametrize("steps", [[], {"entry": "a", "cosine": 1.0}, [{"entry": "a"}], ["a"]])
def test_reconstruction_trace_bad_steps(steps):
    with pytest.raises(ValueError, match="steps"):
        plot_reconstruction_trace(steps)


def test_save_figure_writes_a_png_and_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = save_figure(plot_reconstruction_trace(STEPS), tmp_path / "pictures" / "trace.png")
    first = path.read_bytes()
    assert first.startswith(PNG)
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        save_figure(plot_training_curves(_state()), path)
    assert path.read_bytes() == first and os.listdir(path.parent) == ["trace.png"]
    with pytest.raises(ValueError, match=r"\.png"):
        save_figure(plot_reconstruction_trace(STEPS), tmp_path / "trace.jpg")


@pytest.fixture(scope="module")
def tiny_index(_tiny_model, tiny_data_dir):
    from hf_tokenembed.index import VocabIndex

    return VocabIndex.build(_tiny_model, tiny_data_dir, progress=False)


def test_neighbourhood_maps_the_word_its_contexts_neighbours_and_senses(tiny_index, _tiny_model):
    contexts = ["We sat on the muddy bank of the stream.", "The bank approved the new loan."]
    axes = plot_neighbourhood(tiny_index, _tiny_model, "bank", contexts=contexts, k=5, method="pca").axes[0]
    labels = [text.get_text() for text in axes.texts]
    senses = {tiny_index.entries[i].label for i in tiny_index.find("bank", kind="sense")}
    assert senses and senses <= set(labels)  # every sense entry of the word is on the map
    assert sum(label.startswith("bank @ ") for label in labels) == 2 and "bank" in labels
    legend = {text.get_text() for text in axes.get_legend().get_texts()}
    assert {"sense", "word"} <= legend
    points = np.concatenate(
        [collection.get_offsets() for collection in axes.collections if len(collection.get_offsets())]
    )
    assert np.isfinite(points).all() and len(points) == len(labels)
    assert _labels_outside(axes) == []


def _labels_outside(axes) -> list[str]:
    renderer = axes.figure.canvas.get_renderer()
    axes.figure.draw_without_rendering()
    inside = axes.get_window_extent(renderer).padded(1.0)
    boxes = {t.get_text(): t.get_window_extent(renderer) for t in axes.texts}
    return [label for label, box in boxes.items() if not (inside.contains(*box.p0) and inside.contains(*box.p1))]


def test_long_labels_at_the_edge_are_pulled_inside_the_axes():
    from hf_tokenembed.plotting import _keep_labels_inside, _pyplot

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(4, 3))
    axes.scatter([0.0, 1.0, 0.5], [0.0, 1.0, 0.2])
    axes.annotate("bank (sloping land beside a river)", (1.0, 0.5), xytext=(3, 3), textcoords="offset points")
    axes.annotate("a label below the lowest point", (0.5, 0.0), xytext=(5, -10), textcoords="offset points")
    assert len(_labels_outside(axes)) == 2  # autoscaling alone leaves both past the right and bottom edges
    _keep_labels_inside(axes)
    assert _labels_outside(axes) == []
    plt.close(figure)


def test_neighbourhood_bad_input(tiny_index, _tiny_model):
    with pytest.raises(ValueError, match="word"):
        plot_neighbourhood(tiny_index, _tiny_model, " ")
    with pytest.raises(TypeError, match="contexts"):
        plot_neighbourhood(tiny_index, _tiny_model, "bank", contexts="The bank.")
    with pytest.raises(ValueError, match="k"):
        plot_neighbourhood(tiny_index, _tiny_model, "bank", k=0)
    with pytest.raises(ValueError, match="method"):
        plot_neighbourhood(tiny_index, _tiny_model, "bank", method="tsne")
