"""Stage-1 training examples from a data folder: word types, their real positives, and sentences to reorder.

Real positives replace the original recipe's `z_pos = embeds`: a word type is pulled towards its occurrences in
corpus sentences (word in context), towards its inflections and casing variants, and towards WordNet synonyms as
partial positives. WordNet synonym pairs of words outside the evaluation sets join as extra types, so the synonym
objective has data (the evaluation sets hold out nearly every synonym pair inside the corpus vocabulary). Only the
training split is used, and no held-out evaluation word is ever part of a synonym pair.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from hf_tokenembed.data.vocab import WORD_RE

logger = logging.getLogger(__name__)

__all__ = ["Stage1Examples", "build_stage1_examples"]

_MIN_SYNONYM_ZIPF = 1.5


@dataclass
class Stage1Examples:
    """Everything one stage-1 run trains on.

    Args:
        types: Word types and multi-word expressions: the entries the head learns to place; the first
            `num_words` are the corpus vocabulary's words, most frequent first.
        groups: `(len(types),)` variant-group id ("bank", "Bank", "banks" share one).
        partners: Per type, ids of its variants and WordNet synonyms (its soft positives).
        synonyms: Per type, the subset of `partners` that are synonyms rather than variants.
        synonym_pairs: `(type id, type id)` rows of WordNet synonyms, neither one an evaluation word.
        phrases, phrase_glosses: WordNet multi-word lemmas and the gloss of one of their senses, pair by pair; no
            phrase or synset of the MWE↔gloss evaluation sets.
        contexts: Corpus sentences holding occurrences.
        occurrences: `(context id, start, end, type id)` rows: a type's span in a sentence.
        sentences: Sentences for the order-aware loss; `perturbed[i]` are word-order copies of `sentences[i]`.
        glosses: Sense entries as contexts: ``"bank: sloping land ..."`` (`data.gloss_context`), whose word
            span is `gloss_spans[i]`; `sense_siblings[i]` are the other senses of the same word.
        sense_examples: WordNet example sentences; `sense_uses` rows are `(example id, start, end, sense id)`.
        sense_groups: `(len(glosses),)` id of each sense's (word, part of speech): the senses a use is told from.
        gloss_texts, sense_synonyms, hypernym_glosses: The rest of each sense's gloss tower (the
            `index.SENSE_SOURCES` other than examples: the gloss as a text, the synset's other lemmas, the word in
            its hypernym's gloss — ``"bank: ..."``, so its word span is `gloss_spans[i]` too — ``""`` for none);
            filled only for the gloss-matching objective.
    """

    types: list[str]
    groups: np.ndarray
    partners: list[list[int]]
    synonyms: list[set[int]]
    contexts: list[str]
    occurrences: np.ndarray
    num_words: int = 0
    phrases: list[str] = field(default_factory=list)
    phrase_glosses: list[str] = field(default_factory=list)
    synonym_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    sentences: list[str] = field(default_factory=list)
    perturbed: list[list[str]] = field(default_factory=list)
    glosses: list[str] = field(default_factory=list)
    gloss_spans: list[tuple[int, int]] = field(default_factory=list)
    sense_siblings: list[list[int]] = field(default_factory=list)
    sense_examples: list[str] = field(default_factory=list)
    sense_uses: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int64))
    sense_groups: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    gloss_texts: list[str] = field(default_factory=list)
    sense_synonyms: list[list[str]] = field(default_factory=list)
    hypernym_glosses: list[str] = field(default_factory=list)

    def texts_to_cache(self) -> list[str]:
        """Every distinct text whose frozen features the trainer needs, in a stable order."""
        copies = (c for perturbed in self.perturbed for c in perturbed)
        towers = [*self.gloss_texts, *(s for synonyms in self.sense_synonyms for s in synonyms)]
        towers += [h for h in self.hypernym_glosses if h]
        texts = [*self.types, *self.contexts, *self.sentences, *copies, *self.glosses, *self.sense_examples, *towers]
        texts += [*self.phrases, *self.phrase_glosses]
        return list(dict.fromkeys(texts))


def _variant_key(word: str, morphy) -> str:
    lower = word.lower()
    if " " in lower:
        return lower
    return morphy(lower, "n") or morphy(lower, "v") or lower


def build_stage1_examples(
    data_dir: str | os.PathLike,
    *,
    max_contexts: int = 8000,
    occurrences_per_context: int = 3,
    uniform_occurrences: int = 0,
    max_words: int | None = None,
    order_sentences: int = 1000,
    perturbations: int = 5,
    swaps: int = 1,
    max_sense_words: int | None = None,
    gloss_towers: bool = False,
    max_synonym_pairs: int = 0,
    max_phrase_glosses: int = 0,
    seed: int = 0,
    progress: bool = True,
) -> Stage1Examples:
    """Read `data_dir` (from `hf-tokenembed data build`) and assemble the stage-1 examples.

    Args:
        data_dir: The data folder.
        max_contexts: Training-split sentences sampled as contexts.
        occurrences_per_context: Occurrences kept per context sentence: its rarest words, except that
            `uniform_occurrences` of them are drawn at random from the sentence's other words, so frequent words
            (the ones most occurrences in text are of) are trained in context too.
        max_words: Keep only the `max_words` most frequent vocabulary words (None: all).
        order_sentences: Sentences (>= 5 words) for the order-aware loss.
        perturbations: Word-order copies per order sentence.
        swaps: How many of those copies are two-word swaps (the rest are shuffles).
        max_sense_words: Sample this many words with WordNet example uses for the sense objective (None: all).
        gloss_towers: Also gather each sense's gloss text, synonyms and hypernym gloss (the gloss-matching
            objective's gloss tower).
        max_synonym_pairs: Sample this many WordNet synonym pairs of everyday words (lowercase, not rare) that are
            in no evaluation set (0: none); their words not in the vocabulary become extra types.
        seed: Sampling seed.
        progress: Show progress bars.
    """
    from hf_tokenembed.data import load_data, load_wordnet, perturb_word_order

    for name, value in (("max_contexts", max_contexts), ("occurrences_per_context", occurrences_per_context)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive int, got {value!r}")
    if not isinstance(uniform_occurrences, int) or not 0 <= uniform_occurrences <= occurrences_per_context:
        raise ValueError(
            f"`uniform_occurrences` must be an int in [0, occurrences_per_context], got {uniform_occurrences!r}"
        )
    for name, value in (("max_synonym_pairs", max_synonym_pairs), ("max_phrase_glosses", max_phrase_glosses)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"`{name}` must be an int >= 0, got {value!r}")
    data = load_data(data_dir)
    rng = random.Random(seed)
    vocab_words, vocab_counts = _column(data["vocab"], "word"), _column(data["vocab"], "count")
    words = vocab_words[: max_words or None]
    counts = dict(zip(vocab_words, vocab_counts))
    phrases = [p for p, c in zip(_column(data["mwes"], "phrase"), _column(data["mwes"], "count")) if c > 0]
    types = words + [p for p in phrases if p not in counts]
    type_id = {t: i for i, t in enumerate(types)}
    lower_id = {}
    for i, t in enumerate(types):
        lower_id.setdefault(t.lower(), i)
    corpus_lower_id = dict(lower_id)  # occurrences are found for corpus types only

    wn = load_wordnet()
    held_out = {
        w.lower() for split in data["eval/synonyms"].values() for c in ("word", "synonym") for w in _column(split, c)
    }
    synonym_pairs = []
    if max_synonym_pairs:
        pairs = [pair for pair in wn.synonym_pairs(exclude=held_out) if all(map(_everyday_lemma, pair))]
        for pair in random.Random(f"{seed}:synonyms").sample(pairs, min(max_synonym_pairs, len(pairs))):
            if any(types[lower_id[w]] != w for w in pair if w in lower_id):
                continue  # the corpus knows the word only capitalised ("silva" as the name "Silva"): not this lemma
            for word in pair:
                if word.lower() not in lower_id:
                    lower_id[word.lower()] = len(types)
                    types.append(word)
            a, b = (lower_id[word.lower()] for word in pair)
            if a != b:
                synonym_pairs.append((a, b))
    morphy = wn.reader.morphy
    keys = [_variant_key(t, morphy) for t in types]
    group_of = {k: g for g, k in enumerate(dict.fromkeys(keys))}
    groups = np.array([group_of[k] for k in keys], dtype=np.int64)
    by_group: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(int(g), []).append(i)
    partners, synonyms = [], []
    for i, t in enumerate(tqdm(types, desc="Variants and synonyms", disable=not progress)):
        variant_ids = [j for j in by_group[int(groups[i])] if j != i]
        synonym_ids = set()
        if t.lower() not in held_out:
            for lemma, _pos in wn.synonyms(t):
                j = lower_id.get(lemma.lower())
                if j is not None and j != i and lemma.lower() not in held_out:
                    synonym_ids.add(j)
        partners.append(variant_ids + sorted(synonym_ids - set(variant_ids)))
        synonyms.append(synonym_ids)

    train = _column(data["corpus"]["train"], "text")
    rng.shuffle(train)
    contexts, occurrences = [], []
    phrase_ids = {p.lower(): type_id[p] for p in phrases if p in type_id}
    for sentence in tqdm(train, desc="Occurrences", disable=not progress):
        if len(contexts) >= max_contexts:
            break
        found = _occurrences(sentence, type_id, corpus_lower_id, phrase_ids)
        if not found:
            continue
        found.sort(key=lambda o: counts.get(types[o[2]], 0))
        rarest = occurrences_per_context - uniform_occurrences
        others = found[rarest:]
        kept = found[:rarest] + rng.sample(others, min(uniform_occurrences, len(others)))
        contexts.append(sentence)
        occurrences += [(len(contexts) - 1, *o) for o in kept]

    long_enough = [s for s in train[len(contexts) :] if len(s.split()) >= 5][:order_sentences]
    perturbed = [perturb_word_order(s, perturbations, rng, swaps=swaps) for s in long_enough]
    senses = _sense_examples(data, max_sense_words, rng, gloss_towers)
    phrase_glosses = _phrase_glosses(wn, data["eval/mwe_gloss"], max_phrase_glosses, f"{seed}:phrase_glosses")
    logger.info(
        "Stage-1 examples: %d types, %d synonym pairs, %d contexts, %d occurrences, %d order sentences, %d senses, "
        "%d sense uses, %d phrase glosses",
        len(types), len(synonym_pairs), len(contexts), len(occurrences), len(long_enough), len(senses["glosses"]),
        len(senses["sense_uses"]), len(phrase_glosses),
    )  # fmt: skip
    return Stage1Examples(
        types=types,
        groups=groups,
        partners=partners,
        synonyms=synonyms,
        contexts=contexts,
        occurrences=np.array(occurrences, dtype=np.int64).reshape(-1, 4),
        num_words=len(words),
        synonym_pairs=np.array(synonym_pairs, dtype=np.int64).reshape(-1, 2),
        sentences=long_enough,
        perturbed=perturbed,
        phrases=[phrase for phrase, _ in phrase_glosses],
        phrase_glosses=[gloss for _, gloss in phrase_glosses],
        **senses,
    )


def _phrase_glosses(wn, held_out, limit: int, seed: str) -> list[tuple[str, str]]:
    """Up to `limit` (WordNet multi-word lemma, gloss of one of its senses) pairs, drawn at random; none of the
    `held_out` MWE↔gloss evaluation sets' phrases (in any casing) or synsets (their glosses, under another name)."""
    if not limit:
        return []
    phrases = {p.lower() for split in held_out.values() for p in _column(split, "phrase")}
    synsets = {s for split in held_out.values() for s in _column(split, "synset")}
    pairs = [
        (phrase, synset.definition())
        for phrase in wn.multiword_lemmas()
        if phrase.lower() not in phrases
        for synset in wn.synsets(phrase)
        if synset.name() not in synsets
    ]
    return random.Random(seed).sample(pairs, min(limit, len(pairs)))


def _sense_examples(data: dict, max_words: int | None, rng: random.Random, towers: bool) -> dict:
    """WordNet senses of the words that have an example use, minus every WiC evaluation lemma (in any casing).

    Each sense becomes its gloss context, and each example use points at its sense: the sense objective makes an
    example's in-context vector retrieve its own gloss among the word's other senses. With `towers`, each sense
    also brings the rest of its gloss tower (gloss text, synonyms, hypernym gloss).
    """
    from hf_tokenembed.data import gloss_context, lemma_key

    held_out = {lemma_key(lemma) for split in data["eval/wic"].values() for lemma in _column(split, "lemma")}
    table = data["senses"]
    words, glosses, examples, spans, pos = (_column(table, c) for c in ("word", "gloss", "examples", "spans", "pos"))
    with_uses = sorted({w for w, e in zip(words, examples) if e and len(w) > 1 and lemma_key(w) not in held_out})
    if max_words is not None:
        with_uses = rng.sample(with_uses, min(max_words, len(with_uses)))
    with_uses = set(with_uses)
    kept = [i for i, w in enumerate(words) if w in with_uses]
    sense_id = {i: n for n, i in enumerate(kept)}
    by_word: dict[str, list[int]] = {}
    for i in kept:
        by_word.setdefault(words[i], []).append(sense_id[i])
    contexts = [gloss_context(words[i], glosses[i]) for i in kept]
    sense_examples, uses = [], []
    for i in kept:
        for example, (start, end) in zip(examples[i], spans[i]):
            sense_examples.append(example)
            uses.append((len(sense_examples) - 1, start, end, sense_id[i]))
    group_of = {key: g for g, key in enumerate(dict.fromkeys((words[i], pos[i]) for i in kept))}
    senses = {
        "glosses": [text for text, _ in contexts],
        "gloss_spans": [span for _, span in contexts],
        "sense_siblings": [[j for j in by_word[words[i]] if j != sense_id[i]] for i in kept],
        "sense_examples": sense_examples,
        "sense_uses": np.array(uses, dtype=np.int64).reshape(-1, 4),
        "sense_groups": np.array([group_of[words[i], pos[i]] for i in kept], dtype=np.int64),
    }
    if towers:
        synonyms, hypernyms = _column(table, "synonyms"), _column(table, "hypernym_gloss")
        senses |= {
            "gloss_texts": [glosses[i] for i in kept],
            "sense_synonyms": [list(synonyms[i] or []) for i in kept],
            "hypernym_glosses": [gloss_context(words[i], hypernyms[i])[0] if hypernyms[i] else "" for i in kept],
        }
    return senses


def _everyday_lemma(lemma: str) -> bool:
    """Lowercase, digit-free and not rare (wordfreq Zipf >= 1.5): no names, taxa, brands or codes."""
    from wordfreq import zipf_frequency

    return lemma.islower() and not any(c.isdigit() for c in lemma) and zipf_frequency(lemma, "en") >= _MIN_SYNONYM_ZIPF


def _column(table, name: str) -> list:
    """A column as a Python list, straight from Arrow (row-by-row iteration of a Dataset is slow)."""
    return table.data.column(name).to_pylist()


def _occurrences(
    sentence: str, type_id: dict[str, int], lower_id: dict[str, int], phrase_ids: dict[str, int]
) -> list[tuple[int, int, int]]:
    """`(start, end, type id)` of vocabulary words (>1 letter) and known phrases (2-3 words) in `sentence`."""
    tokens = [(m.start(), m.end(), m.group()) for m in WORD_RE.finditer(sentence)]
    found = []
    for start, end, token in tokens:
        i = type_id.get(token, lower_id.get(token.lower()))
        if i is not None and len(token) > 1:
            found.append((start, end, i))
    for n in (2, 3):
        for k in range(len(tokens) - n + 1):
            span = tokens[k : k + n]
            i = phrase_ids.get(" ".join(t[2] for t in span).lower())
            if i is not None and sentence[span[0][0] : span[-1][1]].count(" ") == n - 1:
                found.append((span[0][0], span[-1][1], i))
    return found
