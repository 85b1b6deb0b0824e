"""trainers/train_selector.py and train_placer.py on tiny presets: outputs, roll-in, resume, two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "trainers"))
import train_placer  # noqa: E402
import train_selector  # noqa: E402


@pytest.fixture(scope="module")
def embedder_dir(tmp_path_factory, _tiny_model) -> str:
    folder = tmp_path_factory.mktemp("controller-embedder") / "embedder"
    _tiny_model.save_pretrained(folder)
    return str(folder)


def _flags(embedder_dir, data_dir, output_dir, **extra) -> list[str]:
    flags = ["--embedder", embedder_dir, "--data_dir", data_dir, "--output_dir", str(output_dir),
             "--vocabulary_min_count", "1", "--use_cpu", "true"]  # fmt: skip
    for name, value in extra.items():
        flags += [f"--{name}", str(value)]
    return flags


@pytest.fixture(scope="module")
def trained(tmp_path_factory, embedder_dir, tiny_data_dir):
    root = tmp_path_factory.mktemp("controller-runs")
    selector = train_selector.main(
        ["--preset", "selector-tiny", *_flags(embedder_dir, tiny_data_dir, root / "selector")]
    )
    placer = train_placer.main(
        ["--preset", "placer-tiny", *_flags(embedder_dir, tiny_data_dir, root / "placer", selector=root / "selector")]
    )
    return root, selector, placer


def test_both_scripts_write_models_cards_and_results(trained):
    root, _, _ = trained
    for name in ("selector", "placer"):
        files = set(os.listdir(root / name))
        assert {"config.json", "model.safetensors", "README.md", "eval_results.json", "modeling.py"} <= files, files
        assert not [f for f in files if f.startswith(".tmp")]
    card = (root / "placer" / "README.md").read_text()
    assert "Placer" in card and "rolled in" in card
    assert (root / "placer" / "oracle" / "config.json").is_file()  # the first phase, before the roll-in
    state = json.loads((root / "placer" / "trainer_state.json").read_text())
    assert state["global_step"] == 6


def test_a_finished_run_resumes_without_training_again(trained, embedder_dir, tiny_data_dir):
    root, _, _ = trained
    before = load_file(root / "selector" / "model.safetensors")
    train_selector.main(["--preset", "selector-tiny", *_flags(embedder_dir, tiny_data_dir, root / "selector")])
    after = load_file(root / "selector" / "model.safetensors")
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_two_processes_train_exactly_as_one(tmp_path, embedder_dir, tiny_data_dir):
    """A global batch of 16 on one process, or 8 on each of two: the same states, noise and loss, so the same model."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    script = str(ROOT / "trainers" / "train_selector.py")
    one = [sys.executable, script, "--preset", "selector-tiny", *_flags(embedder_dir, tiny_data_dir, tmp_path / "one")]
    two = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", script, "--preset", "selector-tiny",
        *_flags(embedder_dir, tiny_data_dir, tmp_path / "two", per_device_train_batch_size=8),
    ]  # fmt: skip
    for command in (one, two):
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=900, stdin=subprocess.DEVNULL
        )
        assert result.returncode == 0, result.stderr[-3000:]
    first, second = (load_file(tmp_path / run / "model.safetensors") for run in ("one", "two"))
    assert first.keys() == second.keys()
    for name in first:
        torch.testing.assert_close(first[name], second[name], atol=1e-5, rtol=1e-4, msg=name)
