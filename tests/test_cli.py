"""The `hf-tokenembed` command line: data build, index build, neighbors, evaluate, plot; --help, --json, exit codes."""

from __future__ import annotations

import argparse
import importlib.util
import json

import pytest

from hf_tokenembed.cli import build_parser, main
from hf_tokenembed.index import VocabIndex

PNG = b"\x89PNG\r\n\x1a\n"


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
    parts_of_speech = {}
    everything = str(len(VocabIndex.load(index_dir)))  # all entries: the random tiny model's geometry plays no part
    tagger = [["--pos", "auto"]] if importlib.util.find_spec("spacy") else []  # reads "bank" here as a noun
    for pos in ([], ["--pos", "v"], *tagger):  # "--pos v" leaves out the noun senses (of "bank" and the rest)
        main(["neighbors", saved_model, "bank", "--index", str(index_dir), "-k", everything, "--json", *pos,
              "--context", "We sat on the river bank."])  # fmt: skip
        hits = json.loads(capsys.readouterr().out.strip().splitlines()[-1])[0]["neighbors"]
        parts_of_speech[tuple(pos)] = {h["synset"].split(".")[-2] if h["kind"] == "sense" else h["kind"] for h in hits}
    assert {"n", "v"} <= parts_of_speech[()]
    assert "v" in parts_of_speech[("--pos", "v")] and not parts_of_speech[("--pos", "v")] & {"n", "a", "s", "r"}
    if tagger:
        assert "n" in parts_of_speech[("--pos", "auto")] and not parts_of_speech[("--pos", "auto")] & {
            "v",
            "a",
            "s",
            "r",
        }
        assert main(["neighbors", saved_model, "bank", "--index", str(index_dir), "--pos", "auto"]) == 1
        assert "context" in capsys.readouterr().err


def test_evaluate_json(saved_model, tiny_data_dir, capsys):
    main(["evaluate", saved_model, "--data", tiny_data_dir, "--max-items", "20", "--json"])
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    from transformers import AutoModel

    from hf_tokenembed.evaluation import evaluate_model

    expected = evaluate_model(AutoModel.from_pretrained(saved_model).eval(), tiny_data_dir, max_items=20)
    expected.pop("eval_seconds"), printed.pop("eval_seconds")
    assert printed == {name: None if value != value else value for name, value in expected.items()}  # NaN -> null


def test_unknown_subcommand_exits_with_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train-everything"])
    assert exit_.value.code == 2 and "usage: hf-tokenembed" in capsys.readouterr().err


def _commands(parser, prefix=()):
    """Every (sub)subcommand of the parser, as its argv prefix."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from _commands(sub, (*prefix, name))


def test_every_subcommand_has_help(capsys):
    commands = list(_commands(build_parser()))
    assert {("plot", "trace"), ("data", "build"), ("reconstruct",), ("evaluate-reconstruction",)} <= set(commands)
    for command in commands:
        with pytest.raises(SystemExit) as exit_:
            main([*command, "--help"])
        assert exit_.value.code == 0 and "usage: hf-tokenembed " + " ".join(command) in capsys.readouterr().out


def test_exit_codes_and_errors_that_say_what_to_do(saved_model, tiny_data_dir, tmp_path, capsys):
    assert main(["index", "build", saved_model, tiny_data_dir, "--out", str(tmp_path / "index")]) == 0
    capsys.readouterr()
    assert main(["neighbors", str(tmp_path / "no-model"), "bank"]) == 1  # a failure: 1, one line on stderr
    err = capsys.readouterr().err
    assert (
        err.startswith("hf-tokenembed neighbors: error: no model or bundle folder at")
        and "-v for the traceback" in err
    )
    assert main(["neighbors", saved_model, "bank"]) == 1  # no index beside the model
    assert "hf-tokenembed index build" in capsys.readouterr().err
    assert main(["evaluate", saved_model, "--data", str(tmp_path / "no-data")]) == 1
    assert "hf-tokenembed data build" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # bad usage: 2, with the command's usage line
        main(["neighbors", saved_model])
    assert exit_.value.code == 2 and "usage: hf-tokenembed neighbors" in capsys.readouterr().err


def test_json_output_for_scripting(saved_model, tiny_data_dir, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(f"The river bank flooded on day {i}." for i in range(30)), encoding="utf-8")
    main(["data", "build", "--corpus", str(corpus), "--out", str(tmp_path / "data"), "--json"])
    assert json.loads(capsys.readouterr().out)["sentences"] == 30
    main(["index", "build", saved_model, tiny_data_dir, "--out", str(tmp_path / "index"), "--json"])
    meta = json.loads(capsys.readouterr().out)
    assert meta["num_entries"] > 0 and meta["index"] == str(tmp_path / "index")
    main(["neighbors", saved_model, "bank", "red herring", "--index", str(tmp_path / "index"), "-k", "2", "--json",
          "--context", "We sat on the river bank."])  # fmt: skip
    found = json.loads(capsys.readouterr().out)
    assert [(f["query"], f["context"]) for f in found] == [
        ("bank", "We sat on the river bank."), ("red herring", "We sat on the river bank.")
    ]  # fmt: skip
    assert all(len(f["neighbors"]) == 2 and {"surface", "kind", "score"} <= set(f["neighbors"][0]) for f in found)


def test_plot_training_and_neighbours_write_pngs(saved_model, tiny_data_dir, tmp_path, capsys):
    state = {"log_history": [{"step": s, "loss": 2.0 / s, "loss_order": 1.0 / s} for s in range(1, 6)]}
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "trainer_state.json").write_text(json.dumps(state))
    main(["plot", "training", str(tmp_path / "run"), "--out", str(tmp_path / "curves.png"), "--json"])
    assert json.loads(capsys.readouterr().out) == {"png": str(tmp_path / "curves.png")}
    main(["index", "build", saved_model, tiny_data_dir, "--out", str(tmp_path / "index")])
    main(["plot", "neighbours", saved_model, "bank", "--index", str(tmp_path / "index"), "-k", "5", "--method", "pca",
          "--context", "We sat on the river bank.", "--out", str(tmp_path / "bank.png")])  # fmt: skip
    assert "neighbours plot written to" in capsys.readouterr().out
    assert all((tmp_path / name).read_bytes()[:8] == PNG for name in ("curves.png", "bank.png"))
    assert main(["plot", "training", str(tmp_path / "index"), "--out", str(tmp_path / "x.png")]) == 1
    assert "trainer_state.json" in capsys.readouterr().err and not (tmp_path / "x.png").exists()


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
