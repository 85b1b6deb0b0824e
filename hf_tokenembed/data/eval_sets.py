"""Evaluation sets with fixed dev/test splits: synonym pairs, WiC-style word-in-context pairs, MWE <-> gloss pairs and
held-out corpus sentences for reconstruction.

Lemma-based sets are split by a hash of the lemma (:func:`~hf_tokenembed.data.corpora.hash_split`), so the lemma
sets of dev and test never overlap and do not move when data is added.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable

from .corpora import hash_split
from .wordnet import POS_NAMES, WordNet, find_form, lemma_key

logger = logging.getLogger(__name__)

__all__ = [
    "EVAL_SETS",
    "EVAL_SPLITS",
    "build_mwe_gloss_pairs",
    "build_reconstruction_set",
    "build_synonym_pairs",
    "build_wic_pairs",
    "held_out_sentences",
    "lemma_split",
    "wic_sentences",
]

EVAL_SETS = ("synonyms", "wic", "mwe_gloss", "reconstruction")
EVAL_SPLITS = ("dev", "test")


def lemma_split(lemma: str) -> str:
    """``"dev"`` or ``"test"`` (half each) from a hash of the lowercased lemma."""
    return hash_split(lemma.lower(), dev_fraction=0.5, test_fraction=0.5)


def _dataset_dict(rows: list[dict], features, key: str):
    import datasets

    out = {}
    for split in EVAL_SPLITS:
        part = [row for row in rows if lemma_split(row[key]) == split]
        out[split] = datasets.Dataset.from_dict(
            {name: [row[name] for row in part] for name in features}, features=features
        )
    return datasets.DatasetDict(out)


def build_synonym_pairs(
    wn: WordNet, words: Iterable[str], *, known: Iterable[str] | None = None, max_per_word: int = 5
):
    """``(word, synonym, pos)`` pairs from shared synsets, as a dev/test ``DatasetDict`` split by ``word``.

    Only synonyms in ``known`` (case-insensitive; e.g. the vocabulary plus the MWEs) are kept when it is given;
    each unordered pair appears once.
    """
    import datasets

    known_set = {k.lower() for k in known} if known is not None else None
    seen: set[tuple[str, str, str]] = set()
    rows = []
    for word in words:
        kept = 0
        for synonym, pos in wn.synonyms(word):
            if kept >= max_per_word:
                break
            if known_set is not None and synonym.lower() not in known_set:
                continue
            pair = tuple(sorted((word.lower(), synonym.lower()))) + (pos,)
            if pair in seen:
                continue
            seen.add(pair)
            rows.append({"word": word, "synonym": synonym, "pos": pos})
            kept += 1
    features = datasets.Features({name: datasets.Value("string") for name in ("word", "synonym", "pos")})
    return _dataset_dict(rows, features, "word")


def _wic_features():
    import datasets

    text, index = datasets.Value("string"), datasets.Value("int32")
    return datasets.Features(
        {
            "lemma": text, "pos": text,
            "sentence1": text, "start1": index, "end1": index,
            "sentence2": text, "start2": index, "end2": index,
            "synset1": text, "synset2": text, "label": datasets.Value("int8"),
        }
    )  # fmt: skip


def build_wic_pairs(
    wn: WordNet,
    lemmas: Iterable[str],
    *,
    use_glosses: bool = True,
    max_pairs_per_lemma: int = 10,
    seed: int = 0,
    progress: bool = False,
):
    """Word-in-context pairs in the style of WiC (Pilehvar & Camacho-Collados, 2019), as a dev/test ``DatasetDict``.

    For each lemma and part of speech with two or more senses, contexts are WordNet examples that contain the
    lemma form (char spans ``[start, end)``) and, with ``use_glosses``, one definition context per sense,
    ``"<lemma>: <gloss>"`` (span = the leading lemma). A pair uses one example and a second example or a definition
    (never two definitions); label 1 when both contexts belong to the same synset. Like WiC, negative pairs
    whose synsets are too close to tell apart (siblings, direct hypernym/hyponym, similar adjectives) are left out.
    Labels are balanced per lemma and part of speech (at most ``max_pairs_per_lemma`` of each); split by lemma.
    """
    import datasets  # noqa: F401  (features)
    from tqdm.auto import tqdm

    rows = []
    for lemma in tqdm(sorted({w.lower() for w in lemmas}), desc="wic pairs", unit="lemma", disable=not progress):
        rng = random.Random(f"{seed}:{lemma}")
        by_pos: dict[str, list] = {}
        for synset in wn.synsets(lemma):
            by_pos.setdefault(POS_NAMES[synset.pos()], []).append(synset)
        for pos, synsets in by_pos.items():
            if len(synsets) < 2:
                continue
            examples, definitions = {}, {}
            for synset in synsets:
                spans = [(ex, find_form(ex, lemma)) for ex in synset.examples()]
                examples[synset] = [(ex, span) for ex, span in spans if span is not None]
                if use_glosses:
                    definitions[synset] = [(f"{lemma}: {synset.definition()}", (0, len(lemma)))]
            positives, negatives = [], []
            for i, s1 in enumerate(synsets):
                for j, ctx1 in enumerate(examples[s1]):
                    positives.extend((s1, ctx1, s1, ctx2) for ctx2 in examples[s1][j + 1 :] + definitions.get(s1, []))
                    for k, s2 in enumerate(synsets):
                        if k == i or wn.too_close(s1, s2):
                            continue
                        # each unordered example-example pair once; example-definition pairs both ways
                        others = (examples[s2] if k > i else []) + definitions.get(s2, [])
                        negatives.extend((s1, ctx1, s2, ctx2) for ctx2 in others)
            n = min(len(positives), len(negatives), max_pairs_per_lemma)
            if n == 0:
                continue
            for label, chosen in ((1, rng.sample(positives, n)), (0, rng.sample(negatives, n))):
                for s1, (sent1, span1), s2, (sent2, span2) in chosen:
                    rows.append({
                        "lemma": lemma, "pos": pos,
                        "sentence1": sent1, "start1": span1[0], "end1": span1[1],
                        "sentence2": sent2, "start2": span2[0], "end2": span2[1],
                        "synset1": s1.name(), "synset2": s2.name(), "label": label,
                    })  # fmt: skip
    logger.info("WiC pairs: %d", len(rows))
    return _dataset_dict(rows, _wic_features(), "lemma")


def build_mwe_gloss_pairs(wn: WordNet, phrases: Iterable[str]):
    """``(phrase, gloss, synset)`` rows for every WordNet sense of each multi-word phrase; split by phrase."""
    import datasets

    rows = []
    for phrase in phrases:
        if len(phrase.split()) < 2:
            continue
        rows.extend({"phrase": phrase, "gloss": s.definition(), "synset": s.name()} for s in wn.synsets(phrase))
    features = datasets.Features({name: datasets.Value("string") for name in ("phrase", "gloss", "synset")})
    return _dataset_dict(rows, features, "phrase")


def wic_sentences(wic, splits: Iterable[str] = EVAL_SPLITS) -> set[str]:
    """All ``sentence1``/``sentence2`` of the given splits of a WiC ``DatasetDict`` (or of one split)."""
    parts = [wic[s] for s in splits] if hasattr(wic, "keys") else [wic]
    return {s for part in parts for col in ("sentence1", "sentence2") for s in part[col]}


def held_out_sentences(wic, senses, splits: Iterable[str] = EVAL_SPLITS) -> set[str]:
    """What sense evaluations query with: the WiC sentences of ``splits`` and every WordNet example of their lemmas."""
    parts = [wic[s] for s in splits] if hasattr(wic, "keys") else [wic]
    lemmas = {lemma_key(lemma) for part in parts for lemma in part["lemma"]}
    examples = {
        text
        for word, texts in zip(senses["word"], senses["examples"])
        if lemma_key(word) in lemmas
        for text in texts or ()
    }
    return wic_sentences(wic, splits) | examples


def build_reconstruction_set(corpus, *, max_words: int = 39, max_size: int | None = None):
    """Held-out corpus sentences (corpus ``dev``/``test`` splits, at most ``max_words`` words) for reconstruction."""
    import datasets

    out = {}
    for split in EVAL_SPLITS:
        texts = [t for t in corpus[split]["text"] if len(t.split()) <= max_words]
        out[split] = datasets.Dataset.from_dict(
            {"text": texts[:max_size] if max_size else texts},
            features=datasets.Features({"text": datasets.Value("string")}),
        )
    return datasets.DatasetDict(out)
