"""Truecasing: each token's casing chosen from its neighbours (Lita et al., 2003, "tRuEcasIng").

Entries are lowercased (the backbone tokenizer is uncased), so text rebuilt from entry ids has to get its case back.
A fixed commonest form per word cannot do it: "new york" is "New York" while "a new plan" keeps "new", and "bush" is
"Bush" after "President" but not in "a small bush". `CasingModel` counts cased Moses tokens and the bigrams between
them, and `CasingModel.recase` runs a Viterbi search over the case forms each token was seen in, maximising the sum
of ``log P(form_i | form_i-1)``: the bigram share less an absolute discount, interpolated with the form's unigram
share (Ney, Essen and Kneser, 1994), so that a pair seen once (a title's "Dead Man") does not outweigh the commoner
lowercase forms.

A sentence's first word (its first token with a letter or digit) is capitalised whatever its case, so it is no
evidence: it counts neither as a form nor in a bigram, and `recase` capitalises its first letter again.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

__all__ = ["CasingModel"]

_VERSION = 1
_FLOOR = -1e6  # log-probability of a form never seen (the same on every path through that position)


def _first_word(tokens: Sequence[str]) -> int:
    """Index of the first token with a letter or digit (``len(tokens)`` when there is none)."""
    for i, token in enumerate(tokens):
        if any(ch.isalnum() for ch in token):
            return i
    return len(tokens)


def _is_cased(token: str) -> bool:
    return token.lower() != token.upper()


def _count_map(mapping: object, key: str) -> dict[str, int]:
    if not isinstance(mapping, dict) or not all(
        isinstance(form, str) and type(count) is int and count > 0 for form, count in mapping.items()
    ):
        raise ValueError(f"CasingModel dict key {key!r} must map strings to positive integers")
    return dict(mapping)


def _check_tokens(tokens: object, name: str) -> Sequence[str]:
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Sequence):
        raise TypeError(f"`{name}` must be a sequence of string tokens (e.g. a list), got {type(tokens).__name__}")
    for token in tokens:
        if not isinstance(token, str):
            raise TypeError(f"`{name}` must hold only string tokens, got {type(token).__name__}: {token!r}")
    return tokens


class CasingModel:
    """A bigram model over cased tokens that chooses each token's casing from its neighbours.

    ``P(form | prev) = max(c(prev, form) - D, 0) / c(prev) + D * T(prev) / c(prev) * c(form) / N``, with ``T(prev)``
    the number of distinct forms seen after ``prev`` (one more if it also ended a sentence) and ``N`` the tokens
    counted; the unigram share ``c(form) / N`` at the start and after a ``prev`` the model keeps no ``T`` for.

    Only what a decision needs is kept: the forms of every key (lowercased token) seen with a capital, the bigrams
    with at least one side whose key has several forms, ``T`` of those bigrams' first forms and of every form of such
    a key, and the counts of all these forms. A term whose two sides have a single form each is the same on every
    path, and the terms after a single-form ``prev`` without kept bigrams differ from the full model's by one factor,
    so the pruned model chooses as the full one would.
    """

    DISCOUNT = 0.75  # D, taken off each bigram count (0.75 did best on a held-out tenth of the BBC training split)

    def __init__(
        self,
        counts: dict[str, int],
        bigrams: dict[str, dict[str, int]],
        followers: dict[str, int],
        total: int,
        discount: float = DISCOUNT,
    ) -> None:
        """Use `fit` or `from_dict`: `counts` maps forms to counts, `bigrams` a form to the counts of the forms after
        it, `followers` a form to its number of distinct followers, `total` the tokens counted."""
        self._counts = counts
        self._bigrams = bigrams
        self._followers = followers
        self._total = total
        self._discount = discount
        forms: dict[str, list[str]] = defaultdict(list)
        for form in counts:
            forms[form.lower()].append(form)
        # Candidates per key with a capitalised form, commonest first, lowercase first on a tie (ties keep the first);
        # other keys are returned as given.
        self._forms = {
            key: sorted(group, key=lambda form: (-counts[form], form != key, form))
            for key, group in forms.items()
            if any(form != key for form in group)
        }

    @classmethod
    def fit(cls, sentences: Iterable[Sequence[str]], *, min_count: int = 1) -> CasingModel:
        """From tokenized, cased sentences (lists of Moses tokens as they appear in text); forms and bigrams seen
        fewer than `min_count` times are dropped."""
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"`min_count` must be an integer >= 1, got {min_count!r}")
        if isinstance(sentences, (str, bytes)) or not isinstance(sentences, Iterable):
            raise TypeError(f"`sentences` must be an iterable of token sequences, got {type(sentences).__name__}")
        unigrams: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        for sentence in sentences:
            _check_tokens(sentence, "sentences")
            first = _first_word(sentence)
            for part in (sentence[:first], sentence[first + 1 :]):
                unigrams.update(part)
                pairs.update(zip(part, part[1:]))
        total = sum(unigrams.values())
        # Distinct followers, one more where an occurrence has none counted (the sentence's end, the first word).
        followers = Counter(prev for prev, _ in pairs)
        continued = Counter()
        for (prev, _), count in pairs.items():
            continued[prev] += count
        followers.update(form for form, count in unigrams.items() if continued[form] < count)
        by_key: dict[str, list[str]] = defaultdict(list)
        for form, count in unigrams.items():
            if count >= min_count:
                by_key[form.lower()].append(form)
        ambiguous = {key for key, forms in by_key.items() if len(forms) > 1}
        bigrams: dict[str, dict[str, int]] = defaultdict(dict)
        for (prev, form), count in pairs.items():
            if count >= min_count and (prev.lower() in ambiguous or form.lower() in ambiguous):
                bigrams[prev][form] = count
        needed = {form for key, forms in by_key.items() if any(form != key for form in forms) for form in forms}
        for prev, follow in bigrams.items():
            needed.add(prev)
            needed.update(follow)
        counts = {form: unigrams[form] for form in sorted(needed)}
        bigrams = {prev: dict(sorted(follow.items())) for prev, follow in sorted(bigrams.items())}
        # Every form of an ambiguous key and every kept `prev` discounts, kept bigrams or not.
        prevs = {form for key in ambiguous for form in by_key[key]} | bigrams.keys()
        return cls(counts, bigrams, {prev: followers[prev] for prev in sorted(prevs)}, total)

    def _log_prob(self, prev: str | None, form: str) -> float:
        p = self._counts.get(form, 0) / self._total if self._total else 0.0
        n_followers = self._followers.get(prev) if prev is not None else None
        if n_followers is not None:
            seen = self._bigrams.get(prev, {}).get(form, 0)
            p = (max(seen - self._discount, 0.0) + self._discount * n_followers * p) / self._counts[prev]
        return math.log(p) if p > 0.0 else _FLOOR

    def recase(self, tokens: Sequence[str]) -> list[str]:
        """The tokens (any case) in their most likely casing given their neighbours; the sentence's first word (first
        token with a letter or digit) gets a capital first letter (like 'The', 'London'), tokens without letters are
        returned as given, and so is a token the model never saw with a capital (the caller's lowercase surfaces
        stay lowercase)."""
        tokens = _check_tokens(tokens, "tokens")
        if not tokens:
            return []
        candidates = [self._forms.get(token.lower(), [token]) if _is_cased(token) else [token] for token in tokens]
        scores = {form: self._log_prob(None, form) for form in candidates[0]}
        back: list[dict[str, str]] = []
        for forms in candidates[1:]:
            step: dict[str, float] = {}
            pointers: dict[str, str] = {}
            for form in forms:
                best_prev, best = None, -math.inf
                for prev, score in scores.items():
                    total = score + self._log_prob(prev, form)
                    if total > best:
                        best_prev, best = prev, total
                step[form] = best
                pointers[form] = best_prev
            scores = step
            back.append(pointers)
        form = max(scores, key=scores.__getitem__)
        cased = [form]
        for pointers in reversed(back):
            form = pointers[form]
            cased.append(form)
        cased.reverse()
        first = _first_word(cased)
        if first < len(cased):
            cased[first] = cased[first][:1].upper() + cased[first][1:]
        return cased

    def to_dict(self) -> dict:
        """JSON-serialisable state: ``version``, ``discount``, ``total`` (tokens counted), ``counts`` (form -> count),
        ``bigrams`` (form -> {following form -> count}) and ``followers`` (form -> number of distinct followers).
        """
        return {
            "version": _VERSION,
            "discount": self._discount,
            "total": self._total,
            "counts": dict(self._counts),
            "bigrams": {prev: dict(follow) for prev, follow in self._bigrams.items()},
            "followers": dict(self._followers),
        }

    @classmethod
    def from_dict(cls, values: dict) -> CasingModel:
        """The model `to_dict` wrote; a malformed dict raises ValueError naming the key."""
        if not isinstance(values, dict):
            raise TypeError(f"`values` must be a dict from CasingModel.to_dict, got {type(values).__name__}")
        for key in ("version", "discount", "total", "counts", "bigrams", "followers"):
            if key not in values:
                raise ValueError(f"CasingModel dict lacks the key {key!r}")
        if values["version"] != _VERSION:
            raise ValueError(f"CasingModel dict key 'version' must be {_VERSION}, got {values['version']!r}")
        discount = values["discount"]
        if isinstance(discount, bool) or not isinstance(discount, (int, float)) or not 0 < discount < 1:
            raise ValueError(f"CasingModel dict key 'discount' must be a number in (0, 1), got {discount!r}")
        counts = _count_map(values["counts"], "counts")
        total = values["total"]
        if type(total) is not int or total < sum(counts.values()):
            raise ValueError(f"CasingModel dict key 'total' must be an integer >= the sum of 'counts', got {total!r}")
        bigrams = values["bigrams"]
        if not isinstance(bigrams, dict):
            raise ValueError("CasingModel dict key 'bigrams' must map forms to {form: count} dicts")
        bigrams = {prev: _count_map(follow, "bigrams") for prev, follow in bigrams.items()}
        for prev, follow in bigrams.items():
            for form in (prev, *follow):
                if form not in counts:
                    raise ValueError(f"CasingModel dict key 'bigrams' names {form!r}, which 'counts' lacks")
            if sum(follow.values()) > counts[prev] or any(count > counts[form] for form, count in follow.items()):
                raise ValueError(f"CasingModel dict key 'bigrams' counts pairs with {prev!r} more often than forms")
        followers = _count_map(values["followers"], "followers")
        if not bigrams.keys() <= followers.keys() or any(
            prev not in counts or not len(bigrams.get(prev, ())) <= n <= counts[prev] for prev, n in followers.items()
        ):
            raise ValueError(
                "CasingModel dict key 'followers' must give each form of 'bigrams' (and only forms of 'counts') a "
                "count between its number of bigrams and its own count"
            )
        return cls(counts, bigrams, followers, total, float(discount))

    def __repr__(self) -> str:
        bigrams = sum(map(len, self._bigrams.values()))
        return f"CasingModel(cased_keys={len(self._forms)}, forms={len(self._counts)}, bigrams={bigrams})"
