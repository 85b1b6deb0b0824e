"""trainers/train_selector.py and train_placer.py on tiny presets: outputs, roll-in, resume, two processes."""

from __future__ import annotations

import json
import os
import shutil
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
from trainer_watch import Kill, StepLog, watch  # noqa: E402

from hf_tokenembed.training import PlacerTrainer, SelectorTrainer  # noqa: E402


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


def _same_weights(folder_a, folder_b) -> bool:
    a, b = (load_file(Path(folder) / "model.safetensors") for folder in (folder_a, folder_b))
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_finished_run_resumes_without_training_again(trained, embedder_dir, tiny_data_dir, tmp_path, monkeypatch):
    root, _, _ = trained
    log = StepLog()
    for trainer in (SelectorTrainer, PlacerTrainer):
        watch(monkeypatch, trainer, log)
    for script, name, extra in (
        (train_selector, "selector", {}),
        (train_placer, "placer", {"selector": root / "selector"}),
    ):
        before = tmp_path / name
        shutil.copytree(root / name, before)
        script.main(["--preset", f"{name}-tiny", *_flags(embedder_dir, tiny_data_dir, root / name, **extra)])
        assert log.steps == [], name  # not one step taken again
        assert _same_weights(before, root / name), name


def test_an_interrupted_selector_resumes_from_its_checkpoint(trained, embedder_dir, tiny_data_dir, tmp_path,
                                                             monkeypatch):  # fmt: skip
    """Killed after checkpoint-3, the rerun takes steps 4 to 6 only and ends with the uninterrupted run's weights."""
    root, _, _ = trained
    log = StepLog()
    watch(monkeypatch, SelectorTrainer, log, Kill(4))
    flags = ["--preset", "selector-tiny", *_flags(embedder_dir, tiny_data_dir, tmp_path / "selector")]
    with pytest.raises(KeyboardInterrupt):
        train_selector.main(flags)
    log.steps.clear()
    train_selector.main(flags)
    assert log.steps == [("selector", 4), ("selector", 5), ("selector", 6)]
    assert _same_weights(tmp_path / "selector", root / "selector")


@pytest.mark.parametrize("phase", ["oracle", "placer"])
def test_an_interrupted_placer_resumes_where_it_stopped(phase, trained, embedder_dir, tiny_data_dir, tmp_path,
                                                         monkeypatch):  # fmt: skip
    """Killed in its first phase (oracle states) or its second (with roll-in) after checkpoint-3, the rerun takes
    that phase's steps 4 to 6 and whatever follows, never a finished phase again, and ends with the uninterrupted
    run's weights."""
    root, _, _ = trained
    log = StepLog()
    watch(monkeypatch, PlacerTrainer, log, Kill(4, phase))
    flags = [
        "--preset",
        "placer-tiny",
        *_flags(embedder_dir, tiny_data_dir, tmp_path / "placer", selector=root / "selector"),
    ]
    with pytest.raises(KeyboardInterrupt):
        train_placer.main(flags)
    log.steps.clear()
    train_placer.main(flags)
    rest = [(phase, step) for step in (4, 5, 6)]
    assert log.steps == (rest + [("placer", step) for step in range(1, 7)] if phase == "oracle" else rest)
    assert _same_weights(tmp_path / "placer", root / "placer")


TWO_PROCESS_ATOL = 5e-5  # README: without dropout, the controller's two-process runs equal one process's to 5e-5


@pytest.mark.parametrize("script", ["selector", "placer"])
def test_two_processes_train_as_one_without_dropout(script, trained, tmp_path, embedder_dir, tiny_data_dir):
    """A global batch of 16 on one process, or 8 on each of two, dropout 0 (the tiny presets'): the same states, noise
    and loss, so the same model within the README's tolerance; the Placer with its roll-in too."""
    root, _, _ = trained
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    path = str(ROOT / "trainers" / f"train_{script}.py")
    preset = json.loads((ROOT / "trainers" / "configs" / f"{script}-tiny.json").read_text())
    assert preset["dropout"] == 0.0
    extra = {"selector": root / "selector"} if script == "placer" else {}
    one = [
        sys.executable,
        path,
        "--preset",
        f"{script}-tiny",
        *_flags(embedder_dir, tiny_data_dir, tmp_path / "one", **extra),
    ]
    two = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", path, "--preset", f"{script}-tiny",
        *_flags(embedder_dir, tiny_data_dir, tmp_path / "two", per_device_train_batch_size=8, **extra),
    ]  # fmt: skip
    for command in (one, two):
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=900, stdin=subprocess.DEVNULL
        )
        assert result.returncode == 0, result.stderr[-3000:]
    first, second = (load_file(tmp_path / run / "model.safetensors") for run in ("one", "two"))
    assert first.keys() == second.keys()
    differences = {name: float((second[name] - first[name]).abs().max()) for name in first}
    worst = sorted(differences.items(), key=lambda item: -item[1])[:5]
    assert worst[0][1] <= TWO_PROCESS_ATOL, worst
