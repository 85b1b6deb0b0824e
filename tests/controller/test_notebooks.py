"""The tutorial notebooks (notebooks/*.ipynb), executed top to bottom with nbclient on the tiny fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["01_quickstart.ipynb", "02_train_token_head.ipynb", "03_text_reconstruction.ipynb"]
TINY_STEPS = 4


@pytest.fixture(scope="module")
def bundle_dir(controller, tmp_path_factory) -> Path:
    """The tiny controller saved as a bundle."""
    *_, reconstructor = controller
    folder = tmp_path_factory.mktemp("notebook") / "bundle"
    reconstructor.to_bundle().save_pretrained(folder)
    return folder


@pytest.fixture
def offline(monkeypatch):
    """No hub look-ups from the kernels (they inherit this environment)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _execute(name: str) -> nbformat.NotebookNode:
    """Run the notebook in a fresh kernel whose cwd is notebooks/ (as `jupyter lab notebooks/` does); the kernel
    inherits this process's environment."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    return notebook


def _outputs(notebook: nbformat.NotebookNode, tag: str) -> list:
    """The outputs of the one code cell tagged `tag`."""
    (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    return cell.outputs


def _has(outputs: list, mime: str) -> bool:
    return any(mime in o.get("data", {}) for o in outputs)


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_saved_without_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "HF_TOKENEMBED_NB_" in code[0].source  # the parameters cell comes first


def test_quickstart_shows_neighbour_tables_and_the_map(bundle_dir, monkeypatch, offline):
    monkeypatch.setenv("HF_TOKENEMBED_NB_BUNDLE", str(bundle_dir))
    monkeypatch.setenv("HF_TOKENEMBED_NB_K", "4")
    notebook = _execute("01_quickstart.ipynb")
    (table,) = [o for o in _outputs(notebook, "bank-table") if o.output_type == "execute_result"]
    html = table.data["text/html"]
    assert all(column in html for column in ("no context", "river", "money")) and "bank" in html
    assert _has(_outputs(notebook, "neighbourhood-map"), "image/png")


def test_training_notebook_trains_and_plots_its_curves(tiny_backbone, tiny_data_dir, tmp_path, monkeypatch, offline):
    run = tmp_path / "run"
    extra = {"eval_max_items": 10, "max_synonym_pairs": 0}  # no synonym pairs: sampling them walks all of WordNet
    settings = {
        "DATA": tiny_data_dir, "BACKBONE": tiny_backbone, "RUN": str(run), "PRESET": "tiny",
        "MAX_STEPS": str(TINY_STEPS), "ARGS": json.dumps(extra),
    }  # fmt: skip
    for name, value in settings.items():
        monkeypatch.setenv(f"HF_TOKENEMBED_NB_{name}", value)
    notebook = _execute("02_train_token_head.ipynb")
    state = json.loads((run / "trainer_state.json").read_text())
    assert state["global_step"] == TINY_STEPS
    assert any(key.startswith("loss_") for row in state["log_history"] for key in row)
    assert (run / "model.safetensors").is_file() and (run / "training_curves.png").is_file()
    assert _has(_outputs(notebook, "training-curves"), "image/png")
    assert _has(_outputs(notebook, "dev-scores"), "text/html")


def test_reconstruction_notebook_shows_the_trace(bundle_dir, monkeypatch, offline):
    monkeypatch.setenv("HF_TOKENEMBED_NB_BUNDLE", str(bundle_dir))
    notebook = _execute("03_text_reconstruction.ipynb")
    (table,) = [o for o in _outputs(notebook, "trace-table") if o.output_type == "execute_result"]
    assert all(column in table.data["text/html"] for column in ("entry", "slot", "score", "cosine"))
    assert _has(_outputs(notebook, "round-trips"), "text/html")
    assert _has(_outputs(notebook, "trace-figure"), "image/png")
