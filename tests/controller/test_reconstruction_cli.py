"""`hf-tokenembed bundle`, `reconstruct` and `evaluate-reconstruction` on a tiny controller."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hf_tokenembed import TextReconstructor
from hf_tokenembed.cli import main
from hf_tokenembed.evaluation import BUCKETS


@pytest.fixture(scope="module")
def cli_bundle(controller, tmp_path_factory) -> str:
    """The tiny parts saved as training leaves them, then assembled by `hf-tokenembed bundle`."""
    embedder, vocabulary, _, _, selector, placer, _ = controller
    root = tmp_path_factory.mktemp("cli-bundle")
    embedder.save_pretrained(root / "embedder")
    vocabulary.save(root / "embedder" / "reconstruction_vocab")
    selector.save_pretrained(root / "selector")
    placer.save_pretrained(root / "placer")
    main(["bundle", str(root / "embedder"), str(root / "selector"), str(root / "placer"), "--out", str(root / "b")])
    return str(root / "b")


def test_reconstruct_texts_and_vectors(cli_bundle, controller, tmp_path, capsys):
    _, _, train, *_ = controller
    capsys.readouterr()
    main(
        [
            "reconstruct",
            cli_bundle,
            train.texts[0],
            train.texts[1],
            "--greedy",
            "--max-steps",
            "4",
            "--patience",
            "2",
            "--json",
        ]
    )
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 2 and {"text", "cosine"} <= set(results[0])
    np.save(tmp_path / "v.npy", train.targets[:3].numpy())
    main(["reconstruct", cli_bundle, "--vectors", str(tmp_path / "v.npy"), "--greedy", "--max-steps", "4", "--steps"])
    out = capsys.readouterr().out
    assert out.count("->") == 3 and "cosine" in out and " 1. " in out
    with pytest.raises(SystemExit) as exit_:
        main(["reconstruct", cli_bundle])  # neither texts nor vectors
    assert exit_.value.code == 2 and "usage: hf-tokenembed reconstruct" in capsys.readouterr().err


def test_evaluate_reconstruction_prints_the_bucket_table(cli_bundle, tiny_data_dir, capsys):
    main(["evaluate-reconstruction", cli_bundle, "--data", tiny_data_dir, "--split", "test", "--sentences", "6",
          "--json"])  # fmt: skip
    results = json.loads(capsys.readouterr().out)
    from hf_tokenembed.controller import Reconstructor
    from hf_tokenembed.data import load_data
    from hf_tokenembed.evaluation import bucket_sentences, evaluate_reconstruction

    texts = list(load_data(tiny_data_dir)["eval/reconstruction"]["test"]["text"])
    expected = evaluate_reconstruction(
        Reconstructor.from_pretrained(cli_bundle), bucket_sentences(texts, 6 // len(BUCKETS), seed=0), progress=False
    )
    assert set(results) == set(expected) == {"greedy", "verifier beam"}
    for system, rows in results.items():
        assert set(rows) == set(expected[system]) and rows
        for bucket, row in rows.items():
            assert row.pop("seconds") > 0 and expected[system][bucket].pop("seconds") > 0
            assert row == pytest.approx(expected[system][bucket])  # the figures of the library's evaluation
    card = Path(cli_bundle) / "README.md"
    main(["evaluate-reconstruction", cli_bundle, "--data", tiny_data_dir, "--sentences", "6", "--card", str(card)])
    table = capsys.readouterr().out
    assert "| verifier beam |" in table
    text = card.read_text()
    assert "hf-tokenembed evaluate-reconstruction" in text and "| verifier beam |" in text and "Training data" in text
    assert TextReconstructor.from_pretrained(cli_bundle)  # a card beside the files does not break their checksums


def test_plot_trace_writes_a_png_and_a_missing_bundle_fails_clearly(cli_bundle, tmp_path, capsys):
    out = tmp_path / "trace.png"
    assert main(["plot", "trace", cli_bundle, "The bank approved the loan.", "--greedy", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "trace plot written to" in capsys.readouterr().out
    assert main(["reconstruct", str(tmp_path / "no-bundle"), "a text"]) == 1
    assert "no bundle folder at" in capsys.readouterr().err
