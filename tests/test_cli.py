"""The `hf-tokenembed` command line: data build, index build, neighbors, evaluate."""

from __future__ import annotations

import json

import pytest

from hf_tokenembed.cli import main


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, _tiny_model) -> str:
    folder = tmp_path_factory.mktemp("cli-model") / "model"
    _tiny_model.save_pretrained(folder)
    return str(folder)


def test_data_build_prints_the_summary(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(
        "\n".join(f"The river bank flooded again on day {i} of the storm." for i in range(40)), encoding="utf-8"
    )
    main(["data", "build", "--corpus", str(corpus), "--out", str(tmp_path / "data")])
    out = capsys.readouterr().out
    assert "sentences" in out and "homographs" in out
    assert json.loads((tmp_path / "data" / "summary.json").read_text())["sentences"] == 40


def test_index_build_then_neighbors(saved_model, tiny_data_dir, tmp_path, capsys):
    index_dir = tmp_path / "index"
    main(["index", "build", saved_model, tiny_data_dir, "--out", str(index_dir)])
    main(["neighbors", saved_model, "bank", "red herring", "--index", str(index_dir), "-k", "3",
          "--context", "We sat on the river bank."])  # fmt: skip
    out = capsys.readouterr().out
    assert "bank  @  We sat on the river bank." in out and "rank" in out


def test_evaluate_json(saved_model, tiny_data_dir, capsys):
    main(["evaluate", saved_model, "--data", tiny_data_dir, "--max-items", "20", "--json"])
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    from transformers import AutoModel

    from hf_tokenembed.evaluation import evaluate_model

    expected = evaluate_model(AutoModel.from_pretrained(saved_model).eval(), tiny_data_dir, max_items=20)
    expected.pop("eval_seconds"), printed.pop("eval_seconds")
    assert printed == {name: None if value != value else value for name, value in expected.items()}  # NaN -> null


def test_unknown_subcommand_exits():
    with pytest.raises(SystemExit):
        main(["train-everything"])


@pytest.mark.slow
def test_demo_runs_end_to_end_offline(tmp_path, tiny_data_dir, monkeypatch, capsys):
    """The demo on the released bundle; the BBC build is swapped for the small test corpus to keep it quick."""
    import shutil
    from pathlib import Path

    import hf_tokenembed.data
    from hf_tokenembed.cli import RELEASED_BUNDLE

    shutil.copytree(tiny_data_dir, tmp_path / "runs" / "data")
    monkeypatch.setattr(hf_tokenembed.data, "build_data", lambda corpus, out: {"sentences": 1})
    bundle = Path(__file__).resolve().parents[1] / RELEASED_BUNDLE
    main(["demo", "--bundle", str(bundle), "--runs", str(tmp_path / "runs"), "--sentences", "3", "-k", "3"])
    out = capsys.readouterr().out
    assert out.count("original: ") == out.count("rebuilt:  ") >= 2 and "token F1" in out  # the tiny split: 2 fit
    assert "red herring" in out and "bank  @  We sat on the river bank" in out
    assert not (tmp_path / "runs" / "raw-minilm").exists()  # nothing is embedded or indexed at demo time
