from __future__ import annotations

import json
import math
from pathlib import Path

import datasets
import pytest
from data_helpers import requires_wordnet

import hf_tokenembed.data.corpora as corpora_module
from hf_tokenembed.data import SUMMARY_KEYS, build_data, format_summary, load_data

pytestmark = requires_wordnet
FAST = {"wordfreq_top": 0, "min_freq": 1, "progress": False, "mwe_min_count": 5}
LAYOUT = {
    "corpus": ("train", "dev", "test"),
    "eval/synonyms": ("dev", "test"),
    "eval/wic": ("dev", "test"),
    "eval/mwe_gloss": ("dev", "test"),
    "eval/reconstruction": ("dev", "test"),
}
COLUMNS = {
    "vocab": ["word", "count", "zipf"],
    "mwes": ["phrase", "count", "source", "npmi"],
    "senses": ["word", "synset", "pos", "lexname", "gloss", "examples", "spans", "synonyms", "hypernym_gloss"],
    "homographs": ["word", "lexnames", "synsets"],
    "eval/synonyms": ["word", "synonym", "pos"],
    "eval/wic": ["lemma", "pos", "sentence1", "start1", "end1", "sentence2", "start2", "end2", "synset1", "synset2",
                 "label"],
    "eval/mwe_gloss": ["phrase", "gloss", "synset"],
    "eval/reconstruction": ["text"],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory, wn):
    tmp = tmp_path_factory.mktemp("build")
    from data_helpers import make_sentences

    corpus = tmp / "corpus.txt"
    corpus.write_text("\n".join(make_sentences(200)) + "\n", encoding="utf-8")
    out = tmp / "data"
    return corpus, out, build_data(str(corpus), out, **FAST)


def test_layout_and_summary(built, wn):
    corpus, out, summary = built
    assert list(summary) == list(SUMMARY_KEYS)
    assert json.loads((out / "summary.json").read_text()) == summary
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["params"]["corpus"] == [str(corpus)] and "sha256=" in manifest["inputs"]["sources"][0]
    tables = load_data(out)
    for name, splits in LAYOUT.items():
        assert isinstance(tables[name], datasets.DatasetDict) and tuple(tables[name]) == splits
    for name, columns in COLUMNS.items():
        table = tables[name]
        first = next(iter(table.values())) if isinstance(table, datasets.DatasetDict) else table
        assert first.column_names == columns
    assert summary["sentences"] == 200 == sum(len(s) for s in tables["corpus"].values())
    assert tables["corpus"]["train"].column_names == ["text"]
    assert summary["vocabulary"] == len(tables["vocab"]) and "York" in tables["vocab"]["word"]
    mwes = dict(zip(tables["mwes"]["phrase"], tables["mwes"]["source"]))
    assert mwes["New York"] == "wordnet+npmi" and mwes["red herring"] == "wordnet+npmi"
    assert summary["senses"] > 0 and summary["homographs"] > 0 and summary["mwe_gloss"] > 0
    assert summary["reconstruction"] == len(tables["corpus"]["dev"]) + len(tables["corpus"]["test"])
    cases = [row for row in tables["senses"] if row["word"] == "case"]  # "case 5 was a red herring"
    assert len(cases) > 1 and all(row["lexname"] == wn.reader.synset(row["synset"]).lexname() for row in cases)
    table = format_summary(summary)
    assert all(key in table for key in SUMMARY_KEYS) and "200" in table


def test_rebuild_is_a_cache_hit(built, monkeypatch):
    corpus, out, summary = built

    def fail(*args, **kwargs):
        raise AssertionError("rebuilt despite a matching manifest")

    monkeypatch.setattr(corpora_module, "load_corpus", fail)
    assert build_data(str(corpus), out, **FAST) == summary


def test_changed_inputs_rebuild(built, tmp_path):
    corpus, out, _ = built
    target = tmp_path / "data"
    first = build_data(str(corpus), target, **FAST)
    mtime = (target / "manifest.json").stat().st_mtime_ns
    grown = tmp_path / "corpus.txt"
    grown.write_text(corpus.read_text() + "A brand new sentence joins the corpus today.\n", encoding="utf-8")
    second = build_data(str(grown), target, **FAST)
    assert second["sentences"] == first["sentences"] + 1
    assert (target / "manifest.json").stat().st_mtime_ns != mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "data"]  # no temporary folders left


def _assert_nothing_written(tmp_path, out):
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_bad_input_never_leaves_a_partial_folder(tmp_path, wn):
    out = tmp_path / "data"
    with pytest.raises(FileNotFoundError, match="`corpus`"):
        build_data(str(tmp_path / "missing.txt"), out, **FAST)
    _assert_nothing_written(tmp_path, out)
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    with pytest.raises(ValueError, match="`corpus`.*empty"):
        build_data(str(empty), out, **FAST)
    _assert_nothing_written(tmp_path, out)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Les caf\u00e9s de Paris sont pleins ce soir.".encode("latin-1"))
    with pytest.raises(ValueError, match="`corpus`.*not UTF-8"):
        build_data(str(latin), out, **FAST)
    _assert_nothing_written(tmp_path, out)
    short = tmp_path / "short.txt"
    short.write_text("Hello.\nGo home.\n")
    with pytest.raises(ValueError, match="no sentence of 3..40 words"):
        build_data(str(short), out, **FAST)
    _assert_nothing_written(tmp_path, out)
    with pytest.raises(TypeError, match="`corpus`"):
        build_data([3], out, **FAST)
    with pytest.raises(TypeError, match="`out`"):
        build_data(str(short), None, **FAST)
    with pytest.raises(ValueError, match="`min_freq`"):
        build_data(str(tmp_path / "short.txt"), out, **{**FAST, "min_freq": 0, "min_words": 1})
    _assert_nothing_written(tmp_path, out)


def test_refuses_to_replace_a_foreign_folder(tmp_path, corpus_file):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    with pytest.raises(FileExistsError, match="`out`.*overwrite=True"):
        build_data(str(corpus_file), out, **FAST)
    assert (out / "thesis.tex").read_text() == "do not delete"


def test_format_summary_table():
    text = format_summary({"sentences": 36000, "vocabulary": 28000, "wic": 12})
    lines = text.splitlines()
    assert lines[0].split() == ["table", "rows"] and "36,000" in lines[2] and lines[-1].split() == ["wic", "12"]


@pytest.mark.slow
def test_bbc_news_build_meets_the_targets(bbc_data_dir):
    summary = json.loads((Path(bbc_data_dir) / "summary.json").read_text())
    assert summary["sentences"] >= 30_000
    assert summary["vocabulary"] >= 20_000
    assert summary["mwes"] >= 2_000
    assert summary["homographs"] >= 1_000
    assert summary["wic"] >= 2_000
    tables = load_data(bbc_data_dir)
    mwes = set(tables["mwes"]["phrase"])
    assert {"prime minister", "New York", "Tony Blair", "red herring"} <= mwes
    npmi = [x for x in tables["mwes"]["npmi"] if not math.isnan(x)]
    assert len(npmi) >= 1_000
    wic = tables["eval/wic"]
    assert not set(wic["dev"]["lemma"]) & set(wic["test"]["lemma"])
    assert abs(sum(wic["test"]["label"]) - len(wic["test"]) / 2) <= 1
