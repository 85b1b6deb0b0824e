"""Word-order perturbation: copies of a sentence with its words swapped or shuffled.

One perturber serves the order-aware training loss (its hard negatives) and the order-awareness evaluator (its
probes), so both see the same kind of copy: whitespace-separated words, sentence-final punctuation kept at the end.
"""

from __future__ import annotations

import random

__all__ = ["perturb_word_order"]

_TRAILING_PUNCTUATION = ".!?;:…"
_MAX_SHUFFLE_TRIES = 50


def perturb_word_order(sentence: str, k: int, rng: random.Random | int | None = None, swaps: int = 1) -> list[str]:
    """`k` copies of `sentence` with its words reordered: `swaps` two-word swaps first, then full shuffles.

    Words are whitespace-separated; sentence-final punctuation stays at the end. No copy equals the original, and
    copies are distinct while enough distinct orders exist. A swap exchanges two positions holding different words,
    the hardest copy to tell apart (and the one the order-awareness evaluator scores).

    Args:
        sentence: The sentence, at least 3 words.
        k: Number of copies.
        rng: A `random.Random` (or an int seed); the same seed gives the same copies.
        swaps: How many of the `k` copies are two-word swaps (the rest are shuffles); at most `k`.

    Raises:
        ValueError: If the sentence has fewer than 3 words, or all its words are equal (no other order exists).
    """
    if not isinstance(sentence, str):
        raise TypeError(f"`sentence` must be a string, got {type(sentence).__name__}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"`k` must be a positive int, got {k!r}")
    if isinstance(swaps, bool) or not isinstance(swaps, int) or not 0 <= swaps <= k:
        raise ValueError(f"`swaps` must be an int in [0, k={k}], got {swaps!r}")
    if rng is None or isinstance(rng, int) and not isinstance(rng, bool):
        rng = random.Random(rng)
    if not isinstance(rng, random.Random):
        raise TypeError(f"`rng` must be a random.Random or an int seed, got {type(rng).__name__}")
    words = sentence.split()
    tail = ""
    if words and len(words[-1]) > 1 and words[-1][-1] in _TRAILING_PUNCTUATION:
        stripped = words[-1].rstrip(_TRAILING_PUNCTUATION)
        if stripped:
            tail = words[-1][len(stripped) :]
            words[-1] = stripped
    if len(words) < 3:
        raise ValueError(f"`sentence` needs at least 3 words to perturb its order, got {len(words)}: {sentence!r}")
    if len(set(words)) < 2:
        raise ValueError(f"`sentence` has no other word order (all words are equal): {sentence!r}")

    original = tuple(words)
    seen = {original}
    out: list[tuple[str, ...]] = []
    pairs = [(i, j) for i in range(len(words)) for j in range(i + 1, len(words)) if words[i] != words[j]]
    for i, j in rng.sample(pairs, min(swaps, len(pairs))):
        swapped = list(words)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        if tuple(swapped) not in seen:
            out.append(tuple(swapped))
            seen.add(out[-1])
    while len(out) < k:
        candidate = None
        for _ in range(_MAX_SHUFFLE_TRIES):
            shuffled = list(words)
            rng.shuffle(shuffled)
            if tuple(shuffled) not in seen:
                candidate = tuple(shuffled)
                break
        if candidate is None:  # every distinct order is used: repeat one (still never the original)
            candidate = rng.choice(out)
        out.append(candidate)
        seen.add(candidate)
    return [" ".join(copy) + tail for copy in out]
