from __future__ import annotations

import json

import datasets
import pytest
from data_helpers import make_sentences, requires_wordnet

from hf_tokenembed.data import CORPUS_SOURCES, hash_split, iter_documents, load_corpus, normalize_text, split_sentences


def _all(dd) -> list[str]:
    return [t for split in dd.values() for t in split["text"]]


def test_normalize_text_quotes_and_whitespace():
    assert normalize_text("  \u201cHello\u201d\u00a0 it\u2019s \t a\u2014test\n") == '"Hello" it\'s a-test'


def test_split_sentences_uses_pysbd_and_keeps_abbreviations():
    text = "Mr. Smith went to Washington D.C. on Monday. He arrived at 3 p.m. and left.\nA new paragraph here."
    assert split_sentences(text) == [
        "Mr. Smith went to Washington D.C. on Monday.",
        "He arrived at 3 p.m. and left.",
        "A new paragraph here.",
    ]


def test_hash_split_is_deterministic_and_respects_fractions():
    texts = [f"sentence number {i}" for i in range(4000)]
    splits = [hash_split(t, dev_fraction=0.1, test_fraction=0.2) for t in texts]
    assert splits == [hash_split(t, dev_fraction=0.1, test_fraction=0.2) for t in texts]
    assert 0.07 < splits.count("dev") / 4000 < 0.13
    assert 0.17 < splits.count("test") / 4000 < 0.23
    with pytest.raises(ValueError, match="dev_fraction"):
        hash_split("x", dev_fraction=0.7, test_fraction=0.5)


def test_split_never_moves_when_corpus_grows(tmp_path):
    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    sentences = make_sentences(300)
    small.write_text("\n".join(sentences[:100]), encoding="utf-8")
    big.write_text("\n".join(sentences[150:] + sentences[:100]), encoding="utf-8")
    kw = {"dev_fraction": 0.2, "test_fraction": 0.2}
    before = {t: split for split, ds in load_corpus(str(small), **kw).items() for t in ds["text"]}
    after = {t: split for split, ds in load_corpus(str(big), **kw).items() for t in ds["text"]}
    assert len(before) == 100 and {"train", "dev", "test"} == set(before.values())
    assert all(after[t] == split for t, split in before.items())


def test_split_is_by_document(tmp_path):
    """All sentences of a document share its split; a sentence shared with a document of another split, or a re-run
    of a story under the same title, never lands in a held-out split."""
    articles = [
        [
            f"Story {i} headline about a topic",
            f"The first fact of story {i} is here.",
            f"Another fact of story {i} follows.",
        ]
        for i in range(60)
    ]
    shared = "This sentence appears in every story of the corpus."
    for article in articles:
        article.append(shared)
    rerun = [articles[0][0], "A rewritten fact of story 0 appears here.", "Another fact of story 0 follows."]
    path = tmp_path / "news.txt"
    path.write_text("\n\n".join("\n".join(a) for a in [*articles, rerun]), encoding="utf-8")
    data = load_corpus(str(path), dev_fraction=0.2, test_fraction=0.2)
    split_of = {t: name for name, part in data.items() for t in part["text"]}
    for article in articles:
        assert len({split_of[s] for s in article[:3]}) == 1, article
    assert {split_of[a[1]] for a in articles} == {"train", "dev", "test"}
    assert split_of[shared] == "train"
    assert split_of[rerun[1]] == split_of[articles[0][1]]  # same title: same split


def test_filters_and_deduplicates(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("Too short.\nThe cat sat on the mat.\nThe cat sat on the mat.\n" + "word " * 41 + ".\n")
    assert _all(load_corpus(str(path))) == ["The cat sat on the mat."]


@pytest.mark.parametrize("suffix", [".txt", ".jsonl", ".csv", ".parquet", "dataset"])
def test_local_sources(tmp_path, suffix):
    sentences = make_sentences(20)
    if suffix == ".txt":
        path = tmp_path / "c.txt"
        path.write_text("\n\n".join(sentences), encoding="utf-8")
    elif suffix == ".jsonl":
        path = tmp_path / "c.jsonl"
        path.write_text("\n".join(json.dumps({"body": s, "id": i}) for i, s in enumerate(sentences)), encoding="utf-8")
    elif suffix == ".csv":
        path = tmp_path / "c.csv"
        datasets.Dataset.from_dict({"body": sentences}).to_csv(str(path), index=False)
    elif suffix == ".parquet":
        path = tmp_path / "c.parquet"
        datasets.Dataset.from_dict({"body": sentences}).to_parquet(str(path))
    else:
        path = tmp_path / "saved"
        datasets.DatasetDict({"a": datasets.Dataset.from_dict({"body": sentences[:10]}),
                              "b": datasets.Dataset.from_dict({"body": sentences[10:]})}).save_to_disk(str(path))  # fmt: skip
    column = "text" if suffix == ".txt" else "body"
    assert sorted(_all(load_corpus(str(path), text_column=column))) == sorted(sentences)


def test_list_of_sources_is_merged_and_deduplicated(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("The first sentence is here.\nA shared sentence is here.")
    b.write_text("A shared sentence is here.\nThe second sentence is here.")
    assert len(_all(load_corpus([str(a), b]))) == 3


def test_bbc_news_source_reads_the_packaged_articles():
    docs = list(iter_documents("bbc-news"))
    assert len(docs) == 2225
    assert docs[0].startswith("Ad sales boost Time Warner profit")
    assert len(split_sentences(docs[0])) > 5


@requires_wordnet
def test_wordnet_examples_source(wn):
    examples = list(iter_documents("wordnet-examples"))
    assert len(examples) > 40_000
    assert "he sat on the bank of the river and watched the currents" in examples


def test_wikitext_offline_is_a_clear_error(monkeypatch):
    def unreachable(*args, **kwargs):
        raise OSError("couldn't reach the Hub")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    assert "wikitext-103" in CORPUS_SOURCES
    with pytest.raises(ConnectionError, match="wikitext-103.*not reachable"):
        load_corpus("wikitext-103")


def test_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="`corpus`"):
        load_corpus(str(tmp_path / "missing.txt"))
    with pytest.raises(TypeError, match="`corpus`"):
        load_corpus(42)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="`corpus`.*empty"):
        load_corpus(str(empty))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\u00e9 au lait is a fine drink indeed.".encode("latin-1"))
    with pytest.raises(ValueError, match="`corpus`.*not UTF-8"):
        load_corpus(str(latin))
    short = tmp_path / "short.txt"
    short.write_text("Hi.\nGo now.\n")
    with pytest.raises(ValueError, match="no sentence of 3..40 words.*`min_words`"):
        load_corpus(str(short))
    odd = tmp_path / "c.docx"
    odd.write_text("x")
    with pytest.raises(ValueError, match="unsupported suffix"):
        load_corpus(str(odd))
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text('{"body": "The cat sat on the mat."}\n')
    with pytest.raises(ValueError, match="`text_column` 'text'"):
        load_corpus(str(jsonl))
    with pytest.raises(ValueError, match="`min_words`"):
        load_corpus(str(jsonl), text_column="body", min_words=5, max_words=2)
