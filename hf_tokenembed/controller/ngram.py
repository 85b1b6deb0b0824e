"""An n-gram language model over reconstruction-vocabulary entry ids, built on NLTK's `nltk.lm`.

The controller writes a sentence as a sequence of entry ids; this model scores such sequences, as a word-order
baseline, as an optional extra term of the beam search's score and as a fluency measure (per-token perplexity).

Smoothing is `nltk.lm.WittenBellInterpolated`. `KneserNeyInterpolated` scans every higher-order n-gram for its
continuation counts on each query: on ~760k training tokens, order 3, it costs ~120 ms per `logscore` query, which
no search can afford; Witten-Bell costs ~0.09 ms per query there and fits in ~16 s.

Two departures from NLTK's defaults keep the model a normalised distribution with finite scores:

- Counts are the n-grams that predict each token of ``<s>``-padded text, the end ``</s>`` included once (the
  layout of ARPA models), instead of `padded_everygram_pipeline`'s every-grams, which count ``<s>`` as a unigram
  and ``</s>`` n-1 times per sentence: on a toy corpus its probabilities of all words plus ``</s>`` after a
  context summed to 0.82-0.94.
- The unigram level is interpolated, Witten-Bell style, with the uniform distribution over the vocabulary (all
  seen ids, ``</s>`` and NLTK's ``<UNK>``); NLTK's unigram score is the bare relative frequency, which gives an
  unseen id (``<UNK>``) probability 0, a log-probability of -inf.

So after any context, the probabilities of all seen ids, `NgramLanguageModel.END` and one unseen id sum to 1 (each
unseen id gets the whole ``<UNK>`` mass). Ids map to NLTK tokens as ``str(id)``; scores are natural logs.

The saved folder holds ``ngram_lm.json`` (format version, order, checksum) and ``ngrams.safetensors`` (per order
``k``: ``ngrams.k``, the n-grams as ids with ``<s>`` = -2 and ``</s>`` = -1, and ``counts.k``); it is written
atomically and verified on load, and loading rebuilds NLTK's counts exactly, so scores are bit-identical.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from nltk.lm import NgramCounter, Vocabulary, WittenBellInterpolated
from nltk.lm.models import InterpolatedLanguageModel
from nltk.lm.smoothing import WittenBell

from hf_tokenembed.atomic import check_sha256, sha256_file, written_dir

__all__ = ["NgramLanguageModel"]

FORMAT_VERSION = 1
_META = "ngram_lm.json"
_ARRAYS = "ngrams.safetensors"
_BOS, _EOS = "<s>", "</s>"  # NLTK's padding symbols
_BOS_ID = -2  # how <s> is stored in the arrays (</s> is stored as NgramLanguageModel.END)
_LN2 = math.log(2.0)


class _WittenBellUniform(WittenBell):
    """NLTK's Witten-Bell smoothing whose unigram level backs off to the uniform distribution over the vocabulary
    less ``<s>`` (which is never predicted), so every word, ``<UNK>`` included, has a non-zero probability; each
    context's back-off weight is memoised (NLTK recounts the context's continuations on every query)."""

    def __init__(self, vocabulary: Vocabulary, counter: NgramCounter, **kwargs: Any):
        super().__init__(vocabulary, counter, **kwargs)
        self._gammas: dict[tuple[str, ...], float] = {}  # only contexts with counts get here: bounded by the model

    def _gamma(self, context: tuple[str, ...]) -> float:
        gamma = self._gammas.get(context)
        if gamma is None:
            gamma = self._gammas[context] = super()._gamma(context)
        return gamma

    def unigram_score(self, word: str) -> float:
        unigrams = self.counts.unigrams
        types = unigrams.B()
        return (unigrams[word] + types / (len(self.vocab) - 1)) / (unigrams.N() + types)


class _WittenBellModel(WittenBellInterpolated):
    """`WittenBellInterpolated` with `_WittenBellUniform` smoothing."""

    def __init__(self, order: int, **kwargs: Any):
        InterpolatedLanguageModel.__init__(self, _WittenBellUniform, order, **kwargs)


def _check_order(order: Any) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise TypeError(f"`order` must be an int, got {type(order).__name__}")
    if order < 1:
        raise ValueError(f"`order` must be >= 1, got {order}")
    return int(order)


def _narrowest(array: np.ndarray) -> np.ndarray:
    """`array` as contiguous int32 when its values fit, else int64 (halves the saved file)."""
    fits = array.size == 0 or (int(array.min()) >= -(2**31) and int(array.max()) < 2**31)
    return np.ascontiguousarray(array, dtype=np.int32 if fits else np.int64)


def _as_ids(values: Iterable[Any], name: str, allow_end: bool = False) -> tuple[int, ...]:
    """`values` as a tuple of ints (Python, NumPy or 0-d integer tensor ids), else a `TypeError` / `ValueError`
    naming `name`."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"`{name}` must be a sequence of int ids, got {type(values).__name__}")
    try:
        items = tuple(values)
    except TypeError as err:
        raise TypeError(f"`{name}` must be a sequence of int ids, got {type(values).__name__}") from err
    ids = []
    for value in items:
        if isinstance(value, bool):
            raise TypeError(f"`{name}` holds a bool ({value!r}), not an int id")
        try:
            ids.append(operator.index(value))
        except TypeError as err:
            raise TypeError(f"`{name}` holds {value!r} ({type(value).__name__}), not an int id") from err
    for value in ids:
        if value < 0 and not (allow_end and value == NgramLanguageModel.END):
            allowed = f" (or NgramLanguageModel.END = {NgramLanguageModel.END})" if allow_end else ""
            raise ValueError(f"`{name}` holds {value}: ids must be >= 0{allowed}")
    return tuple(ids)


class NgramLanguageModel:
    """Witten-Bell interpolated n-gram LM over entry ids (`nltk.lm`), with a bounded cache of (context, id) scores.

    Build it with `fit` (or `load`); scores are natural logs, and any id, seen or not, gets a finite score.

    Args:
        order: The n of the n-grams (1 = unigrams), >= 1.
    """

    END = -1
    """The id that stands for the end of the sentence in `next_logprobs`'s candidates."""
    CACHE_SIZE = 1 << 18
    """How many (context, id) log-probabilities each model keeps (least recently used ones are dropped)."""

    def __init__(self, order: int = 3):
        self.order = _check_order(order)
        self._model = _WittenBellModel(self.order)
        self._fitted = False
        self._saved: dict[str, np.ndarray] = {}  # the arrays the counts were built from, as `save` writes them
        self._logprob = functools.lru_cache(maxsize=self.CACHE_SIZE)(self._uncached_logprob)

    def __repr__(self) -> str:
        size = len(self._model.vocab) - 2 if self._fitted else 0  # less <s> and <UNK>; </s> counts as a token
        return f"{type(self).__name__}(order={self.order}, tokens={size}, fitted={self._fitted})"

    # ------------------------------------------------------------------ building
    @classmethod
    def fit(cls, sequences: Iterable[Sequence[int]], order: int = 3) -> NgramLanguageModel:
        """Count the n-grams of `sequences` (each a sentence of entry ids) and build the model."""
        lm = cls(order)
        if isinstance(sequences, (str, bytes)):
            raise TypeError("`sequences` must be an iterable of id sequences, not a string")
        n = lm.order
        counts = [Counter() for _ in range(n)]
        pad = (_BOS_ID,) * (n - 1)
        num_sequences = 0
        for i, sequence in enumerate(sequences):
            tokens = pad + _as_ids(sequence, f"sequences[{i}]") + (cls.END,)
            for end in range(n - 1, len(tokens)):
                for k in range(1, n + 1):
                    counts[k - 1][tokens[end - k + 1 : end + 1]] += 1
            num_sequences += 1
        if not num_sequences:
            raise ValueError("`sequences` is empty: the language model needs at least one sentence")
        arrays = {}
        for k, table in enumerate(counts, start=1):
            arrays[f"ngrams.{k}"] = np.array(list(table), dtype=np.int64).reshape(len(table), k)
            arrays[f"counts.{k}"] = np.fromiter(table.values(), dtype=np.int64, count=len(table))
        lm._build(arrays)
        return lm

    def _build(self, arrays: dict[str, np.ndarray]) -> None:
        """Fill NLTK's counts and vocabulary from per-order arrays of n-grams and counts, kept (sorted) for `save`."""
        self._saved = {}
        for k in range(1, self.order + 1):
            ngrams, counts = arrays[f"ngrams.{k}"], arrays[f"counts.{k}"]
            rank = np.lexsort(ngrams.T[::-1]) if len(ngrams) else np.zeros(0, dtype=np.int64)
            self._saved[f"ngrams.{k}"], self._saved[f"counts.{k}"] = _narrowest(ngrams[rank]), _narrowest(counts[rank])
        names = {_BOS_ID: _BOS, self.END: _EOS}
        counter = NgramCounter()
        for k in range(1, self.order + 1):
            rows = [tuple(names.get(t, str(t)) for t in row) for row in arrays[f"ngrams.{k}"].tolist()]
            counter.update([rows])  # one of each through NLTK's counting (and its MAX_NGRAMS bound), then the counts
            table = counter[k]
            for row, count in zip(rows, arrays[f"counts.{k}"].tolist()):
                if count != 1:
                    if k == 1:
                        table[row[0]] = count
                    else:
                        table[row[:-1]][row[-1]] = count
        self._model = _WittenBellModel(self.order, vocabulary=Vocabulary([*counter.unigrams, _BOS]), counter=counter)
        self._fitted = True
        self._logprob.cache_clear()

    # ------------------------------------------------------------------ scoring
    def _uncached_logprob(self, context: tuple[int, ...], word: int) -> float:
        """ln P(`word` | `context`), `context` being the last (up to) order-1 ids after the sentence start."""
        tokens = (_BOS,) * (self.order - 1 - len(context)) + tuple(map(str, context))
        counts = self._model.counts
        while tokens and tokens not in counts[len(tokens) + 1]:
            # NLTK gives an unseen context weight 0 and backs off to its suffix, but first stores an empty entry
            # for it (a ConditionalFreqDist is a defaultdict), which would grow without bound during a search
            tokens = tokens[1:]
        return self._model.logscore(_EOS if word == self.END else str(word), tokens) * _LN2

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise ValueError(f"this {type(self).__name__} is not fitted: build it with `fit` or `load`")

    def _context(self, ids: tuple[int, ...]) -> tuple[int, ...]:
        width = self.order - 1
        return ids[-width:] if width else ()

    def sequence_logprob(self, ids: Sequence[int], *, complete: bool = True) -> float:
        """Natural-log probability of the sequence from the sentence start; with `complete`, its end too."""
        self._check_fitted()
        ids, width = _as_ids(ids, "ids"), self.order - 1
        total = math.fsum(self._logprob(ids[max(0, i - width) : i], word) for i, word in enumerate(ids))
        if complete:
            total += self._logprob(self._context(ids), self.END)
        return total

    def next_logprobs(self, context: Sequence[int], candidates: Sequence[int]) -> np.ndarray:
        """Natural-log probability of each candidate id following `context` (a prefix from the sentence start);
        the end-of-sentence may be asked for with `NgramLanguageModel.END`."""
        self._check_fitted()
        key = self._context(_as_ids(context, "context"))
        logprob = self._logprob
        return np.array([logprob(key, word) for word in _as_ids(candidates, "candidates", allow_end=True)])

    def perplexity(self, sequences: Iterable[Sequence[int]]) -> float:
        """Per-token perplexity (end of sentence counted as a token), exp of the mean negative log-prob."""
        self._check_fitted()
        if isinstance(sequences, (str, bytes)):
            raise TypeError("`sequences` must be an iterable of id sequences, not a string")
        total, tokens = 0.0, 0
        for i, sequence in enumerate(sequences):
            ids = _as_ids(sequence, f"sequences[{i}]")
            total += self.sequence_logprob(ids)
            tokens += len(ids) + 1
        if not tokens:
            raise ValueError("`sequences` is empty: perplexity needs at least one sentence")
        return math.exp(-total / tokens)

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike) -> None:
        """Write the folder (``ngram_lm.json`` and ``ngrams.safetensors``) atomically."""
        from safetensors.numpy import save_file

        self._check_fitted()
        with written_dir(directory) as staging:
            save_file(self._saved, str(staging / _ARRAYS))
            checksums = {_ARRAYS: sha256_file(staging / _ARRAYS)}
            meta = {"format_version": FORMAT_VERSION, "order": self.order, "sha256": checksums}
            (staging / _META).write_text(json.dumps(meta, indent=2) + "\n")

    @classmethod
    def load(cls, directory: str | os.PathLike) -> NgramLanguageModel:
        """Read a folder written by `save`; its checksum is verified and NLTK's counts rebuilt exactly."""
        from safetensors.numpy import load_file

        directory = Path(directory)
        meta_path = directory / _META
        if not meta_path.is_file():
            raise FileNotFoundError(f"`directory` {directory} holds no n-gram language model (no {_META})")
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError as err:
            raise ValueError(f"{meta_path} is not valid JSON ({err}); the n-gram model is corrupted") from err
        if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
            version = meta.get("format_version") if isinstance(meta, dict) else None
            raise ValueError(f"{meta_path}: unsupported format_version {version!r}")
        try:
            checksum, order = meta["sha256"][_ARRAYS], meta["order"]
        except (KeyError, TypeError) as err:
            raise ValueError(f"{meta_path} lacks {err}; the n-gram model is corrupted") from err
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"{meta_path}: `order` must be an int >= 1, got {order!r}; the n-gram model is corrupted")
        check_sha256(directory, {_ARRAYS: checksum}, _META, "the n-gram model")
        lm = cls(order)
        try:
            arrays = load_file(str(directory / _ARRAYS))
        except Exception as err:  # safetensors raises its own error types for malformed files
            raise ValueError(f"{directory / _ARRAYS} is not a readable safetensors file ({err})") from err
        for k in range(1, lm.order + 1):
            ngrams, counts = arrays.get(f"ngrams.{k}"), arrays.get(f"counts.{k}")
            if (
                ngrams is None
                or counts is None
                or ngrams.ndim != 2
                or ngrams.shape != (len(counts), k)
                or not np.issubdtype(ngrams.dtype, np.integer)
                or not np.issubdtype(counts.dtype, np.integer)
                or (counts < 1).any()
                or (ngrams < _BOS_ID).any()
            ):
                raise ValueError(f"{directory / _ARRAYS}: the order-{k} arrays are missing or inconsistent")
        if len(arrays) != 2 * lm.order or not len(arrays["counts.1"]):
            raise ValueError(f"{directory / _ARRAYS} does not hold the arrays of an order-{lm.order} model")
        lm._build({name: array.astype(np.int64) for name, array in arrays.items()})
        return lm
