"""benchmarks/bench_sense_scorers.py: its baseline row is the sense metric itself, and its extra views can move it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from bench_sense_scorers import Views  # noqa: E402
from evaluation.fakes import FakeEmbedder  # noqa: E402

from hf_tokenembed.evaluation import score_senses, sense_queries, sense_rows  # noqa: E402

TABLE = [
    {"word": "bank", "synset": synset, "pos": "n", "lexname": lexname, "gloss": gloss, "examples": examples,
     "spans": [[e.index("bank"), e.index("bank") + 4] for e in examples], "synonyms": [], "hypernym_gloss": ""}
    for synset, lexname, gloss, examples in [
        ("bank.n.01", "noun.object", "sloping land beside water", ["the canoe on the bank", "we sat on the bank"]),
        ("bank.n.02", "noun.group", "a financial institution", ["a check at the bank", "that bank lends"]),
        ("bank.n.03", "noun.possession", "the funds of a gambling house", ["he tried to break the bank"]),
    ]
]  # fmt: skip


class GoldProbe:
    """A stand-in lexname probe that puts all its mass on each query's gold file (queries in `sense_queries` order)."""

    def __init__(self, queries):
        self.classes_ = np.array(sorted({row["lexname"] for row in TABLE}))
        self.gold = [list(self.classes_).index(q["lexname"]) for q in queries]

    def predict_log_proba(self, vectors):
        out = np.full((len(vectors), len(self.classes_)), np.log(1e-6))
        out[np.arange(len(vectors)), self.gold] = 0.0
        return out


def test_baseline_row_is_the_metric_and_the_probe_term_moves_it():
    model = FakeEmbedder()  # hash vectors: a model that knows nothing of senses
    views = Views(model, TABLE, ["bank"], GoldProbe(sense_queries(sense_rows(TABLE, ["bank"]))))
    keys = ("fine_accuracy", "coarse_accuracy", "num_scored", "num_coarse")
    metric = score_senses(model, TABLE, ["bank"])
    assert {k: views.score(0.0, 0.0)[k] for k in keys} == pytest.approx({k: metric[k] for k in keys})
    assert metric["fine_accuracy"] < 1.0
    # every sense of "bank" here has its own file: a probe handed the gold file picks the gold sense
    assert views.score(0.0, 10.0)["fine_accuracy"] == views.score(0.0, 10.0)["coarse_accuracy"] == 1.0
    assert views.probe_accuracy == 1.0
