"""Segmentation of sentences into reconstruction entries (words, multi-word expressions, punctuation, numbers), and
the way back to natural text.

Tokens are Moses tokens (sacremoses, the tokenizer behind most MT corpora) with dashes inside words split
("well-known" is ``well @-@ known``) and so are the separators inside numbers ("5.05" is ``5 @.@ 05``, as in
WikiText): "Blair's" is ``Blair 's``, "25%" is ``25 %``. The detokenizer is the inverse ("New York , said" →
"New York, said"). A token that is no entry falls back to an entry differing only in case ("Tube" → "tube").
Multi-word expressions are matched greedily, longest first, on the exact token sequence. A sentence's first token
is lowercased when that form is the commoner entry (the capital says nothing: "The" is "the", while "York" stays
a name), and `detokenize` capitalises the first letter again.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ENTRY_KINDS",
    "Segmentation",
    "Segmenter",
    "count_tokens",
    "entry_kind",
    "moses_tokenize",
    "reconstruction_entries",
]

ENTRY_KINDS = ("word", "mwe", "number", "punct")


@functools.cache
def _moses():
    from sacremoses import MosesDetokenizer, MosesTokenizer

    return MosesTokenizer(lang="en"), MosesDetokenizer(lang="en")


_NUMBER_SEPARATOR = re.compile(r"(?<=\d)([.,])(?=\d)")


def moses_tokenize(sentence: str) -> list[str]:
    """Moses tokens of `sentence` (no HTML escaping, dashes inside words and number separators split off)."""
    tokens = []
    for token in _moses()[0].tokenize(sentence, escape=False, aggressive_dash_splits=True):
        tokens.extend(t for t in _NUMBER_SEPARATOR.sub(r" @\1@ ", token).split(" ") if t)
    return tokens


def _moses_detokenize(tokens: list[str]) -> str:
    text = re.sub(r"(?<=\d) @([.,])@ (?=\d)", r"\1", " ".join(tokens))  # Moses itself knows only "@-@"
    return _moses()[1].detokenize(text.split(" "))


def entry_kind(surface: str) -> str:
    """``"mwe"`` (several tokens), ``"word"`` (has a letter), ``"number"`` (has a digit) or ``"punct"``."""
    if " " in surface:
        return "mwe"
    if any(c.isalpha() for c in surface):
        return "word"
    if any(c.isdigit() for c in surface):
        return "number"
    return "punct"


def count_tokens(sentences: Iterable[str]) -> Counter:
    """Moses token counts over `sentences`; a sentence-initial capital is folded when the lowercase form is the
    commoner one away from sentence starts ("The" counts as "the", "York" stays)."""
    tokenized = [moses_tokenize(s) for s in sentences]
    counts = Counter(token for tokens in tokenized for token in tokens[1:])
    firsts = Counter(tokens[0] for tokens in tokenized if tokens)
    for first, n in firsts.items():
        lower = first.lower()
        counts[lower if lower != first and counts[lower] >= counts[first] and counts[lower] else first] += n
    return counts


def _case_variants(token: str) -> tuple[str, ...]:
    return (token.lower(), token.capitalize(), token.upper())


@dataclass(frozen=True)
class Segmentation:
    """A sentence as entries: `ids[i]` indexes the segmenter's entries, -1 for a token no entry covers."""

    entries: list[str]
    ids: list[int]

    @property
    def covered(self) -> bool:
        return -1 not in self.ids


class Segmenter:
    """Deterministic `segment(sentence)` into entries and `detokenize(entries)` back to text.

    Args:
        entries: The entry surfaces (multi-word expressions have their tokens joined by single spaces).
        max_mwe_tokens: Longest multi-word expression matched.
    """

    def __init__(self, entries: Sequence[str], max_mwe_tokens: int = 4):
        if isinstance(entries, str) or not entries:
            raise ValueError("`entries` must be a non-empty sequence of surfaces")
        self.entries = list(entries)
        self.ids: dict[str, int] = {}
        for i, surface in enumerate(self.entries):
            if not isinstance(surface, str) or not surface.strip() or surface != " ".join(surface.split()):
                raise ValueError(f"`entries[{i}]` must be a non-empty, single-spaced string, got {surface!r}")
            self.ids.setdefault(surface, i)
        self.max_mwe_tokens = max(1, min(max_mwe_tokens, max(len(e.split(" ")) for e in self.entries)))

    def __len__(self) -> int:
        return len(self.entries)

    def tokens(self, sentence: str) -> list[str]:
        """Moses tokens, the first one lowercased when the lowercase entry is the commoner (ids rank entries)."""
        if not isinstance(sentence, str):
            raise TypeError(f"`sentence` must be a string, got {type(sentence).__name__}")
        tokens = moses_tokenize(sentence)
        if tokens:
            first, lower = tokens[0], tokens[0].lower()
            if first != lower and lower in self.ids and (first not in self.ids or self.ids[lower] < self.ids[first]):
                tokens[0] = lower
        return tokens

    def segment(self, sentence: str) -> Segmentation:
        """Entries of `sentence`: MWEs by longest match, then single tokens (or an entry differing only in case);
        uncovered tokens keep their surface and get id -1."""
        tokens = self.tokens(sentence)
        entries, ids, i = [], [], 0
        while i < len(tokens):
            for n in range(min(self.max_mwe_tokens, len(tokens) - i), 0, -1):
                surface = " ".join(tokens[i : i + n])
                if n == 1 and surface not in self.ids:
                    surface = next((v for v in _case_variants(surface) if v in self.ids), surface)
                if surface in self.ids or n == 1:
                    entries.append(surface)
                    ids.append(self.ids.get(surface, -1))
                    i += n
                    break
        return Segmentation(entries, ids)

    def detokenize(self, entries: Sequence[str | int]) -> str:
        """Natural text from entries (surfaces or ids): "new York , said" → "New York, said"."""
        tokens = []
        for entry in entries:
            surface = self.entries[entry] if isinstance(entry, int) else entry
            tokens.extend(surface.split(" "))
        text = _moses_detokenize(tokens)
        return text[:1].upper() + text[1:]


def reconstruction_entries(
    data_dir: str | os.PathLike, *, min_count: int = 2, mwe_min_count: int = 3, progress: bool = False
) -> list[tuple[str, int]]:
    """`(surface, train count)` of the entries a controller can write, commonest first: the training split's
    Moses tokens seen `min_count` times, the vocabulary's words (wordfreq's common words included, count 0 when
    unseen) and the multi-word expressions seen `mwe_min_count` times. Only the training split is read."""
    from tqdm.auto import tqdm

    from .build import load_data

    for name, value in (("min_count", min_count), ("mwe_min_count", mwe_min_count)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive int, got {value!r}")
    data = load_data(data_dir)
    train = data["corpus"]["train"]["text"]
    counts = count_tokens(tqdm(train, desc="Entry counts", unit="sent", disable=not progress))
    surfaces = {token for token, n in counts.items() if n >= min_count}
    surfaces.update(data["vocab"]["word"])
    entries = {surface: counts.get(surface, 0) for surface in surfaces}
    for phrase, n in zip(data["mwes"]["phrase"], data["mwes"]["count"]):
        if n >= mwe_min_count and moses_tokenize(phrase) == phrase.split(" "):
            entries.setdefault(phrase, int(n))
    return sorted(entries.items(), key=lambda item: (-item[1], item[0]))
