"""Index entries: words, multi-word expressions and word senses, and their on-disk table (JSON lines)."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["ENTRY_KINDS", "IndexEntry", "load_entries", "save_entries", "sense_label", "short_gloss"]

ENTRY_KINDS = ("word", "mwe", "sense", "number", "punct")  # the last two: reconstruction entries

_ARTICLES = {"a", "an", "the"}
_TRAILING = _ARTICLES | {"of", "to", "in", "on", "or", "and", "for", "with", "by", "at", "from", "as", "into"}
# A gloss's head ends at the first clause boundary: punctuation or a relative/prepositional continuation.
_GLOSS_CUT = re.compile(r"\s*(?:[;,:(]|\s-\s|\b(?:that|which|who|whose|where|when|especially|usually|often|as in)\b)")


def short_gloss(gloss: str, max_words: int = 4) -> str:
    """The first words of a WordNet gloss, e.g. ``"sloping land (especially ...)" -> "sloping land"``."""
    text = " ".join(str(gloss).split())
    match = _GLOSS_CUT.search(text)
    head = text[: match.start()] if match and match.start() > 0 else text
    words = head.split()
    while len(words) > 1 and words[0].lower() in _ARTICLES:
        words = words[1:]
    words = words[:max_words]
    while len(words) > 1 and words[-1].lower() in _TRAILING:
        words = words[:-1]
    return " ".join(words).strip(" .")


def sense_label(word: str, gloss: str | None, synset: str | None = None) -> str:
    """Human label of a sense entry: ``"bank (sloping land)"``; falls back to the synset id."""
    head = short_gloss(gloss) if gloss else ""
    return f"{word} ({head or synset or '?'})"


@dataclass(frozen=True)
class IndexEntry:
    """One row of the vocabulary index.

    Args:
        surface: What gets written into the text (``"bank"``, ``"red herring"``).
        kind: ``"word"`` (sense-neutral), ``"mwe"``, ``"sense"``, or (entries a reconstruction writes) ``"number"`` and
            ``"punct"``.
        frequency: Corpus count of the surface form (0 when unknown).
        synset: WordNet synset id of a sense entry (``"bank.n.01"``).
        gloss: WordNet gloss of a sense entry.
        label: Display label; defaults to the surface, or ``"bank (sloping land)"`` for senses.
        source: How the vector was built (``"word"``, ``"examples+gloss"``, ``"gloss"``, ``"gloss+corpus"``...).
    """

    surface: str
    kind: str = "word"
    frequency: int = 0
    synset: str | None = None
    gloss: str | None = None
    label: str = field(default="")
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.surface, str) or not self.surface.strip():
            raise ValueError(f"IndexEntry.surface must be a non-empty string, got {self.surface!r}")
        if self.kind not in ENTRY_KINDS:
            raise ValueError(f"IndexEntry.kind must be one of {ENTRY_KINDS}, got {self.kind!r}")
        if self.kind == "sense" and not self.synset:
            raise ValueError(f"IndexEntry.synset is required for a sense entry ({self.surface!r})")
        if isinstance(self.frequency, bool) or not isinstance(self.frequency, int):
            raise TypeError(f"IndexEntry.frequency must be an int, got {type(self.frequency).__name__}")
        if not self.label:
            label = sense_label(self.surface, self.gloss, self.synset) if self.kind == "sense" else self.surface
            object.__setattr__(self, "label", label)

    @property
    def pos(self) -> str | None:
        """WordNet part of speech of a sense entry (``"n"``, ``"v"``, ``"a"``, ``"s"``, ``"r"``)."""
        if not self.synset:
            return None
        parts = self.synset.rsplit(".", 2)
        return parts[1] if len(parts) == 3 else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexEntry:
        known = {"surface", "kind", "frequency", "synset", "gloss", "label", "source"}
        return cls(**{k: v for k, v in data.items() if k in known})


def save_entries(entries: Iterable[IndexEntry], path: str | os.PathLike) -> int:
    """Write entries as JSON lines (one object per entry, in index order); returns the count."""
    count = 0
    with open(path, "w", encoding="utf-8") as f:
        for entry in entries:
            f.write(json.dumps(entry.to_dict(), ensure_ascii=False))
            f.write("\n")
            count += 1
    return count


def load_entries(path: str | os.PathLike) -> list[IndexEntry]:
    """Read entries written by `save_entries`."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                entries.append(IndexEntry.from_dict(json.loads(line)))
            except (json.JSONDecodeError, TypeError, ValueError) as err:
                raise ValueError(f"{path}:{line_no}: not a valid index entry ({err})") from err
    return entries
