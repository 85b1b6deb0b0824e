"""Shared helpers of the data-layer tests (imported by name; tests/ is not a package)."""

from __future__ import annotations

import pytest

from hf_tokenembed.data.wordnet import DEBIAN_WORDNET_DIR, WORDNET_FILES


def wordnet_available() -> bool:
    try:
        import nltk

        nltk.data.find("corpora/wordnet")
        return True
    except LookupError:
        return all((DEBIAN_WORDNET_DIR / name).is_file() for name in WORDNET_FILES)


requires_wordnet = pytest.mark.skipif(not wordnet_available(), reason="WordNet 3.0 is not installed")

FILLER = (
    "cats chase mice in the garden every morning",
    "the committee approved a modest budget for schools",
    "farmers planted wheat after the long winter rains",
    "engineers tested the bridge with heavy trucks",
    "the orchestra played a quiet piece by candlelight",
    "local shops closed early because of the storm",
)


def make_sentences(n: int = 120) -> list[str]:
    """Deterministic, distinct, capitalised sentences; "New York" and "red herring" recur as collocations."""
    out = []
    for i in range(n):
        base = FILLER[i % len(FILLER)]
        if i % 4 == 0:
            out.append(f"Reporters in New York saw item {i} and said the {base}.")
        elif i % 4 == 1:
            out.append(f"The clue about case {i} was a red herring, and the {base}.")
        else:
            out.append(f"On day {i} the people noticed that the {base}.")
    return out
