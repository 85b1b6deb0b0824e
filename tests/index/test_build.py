from __future__ import annotations

import importlib.util
import os

import pytest
import torch
from datasets import load_from_disk

from hf_tokenembed.data import data_fingerprint, find_form, gloss_context, held_out_sentences
from hf_tokenembed.evaluation import score_index_senses, score_senses
from hf_tokenembed.index import (
    VocabIndex,
    VocabIndexConfig,
    build_sense_vectors,
    encode_queries,
    find_word_contexts,
    format_neighbors,
    neighbors,
)

from .conftest import CORPUS, SENSES, WORDS


def test_build_from_data_folder(embedder, data_dir, tmp_path):
    index = VocabIndex.build(embedder, data_dir, progress=False)
    kinds = [e.kind for e in index.entries]
    # words, MWEs, and senses of the homographs only (apple has one synset)
    assert kinds.count("word") == len(WORDS)
    assert kinds.count("mwe") == 3
    senses = [e for e in index.entries if e.kind == "sense"]
    assert sorted(e.synset for e in senses) == sorted(r["synset"] for r in SENSES if r["word"] != "apple")
    labels = {e.label for e in senses}
    assert {"bank (sloping land)", "bank (financial institution)", "bass (lowest part)"} <= labels
    bank = next(e for e in index.entries if e.surface == "bank" and e.kind == "word")
    assert bank.frequency == 99 and bank.source == "word"
    assert index.fingerprint == embedder.fingerprint() and index.index_type == "exact"
    # a word's own vector is its nearest entry; the MWE is searchable as typed
    assert index.search(embedder.encode_words(["river"])[0], k=1)[0].entry.label == "river"
    assert index.search(embedder.encode_words(["red herring"])[0], k=1)[0].entry.kind == "mwe"
    # round trip next to a model, checked against the embedder
    index.save(tmp_path / "model" / "vocab_index")
    loaded = VocabIndex.load(tmp_path / "model" / "vocab_index", embedder=embedder)
    assert loaded.entries == index.entries


def test_build_include_and_errors(embedder, data_dir, tmp_path):
    only_words = VocabIndex.build(embedder, data_dir, include=("word",), progress=False, max_words=5)
    assert len(only_words) == 5 and {e.kind for e in only_words.entries} == {"word"}
    only_senses = VocabIndex.build(embedder, data_dir, include=["sense"], progress=False)
    assert {e.kind for e in only_senses.entries} == {"sense"}
    with pytest.raises(ValueError, match="include"):
        VocabIndex.build(embedder, data_dir, include=("words",))
    with pytest.raises(FileNotFoundError, match="data_dir"):
        VocabIndex.build(embedder, tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="mwes/"):
        VocabIndex.build(embedder, tmp_path, include=("mwe",))
    with pytest.raises(ValueError, match="max_words"):
        VocabIndex.build(embedder, data_dir, max_words=-1)


def test_build_sense_vectors_and_exclusion(embedder):
    vectors, meta = build_sense_vectors(embedder, SENSES)
    assert vectors.shape == (len(SENSES), embedder.token_dim)
    torch.testing.assert_close(vectors.norm(dim=1), torch.ones(len(SENSES)))
    full, gloss_only = "examples+gloss_context+gloss_text", "gloss_context+gloss_text"
    assert [m["source"] for m in meta] == [full, full, gloss_only, full, full]
    # the vector is the renormalised mean of its parts, each normalised: examples (mean), gloss context, gloss text
    row = SENSES[0]
    text, span = gloss_context(row["word"], row["gloss"])
    assert text.startswith("bank: sloping land") and span == (0, 4)
    norm = torch.nn.functional.normalize
    examples = norm(embedder.encode_in_context(row["examples"], [tuple(s) for s in row["spans"]]).mean(0), dim=0)
    parts = [embedder.encode_in_context([text], [span])[0], embedder.encode_words([row["gloss"]])[0], examples]
    torch.testing.assert_close(vectors[0], norm(torch.stack(parts).mean(0), dim=0))
    # synonyms and the hypernym's gloss count when the table has them
    richer, meta_rich = build_sense_vectors(embedder, [dict(row, synonyms=["shore"], hypernym_gloss="a slope")])
    assert meta_rich[0]["source"] == full + "+synonyms+hypernym_gloss" and not torch.allclose(richer[0], vectors[0])
    # excluded sentences are not used
    held_out = {SENSES[0]["examples"][0]}
    v2, meta2 = build_sense_vectors(embedder, SENSES, exclude_sentences=held_out)
    assert meta2[0]["num_examples"] == 1 and meta2[0]["num_excluded"] == 1
    assert not torch.allclose(v2[0], vectors[0])
    torch.testing.assert_close(v2[1:], vectors[1:])
    empty, no_meta = build_sense_vectors(embedder, [])
    assert empty.shape == (0, embedder.token_dim) and no_meta == []


def test_corpus_clustering_for_example_less_senses(embedder):
    contexts = find_word_contexts(CORPUS, ["bass", "bank"], max_per_word=3)
    assert len(contexts["bass"]) == 3 and len(contexts["bank"]) == 2
    sentence, (a, b) = contexts["bass"][0]
    assert sentence[a:b] == "bass"
    # bass has a WordNet example (bass.n.03), so it is not clustered...
    _, meta = build_sense_vectors(embedder, SENSES, corpus_sentences=CORPUS, max_corpus_contexts=8)
    assert not any(m["source"].endswith("+corpus") for m in meta)
    # ...unless that example is held out: then both its senses are matched one-to-one to corpus clusters
    held_out = set(SENSES[3]["examples"])
    vectors, meta = build_sense_vectors(
        embedder, SENSES, corpus_sentences=CORPUS, max_corpus_contexts=8, exclude_sentences=held_out
    )
    plain, _ = build_sense_vectors(embedder, SENSES, exclude_sentences=held_out)
    full, clustered = "examples+gloss_context+gloss_text", "gloss_context+gloss_text+corpus"
    assert [m["source"] for m in meta] == [full, full, clustered, clustered, full]
    assert not torch.allclose(vectors[2], plain[2]) and not torch.allclose(vectors[3], plain[3])
    torch.testing.assert_close(vectors[[0, 1, 4]], plain[[0, 1, 4]])
    torch.testing.assert_close(vectors.norm(dim=1), torch.ones(len(SENSES)))


def test_index_senses_are_scored_held_out(embedder, data_dir):
    wic = load_from_disk(os.path.join(data_dir, "eval", "wic"))
    senses = load_from_disk(os.path.join(data_dir, "senses"))
    held_out = held_out_sentences(wic, senses, ("test",))
    assert (
        "the river bank was muddy with water" in held_out and "they pulled the canoe up on the river bank" in held_out
    )
    index = VocabIndex.build(embedder, data_dir, progress=False)  # default: the evaluation sentences held out
    assert index.provenance["excluded_sentences"] == len(held_out_sentences(wic, senses))
    result = score_index_senses(index, embedder, senses, wic["test"]["lemma"])
    # bank's four examples and bass's one are the queries; all have two same-POS candidates
    assert result["num_queries"] == 5 and result["num_scored"] == 5 and result["mean_candidates"] == 2
    hits = 0  # the same decision by hand: the nearest sense entry of the query's lemma must be its synset
    for row in senses:
        if row["word"] == "apple":
            continue  # one sense: not scored
        ids = [i for i, e in enumerate(index.entries) if e.kind == "sense" and e.surface == row["word"]]
        for example, span in zip(row["examples"], row["spans"]):
            query = embedder.encode_in_context([example], [tuple(span)])[0].numpy()
            scores = index.reconstruct(ids) @ query
            hits += index.entries[ids[int(scores.argmax())]].synset == row["synset"]
    assert result["fine_accuracy"] == hits / 5
    assert result["fine_random"] == pytest.approx(0.5)


def test_neighbors_and_table(embedder, data_dir):
    index = VocabIndex.build(embedder, data_dir, progress=False, config=VocabIndexConfig(index_type="hnsw"))
    assert find_form("We sat on the river Bank.", "bank") == (20, 24)
    assert find_form("a red  herring here", "red herring") == (2, 14)
    assert find_form("the bank", "ban") is None
    vectors, labels = encode_queries(embedder, ["bank", "red herring"], context="We sat on the river bank.")
    assert vectors.shape == (2, embedder.token_dim)
    assert labels == ["bank @ We sat on the river bank.", "red herring"]
    torch.testing.assert_close(vectors[1], embedder.encode_words(["red herring"])[0])
    results = neighbors(index, embedder, ["bank", "red herring"], context="We sat on the river bank.", k=3)
    table = format_neighbors(results, labels)
    assert "bank @ We sat on the river bank." in table and "rank" in table and "score" in table
    assert table.count("\n   1  ") == 2 and "red herring  mwe" in table
    single = format_neighbors(results[0])
    assert single.startswith("query 0")
    distinct = neighbors(index, embedder, ["bank", "red herring"], context="We sat on the river bank.", k=3,
                         distinct_case=True)  # fmt: skip
    for hits, wide in zip(distinct, index.search(vectors, k=9)):  # each label once, at its best-ranked case
        firsts = [hit for n, hit in enumerate(wide) if all(
            h.entry.label.casefold() != hit.entry.label.casefold() for h in wide[:n])]  # fmt: skip
        assert hits == firsts[:3]
    wide = index.search(vectors[0], k=len(index))  # "bank" in context, every entry; its senses here are nouns
    assert any(h.entry.kind == "sense" for h in wide[:10])
    for pos in ("n", "v"):
        (found,) = neighbors(index, embedder, ["bank"], context="We sat on the river bank.", k=10, pos=pos)
        kept = [h for h in wide if h.entry.kind != "sense" or h.entry.pos == pos]
        assert [h.entry for h in found] == [h.entry for h in kept[:10]]
    assert not any(h.entry.kind == "sense" for h in found)  # pos="v": the noun senses are left out
    if importlib.util.find_spec("spacy") is not None:  # pos="auto": the tagger reads "bank" here as a noun
        (tagged,) = neighbors(index, embedder, ["bank"], context="We sat on the river bank.", k=10, pos="auto")
        (noun,) = neighbors(index, embedder, ["bank"], context="We sat on the river bank.", k=10, pos="n")
        assert tagged == noun
    with pytest.raises(ValueError, match="context"):
        neighbors(index, embedder, ["bank"], k=3, pos="auto")
    with pytest.raises(ValueError, match="`pos`"):
        neighbors(index, embedder, ["bank"], k=3, pos="noun")
    with pytest.raises(TypeError, match="queries"):
        encode_queries(embedder, "bank")
    with pytest.raises(ValueError, match="queries"):
        format_neighbors(results, ["one"])


def test_sense_scoring_on_a_data_folder(embedder, data_dir):
    senses = load_from_disk(os.path.join(data_dir, "senses"))
    result = score_senses(embedder, senses, ["bank", "bass"])
    # "he sang bass in the choir music" is the only example of bass.n.03: left out, its gloss parts remain
    assert result["num_queries"] == 5 and result["num_scored"] == 5
    assert result["fine_accuracy"] == 1.0  # the fake embedder shares context words between examples and glosses


def test_definition_contexts_are_held_out_too(embedder):
    text, _ = gloss_context("bank", SENSES[0]["gloss"])
    _, meta = build_sense_vectors(embedder, SENSES[:1], exclude_sentences={text})
    assert meta[0]["num_excluded"] == 1 and meta[0]["source"] == "examples+gloss_text"
    everything = {text, *SENSES[0]["examples"]}
    vectors, meta = build_sense_vectors(
        embedder, SENSES[:1], exclude_sentences=everything, sources=("examples", "gloss_context")
    )
    assert meta[0]["source"] == "word" and meta[0]["num_excluded"] == 3  # nothing left: context-free word vector
    torch.testing.assert_close(vectors[0], embedder.encode_in_context(["bank"], [(0, 4)])[0])


def test_sense_words_homographs_table(embedder, data_dir, tmp_path):
    import shutil

    from datasets import Dataset

    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    shutil.rmtree(copy / "homographs")
    Dataset.from_dict({"word": ["bank"], "lexnames": [["noun.object"]], "synsets": [["bank.n.01"]]}).save_to_disk(
        str(copy / "homographs")
    )
    homographs = VocabIndex.build(embedder, copy, include=("sense",), progress=False)
    assert {e.surface for e in homographs.entries} == {"bank"}
    config = VocabIndexConfig(sense_words="polysemous")
    polysemous = VocabIndex.build(embedder, copy, config, include=("sense",), progress=False)
    assert {e.surface for e in polysemous.entries} == {"bank", "bass"}
    with pytest.raises(ValueError, match="sense_words"):
        VocabIndexConfig(sense_words="all")


def test_build_does_not_write_into_the_data_folder(embedder, data_dir):
    def listing() -> list[str]:
        return sorted(os.path.join(root, f) for root, _, files in os.walk(data_dir) for f in files)

    before = listing()
    VocabIndex.build(embedder, data_dir, progress=False)
    score_senses(embedder, load_from_disk(os.path.join(data_dir, "senses")), ["bank", "bass"])
    assert listing() == before


def test_build_with_a_real_token_embedder(tiny_model, data_dir, tmp_path):
    index = VocabIndex.build(tiny_model, data_dir, progress=False)
    assert index.dim == tiny_model.token_dim and index.fingerprint == tiny_model.fingerprint()
    query = tiny_model.encode_in_context(["We sat on the river bank."], [(20, 24)])[0]
    hits = index.search(query, k=5)
    scores, ids = index.search_ids(query, k=5)
    cosines = index.reconstruct(ids[0]) @ torch.nn.functional.normalize(query, dim=0).numpy()
    assert [h.score for h in hits] == scores[0].tolist() and list(scores[0]) == sorted(scores[0], reverse=True)
    assert cosines == pytest.approx(scores[0], abs=1e-5)  # exact index: the scores are the cosines
    index.save(tmp_path / "vocab_index")
    loaded = VocabIndex.load(tmp_path / "vocab_index", embedder=tiny_model)
    assert loaded.search(query, k=5) == hits


def test_the_index_records_what_it_held_out_and_its_data(embedder, data_dir, tiny_model, tiny_data_dir, tmp_path):
    wic, senses = (load_from_disk(os.path.join(data_dir, *name)) for name in (("eval", "wic"), ("senses",)))
    held_out = held_out_sentences(wic, senses)
    index = VocabIndex.build(embedder, data_dir, progress=False)  # evaluation sentences excluded by default
    assert index.provenance["excluded_sentences"] == len(held_out) == 6  # 4 WiC sentences, 2 more examples
    bass_03 = next(e for e in index.entries if e.synset == "bass.n.03")
    assert bass_03.source == "gloss_context+gloss_text+corpus"  # its only example is held out
    index.save(tmp_path / "index")
    assert VocabIndex.load(tmp_path / "index").provenance == index.provenance
    kept = VocabIndex.build(embedder, data_dir, progress=False, exclude_sentences=())
    assert kept.provenance["excluded_sentences"] == 0
    assert kept.provenance["excluded_sha256"] != index.provenance["excluded_sha256"]
    assert next(e for e in kept.entries if e.synset == "bass.n.03").source == "examples+gloss_context+gloss_text"
    assert index.provenance["data_fingerprint"] is None  # a hand-made folder has no manifest to fingerprint
    built = VocabIndex.build(tiny_model, tiny_data_dir, progress=False, include=("word",), max_words=50)
    assert built.provenance["data_fingerprint"] == data_fingerprint(tiny_data_dir)
    with pytest.raises(ValueError, match="exclude_sentences"):
        VocabIndex.build(embedder, data_dir, progress=False, exclude_sentences="test")
