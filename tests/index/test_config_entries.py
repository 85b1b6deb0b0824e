from __future__ import annotations

import pytest

from hf_tokenembed.index import IndexEntry, VocabIndexConfig, load_entries, save_entries, sense_label, short_gloss


def test_config_defaults_and_auto_resolution():
    config = VocabIndexConfig()
    assert config.resolve_index_type(1_000) == "exact"
    assert config.resolve_index_type(200_000) == "exact"
    assert config.resolve_index_type(200_001) == "hnsw"
    assert config.resolve_index_type(10_000_000) == "ivfpq"
    assert VocabIndexConfig(index_type="hnsw").resolve_index_type(10) == "hnsw"
    assert VocabIndexConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"index_type": "lsh"}, ValueError, "index_type"),
        ({"hnsw_m": 1}, ValueError, "hnsw_m"),
        ({"hnsw_ef_search": 0}, ValueError, "hnsw_ef_search"),
        ({"hnsw_ef_search": 8.0}, TypeError, "hnsw_ef_search"),
        ({"ivf_nprobe": True}, TypeError, "ivf_nprobe"),
        ({"pq_nbits": 20}, ValueError, "pq_nbits"),
        ({"use_gpu": "yes"}, TypeError, "use_gpu"),
    ],
)
def test_config_validation_names_the_field(kwargs, error, name):
    with pytest.raises(error, match=name):
        VocabIndexConfig(**kwargs)


def test_config_pq_and_nlist():
    config = VocabIndexConfig()
    assert config.resolve_pq_m(384) == 48
    assert config.resolve_pq_m(16) == 2
    assert config.resolve_nlist(100) == 2
    with pytest.raises(ValueError, match="pq_m"):
        VocabIndexConfig(pq_m=5).resolve_pq_m(16)


def test_sense_labels_from_gloss():
    assert short_gloss("sloping land (especially the slope beside a body of water)") == "sloping land"
    gloss = "a financial institution that accepts deposits and channels the money into lending activities"
    assert sense_label("bank", gloss) == "bank (financial institution)"
    assert sense_label("bank", "", "bank.n.09") == "bank (bank.n.09)"
    entry = IndexEntry("bank", "sense", 3, "bank.n.01", "sloping land (especially ...)")
    assert entry.label == "bank (sloping land)"
    assert entry.pos == "n"
    assert IndexEntry("red herring", "mwe").label == "red herring"


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"surface": ""}, ValueError, "surface"),
        ({"surface": "x", "kind": "phrase"}, ValueError, "kind"),
        ({"surface": "x", "kind": "sense"}, ValueError, "synset"),
        ({"surface": "x", "frequency": 1.5}, TypeError, "frequency"),
    ],
)
def test_entry_validation(kwargs, error, name):
    with pytest.raises(error, match=name):
        IndexEntry(**kwargs)


def test_entries_round_trip(tmp_path):
    entries = [
        IndexEntry("bank", "word", 10),
        IndexEntry("red herring", "mwe", 2, source="mwe"),
        IndexEntry("bank", "sense", 10, "bank.n.01", "sloping land", source="examples+gloss"),
        IndexEntry("café", "word"),
    ]
    path = tmp_path / "entries.jsonl"
    assert save_entries(entries, path) == 4
    assert load_entries(path) == entries
    path.write_text('{"surface": ""}\n')
    with pytest.raises(ValueError, match="entries.jsonl:1"):
        load_entries(path)
