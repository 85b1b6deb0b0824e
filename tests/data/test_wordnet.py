from __future__ import annotations

import nltk
import pytest
from data_helpers import requires_wordnet

from hf_tokenembed.data import wordnet as wordnet_module
from hf_tokenembed.data.wordnet import LEXNAMES_FILE, WORDNET_FILES, assemble_wordnet, find_form, find_wordnet


def _fake_debian(folder):
    folder.mkdir()
    for name in WORDNET_FILES + ("index.sense",):
        (folder / name).write_text(f"fake {name}\n")
    return folder


def test_packaged_lexnames_is_the_45_line_list():
    lines = [line.split() for line in LEXNAMES_FILE.read_text().splitlines()]
    assert len(lines) == 45
    assert lines[0] == ["00", "adj.all", "3"] and lines[-1] == ["44", "adj.ppl", "3"]
    assert [int(line[0]) for line in lines] == list(range(45))
    assert ["03", "noun.Tops", "1"] in lines and ["29", "verb.body", "2"] in lines


def test_assemble_from_debian_layout(tmp_path):
    debian = _fake_debian(tmp_path / "usr_share_wordnet")
    target = assemble_wordnet(debian, tmp_path / "cache")
    assert target == tmp_path / "cache" / "corpora" / "wordnet"
    assert (target / "lexnames").read_text() == LEXNAMES_FILE.read_text()
    for name in WORDNET_FILES + ("index.sense",):
        assert (target / name).read_text() == f"fake {name}\n"
        assert not (target / name).is_symlink()  # NLTK >= 3.9 refuses links that leave its root
    mtime = (target / "lexnames").stat().st_mtime_ns
    assert assemble_wordnet(debian, tmp_path / "cache") == target  # reused, not rebuilt
    assert (target / "lexnames").stat().st_mtime_ns == mtime
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".wordnet-")]  # no temp folders left
    # a user path holding the Debian layout is assembled the same way
    assert find_wordnet(debian, cache_root=tmp_path / "cache2") == tmp_path / "cache2" / "corpora" / "wordnet"


def test_missing_database_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="`path`.*apt-get install wordnet-base wordnet-sense-index"):
        find_wordnet(tmp_path)
    with pytest.raises(FileNotFoundError, match="`source`"):
        assemble_wordnet(tmp_path, tmp_path / "cache")
    monkeypatch.setattr(wordnet_module, "DEBIAN_WORDNET_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "no_nltk_data")])
    monkeypatch.delenv("NLTK_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"nltk.download\(.wordnet.\)"):
        find_wordnet(cache_root=tmp_path / "cache")


def test_find_form():
    assert find_form("He sat on the Bank of the river", "bank") == (14, 18)
    assert find_form("the embankment", "bank") is None
    assert find_form("a red  herring again", "red_herring") == (2, 14)


@requires_wordnet
def test_reader_on_debian_layout(wn):
    assert wn.reader.get_version() == "3.0"
    assert ("depository financial institution", "n") in wn.synonyms("bank")
    assert ("car", "n") in wn.synonyms("automobile")
    assert "slope.n.01" in wn.hypernyms("bank")
    senses = {s.synset: s for s in wn.senses("bank")}
    river = senses["bank.n.01"]
    assert river.pos == "n" and river.lexname == "noun.object" and "sloping land" in river.gloss
    assert all(ex[a:b].lower() == "bank" for ex, (a, b) in zip(river.examples, river.spans)) and river.examples
    assert senses["depository_financial_institution.n.01"].lexname == "noun.group"
    # the synset's other lemmas (never the word itself) and its hypernym's gloss, for the sense vectors
    money = senses["depository_financial_institution.n.01"]
    assert "depository financial institution" in money.synonyms and "bank" not in money.synonyms
    assert river.hypernym_gloss == wn.reader.synset("slope.n.01").definition()
    assert [s.name() for s in wn.synsets("red herring")][0] == "red_herring.n.01"
    assert "New York" in wn.multiword_lemmas()


@requires_wordnet
def test_synonym_pairs(wn):
    pairs = wn.synonym_pairs(exclude={"Automobile"})
    assert ("car", "auto") in pairs and ("car", "motorcar") in pairs
    assert not any("automobile" in (a.lower(), b.lower()) for a, b in pairs)
    assert ("red herring", "smoked herring") in pairs
    unordered = [frozenset((a, b)) for a, b in pairs]
    assert len(unordered) == len(set(unordered))
    assert all(a.lower() != b.lower() for a, b in pairs)


@requires_wordnet
def test_homographs_and_closeness(wn):
    assert wn.is_homograph("bank")
    assert not wn.is_homograph("aardvark")
    rows = {row["word"]: row for row in wn.homographs(["bank", "aardvark", "bass"])}
    assert set(rows) == {"bank", "bass"}
    assert {"noun.object", "noun.group"} <= set(rows["bank"]["lexnames"])
    assert "bank.n.01" in rows["bank"]["synsets"]
    s = wn.reader.synset
    assert wn.too_close(s("dog.n.01"), s("canine.n.02"))  # direct hypernym
    assert wn.too_close(s("dog.n.01"), s("wolf.n.01"))  # siblings under canine
    assert not wn.too_close(s("bank.n.01"), s("depository_financial_institution.n.01"))
