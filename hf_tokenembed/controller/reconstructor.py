"""`Reconstructor`: rebuild a text from its sentence vector, one entry at a time.

Each step, for every live hypothesis (a buffer of entries and the re-embedded summary of its text): the Selector
turns (target, summary, residual, buffer) into an intention vector, FAISS returns its `top_k` entries, the Placer
scores every (candidate, slot) insertion and STOP. Greedy decoding takes the best action. Beam decoding keeps
`num_beams` hypotheses per input; with the verifier, every expansion is re-embedded (one batched encoder call)
and hypotheses are ranked by their cosine to the target plus `lm_weight` times their mean action log-probability.
A hypothesis ends on STOP; decoding ends when every input's beams have ended, when the best cosine has not risen
for `patience` steps (greedy or beam: every expansion is re-embedded either way), or at `max_steps`. The verifier's
result can then be repaired: moves of one entry to another slot are tried, batched, and the best is kept while the
cosine rises (the reordering of this design).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hf_tokenembed.index import VocabIndex, VocabIndexConfig
from hf_tokenembed.models.reconstructor import DECODING_DEFAULTS, TextReconstructor

from .search import embed_buffers, repair_by_moves
from .vocabulary import ReconstructionVocabulary

logger = logging.getLogger(__name__)

__all__ = ["Hypothesis", "Reconstructor", "check_vectors", "replay_steps"]


@dataclass
class Hypothesis:
    """One partial text: its entries, the sum of its actions' log-probabilities, its summary and cosine.

    `steps` is its trace: per action, ``action`` (``"insert"``, ``"stop"`` or ``"move"``, a repair move), ``entry``
    (the entry inserted or moved; None for STOP), ``slot`` (where it now stands), ``from`` (a move's position before
    it), ``score`` (log-probability; 0 for a move), ``cosine`` after the step and ``summary``, the re-embedded text
    after the step (`reconstruct` leaves the vector out). `replay_steps` rebuilds the text after each step.
    """

    source: int
    entries: list[int] = field(default_factory=list)
    logprob: float = 0.0
    summary: torch.Tensor | None = None
    cosine: float = 0.0
    finished: bool = False
    steps: list[dict[str, Any]] = field(default_factory=list)

    def score(self, lm_weight: float) -> float:
        actions = max(1, len(self.steps))
        return self.cosine + lm_weight * self.logprob / actions


def replay_steps(steps: Sequence[dict[str, Any]]) -> list[list[str]]:
    """The entries (surfaces) of the text after each step of a trace (`reconstruct(..., return_steps=True)`):
    an insertion puts its entry at its slot, a move takes the entry at ``from`` out and puts it at ``slot``, STOP
    keeps the text."""
    buffer: list[str] = []
    texts = []
    for step in steps:
        if step["action"] == "insert":
            buffer.insert(step["slot"], step["entry"])
        elif step["action"] == "move":
            buffer.insert(step["slot"], buffer.pop(step["from"]))
        texts.append(list(buffer))
    return texts


def check_vectors(vectors: Any, dim: int, name: str = "vectors") -> torch.Tensor:
    """`vectors` as a `(n, dim)` float32 tensor, or a clear error naming `name`."""
    if isinstance(vectors, np.ndarray):
        if not np.issubdtype(vectors.dtype, np.number) or np.issubdtype(vectors.dtype, np.complexfloating):
            raise TypeError(f"`{name}` must hold real numbers, got dtype {vectors.dtype}")
        with np.errstate(over="ignore"):  # values beyond float32 become inf: refused below, with the row
            vectors = torch.from_numpy(np.asarray(vectors, dtype=np.float32))
    if not isinstance(vectors, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor or numpy array, got {type(vectors).__name__}")
    if vectors.is_complex() or vectors.dtype == torch.bool:
        raise TypeError(f"`{name}` must be real-valued, got dtype {vectors.dtype}")
    vectors = vectors.detach().to("cpu", torch.float32)
    if vectors.ndim == 1:
        vectors = vectors.unsqueeze(0)
    if vectors.ndim != 2:
        raise ValueError(f"`{name}` must have shape ({dim},) or (n, {dim}), got {tuple(vectors.shape)}")
    if vectors.shape[0] == 0:
        raise ValueError(f"`{name}` is an empty batch")
    if vectors.shape[1] != dim:
        raise ValueError(f"`{name}` has dimension {vectors.shape[1]}, but the embedder's sentence vectors have {dim}")
    if not torch.isfinite(vectors).all():
        raise ValueError(
            f"`{name}` contains NaN or infinite values (row {int((~torch.isfinite(vectors)).any(1).nonzero()[0])})"
        )
    wide = vectors.double()  # in float32, the norm of a vector with entries near 1e19 overflows to inf
    norms = wide.norm(dim=1)
    if (norms <= 1e-12).any():
        raise ValueError(f"`{name}` has a zero vector (row {int((norms <= 1e-12).nonzero()[0])}): it has no direction")
    return (wide / norms[:, None]).float()


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}")
    return int(value)


class Reconstructor:
    """Selector + Placer + FAISS over a reconstruction vocabulary, with an encoder as verifier.

    Args:
        embedder: The `TokenEmbedder` whose sentence vectors are the targets (and the summaries).
        selector: A trained `Selector` (its keys are the vocabulary's).
        placer: A trained `Placer`.
        vocabulary: The `ReconstructionVocabulary` the Selector was trained on.
        defaults: Decoding defaults of `reconstruct` (any of `DECODING_DEFAULTS`; a bundle's config's `decoding`
            with `from_bundle`).

    Example:
        ```python
        >>> reconstructor = Reconstructor.from_pretrained("checkpoints/tokenembed-reconstructor-minilm")
        >>> target = reconstructor.embedder.encode_sentences(["The bank raised its rates."])
        >>> reconstructor.reconstruct(target)[0]["text"]
        ```
    """

    def __init__(self, embedder, selector, placer, vocabulary: ReconstructionVocabulary, **defaults):
        if len(vocabulary) != selector.config.num_entries:
            raise ValueError(
                f"the Selector scores {selector.config.num_entries} entries but the vocabulary has {len(vocabulary)}"
            )
        self.embedder = embedder.eval()
        self.selector = selector.eval()
        self.placer = placer.eval()
        self.vocabulary = vocabulary
        self.defaults = {**DECODING_DEFAULTS, **defaults}
        config = VocabIndexConfig(index_type="exact", normalize_queries=False, normalize_vectors=False)
        self.index = VocabIndex.from_vectors(selector.search_keys(), vocabulary.index_entries(), config)  # [q, 1]·keys

    @classmethod
    def from_bundle(cls, bundle: TextReconstructor) -> Reconstructor:
        """Decode a loaded `TextReconstructor` with its config's defaults."""
        vocabulary = ReconstructionVocabulary(
            bundle.surfaces, bundle.counts, bundle.selector.entry_keys, bundle.config.embedder_fingerprint
        )
        return cls(bundle.embedder, bundle.selector, bundle.placer, vocabulary, **bundle.config.decoding)

    @classmethod
    def from_pretrained(cls, path: str, **kwargs) -> Reconstructor:
        """Load a bundle folder or hub repository (`TextReconstructor.from_pretrained`) and decode it."""
        return cls.from_bundle(TextReconstructor.from_pretrained(path, **kwargs))

    def to_bundle(self, **config_kwargs) -> TextReconstructor:
        """This reconstructor's parts as a `TextReconstructor` (`config_kwargs`: its `TextReconstructorConfig`;
        `decoding` defaults to this reconstructor's defaults)."""
        config_kwargs.setdefault("decoding", dict(self.defaults))
        return TextReconstructor.from_components(
            self.embedder, self.selector, self.placer, self.vocabulary, **config_kwargs
        )

    @property
    def sentence_dim(self) -> int:
        return self.embedder.sentence_dim

    # ------------------------------------------------------------------ public
    @torch.inference_mode()
    def reconstruct(
        self,
        vectors: Any,
        num_beams: int | None = None,
        top_k: int | None = None,
        max_steps: int | None = None,
        verifier: bool | None = None,
        return_steps: bool = False,
        *,
        lm_weight: float | None = None,
        patience: int | None = None,
        repair: int | None = None,
        batch_size: int = 32,
        bags: Sequence[Sequence[int]] | None = None,
    ) -> list[dict[str, Any]]:
        """Texts for sentence vectors `(d,)` or `(n, d)` (torch or numpy). Arguments left at `None` take
        `self.defaults`.

        Args:
            vectors: Target sentence vectors (normalised here).
            num_beams: Hypotheses kept per input (1: greedy).
            top_k: FAISS candidates per hypothesis and step.
            max_steps: Most entries written (default: the Placer's longest buffer).
            verifier: Re-embed every expansion and rank by cosine (+ `lm_weight` × mean log-probability); without
                it, hypotheses are ranked by log-probability alone.
            return_steps: Add each text's step trace (entry, slot, score, cosine after the step).
            lm_weight: Weight of the controller's mean log-probability against the cosine (verifier only).
            patience: Steps without a higher cosine (of the input's best hypothesis) before an input stops.
            repair: Passes of "move one entry to another slot if the cosine rises" (never without the verifier).
            batch_size: Inputs decoded together.
            bags: Optional, per input, the multiset of entry ids to write (a perfect Selector: the candidates are
                the entries of the bag not written yet, and the text ends when it is empty). The benchmarks' ceiling.

        Returns:
            One ``{"text", "cosine", "entries"[, "steps"]}`` per input, ``cosine`` being the re-embedded output's
            cosine to the target.
        """
        results = []
        hypotheses = self.hypotheses(
            vectors, num_beams, top_k, max_steps, verifier, lm_weight=lm_weight, patience=patience, repair=repair,
            batch_size=batch_size, bags=bags,
        )  # fmt: skip
        for hypothesis in hypotheses:
            result = {
                "text": self.vocabulary.detokenize(hypothesis.entries),
                "cosine": hypothesis.cosine,
                "entries": [self.vocabulary.surfaces[e] for e in hypothesis.entries],
            }
            if return_steps:
                result["steps"] = [{k: v for k, v in step.items() if k != "summary"} for step in hypothesis.steps]
            results.append(result)
        return results

    @torch.inference_mode()
    def hypotheses(
        self,
        vectors: Any,
        num_beams: int | None = None,
        top_k: int | None = None,
        max_steps: int | None = None,
        verifier: bool | None = None,
        *,
        lm_weight: float | None = None,
        patience: int | None = None,
        repair: int | None = None,
        batch_size: int = 32,
        bags: Sequence[Sequence[int]] | None = None,
    ) -> list[Hypothesis]:
        """`reconstruct`'s decoding, one best `Hypothesis` per input (entry ids, and steps with their summaries:
        what roll-in trains on). The arguments are `reconstruct`'s."""
        targets = check_vectors(vectors, self.sentence_dim)
        given = {"num_beams": num_beams, "top_k": top_k, "max_steps": max_steps, "verifier": verifier,
                 "lm_weight": lm_weight, "patience": patience, "repair": repair}  # fmt: skip
        options = {**self.defaults, **{k: v for k, v in given.items() if v is not None}}
        num_beams, top_k, max_steps, verifier = (options[k] for k in ("num_beams", "top_k", "max_steps", "verifier"))
        lm_weight, patience, repair = options["lm_weight"], options["patience"], options["repair"]
        num_beams = _positive_int(num_beams, "num_beams")
        top_k = _positive_int(top_k, "top_k")
        if top_k > len(self.vocabulary):
            raise ValueError(f"`top_k`={top_k} exceeds the vocabulary ({len(self.vocabulary)} entries)")
        max_steps = _positive_int(max_steps if max_steps is not None else self.placer.config.max_entries, "max_steps")
        max_steps = min(max_steps, self.placer.config.max_entries)
        patience = _positive_int(patience, "patience")
        repair = int(repair) if verifier else 0
        out: list[Hypothesis] = []
        for start in range(0, len(targets), _positive_int(batch_size, "batch_size")):
            chunk = targets[start : start + batch_size]
            chunk_bags = None if bags is None else [list(b) for b in bags[start : start + batch_size]]
            best = self._decode(chunk, num_beams, top_k, max_steps, verifier, lm_weight, patience, chunk_bags)
            if repair:
                best = [self._repair(h, chunk[h.source], repair) for h in best]
            for h in best:
                h.source += start
            out.extend(best)
        return out

    # ------------------------------------------------------------------ decoding
    def _embed(self, buffers: Sequence[list[int]]) -> torch.Tensor:
        return embed_buffers(self.embedder, self.vocabulary, buffers)

    def _inputs(self, hypotheses: list[Hypothesis], targets: torch.Tensor) -> dict[str, torch.Tensor]:
        keys = self.vocabulary.keys
        longest = max(1, max(len(h.entries) for h in hypotheses))
        buffer = torch.zeros((len(hypotheses), longest, keys.shape[1]))
        mask = torch.zeros((len(hypotheses), longest), dtype=torch.bool)
        for row, h in enumerate(hypotheses):
            if h.entries:
                buffer[row, : len(h.entries)] = keys[h.entries]
                mask[row, : len(h.entries)] = True
        return {
            "target": targets[[h.source for h in hypotheses]],
            "summary": torch.stack([h.summary for h in hypotheses]),
            "buffer": buffer,
            "buffer_mask": mask,
            "buffer_mean": buffer.sum(1) / mask.sum(1, keepdim=True).clamp(min=1),
            "buffer_length": mask.sum(1),
        }

    def _actions(self, hypotheses: list[Hypothesis], targets: torch.Tensor, top_k: int, bags=None):
        """Candidates `(H, K)` and action log-probabilities `(H, K * (N + 1) + 1)` (STOP last)."""
        batch = self._inputs(hypotheses, targets)
        intention = self.selector.intention(
            batch["target"], batch["summary"], batch["buffer_mean"], batch["buffer_length"]
        )
        mask = None
        if bags is None:
            queries = torch.cat([intention, torch.ones((len(intention), 1))], dim=-1)
            candidates = torch.from_numpy(self.index.search_ids(queries, k=top_k)[1]).clamp(min=0)
        else:
            candidates, mask = self._bag_candidates(hypotheses, bags, intention, top_k)
        output = self.placer(
            target=batch["target"], summary=batch["summary"], buffer=batch["buffer"], buffer_mask=batch["buffer_mask"],
            candidates=self.vocabulary.keys[candidates], candidate_mask=mask,
        )  # fmt: skip
        log_probs = F.log_softmax(output.logits, dim=-1)
        if mask is not None:  # a perfect Selector: STOP exactly when the bag is empty
            empty = ~mask.any(-1)
            log_probs[empty] = torch.where(torch.arange(log_probs.shape[1]) == log_probs.shape[1] - 1, 0.0, -torch.inf)
            log_probs[~empty, -1] = -torch.inf
        return candidates, log_probs, batch["buffer"].shape[1]

    def _bag_candidates(self, hypotheses, bags, intention, top_k):
        """The entries of each hypothesis' bag not written yet, in the Selector's order (at most `top_k`)."""
        logits = self.selector.log_scale.exp() * intention @ self.vocabulary.keys.T + self.selector.entry_bias
        candidates = torch.zeros((len(hypotheses), top_k), dtype=torch.long)
        mask = torch.zeros((len(hypotheses), top_k), dtype=torch.bool)
        for row, h in enumerate(hypotheses):
            remaining = Counter(bags[h.source]) - Counter(h.entries)
            left = sorted(remaining, key=lambda e: -float(logits[row, e]))[:top_k]
            candidates[row, : len(left)] = torch.tensor(left, dtype=torch.long)
            mask[row, : len(left)] = True
        return candidates, mask

    def _decode(self, targets, num_beams, top_k, max_steps, verifier, lm_weight, patience, bags) -> list[Hypothesis]:
        zero = torch.zeros(self.sentence_dim)
        alive = [Hypothesis(source=i, summary=zero) for i in range(len(targets))]
        finished: list[list[Hypothesis]] = [[] for _ in targets]
        best_cosine = [-1.0] * len(targets)
        stale = [0] * len(targets)
        expand = 2 * num_beams if (verifier and num_beams > 1) else num_beams
        for _ in range(max_steps):
            if not alive:
                break
            candidates, log_probs, longest = self._actions(alive, targets, top_k, bags)
            width = longest + 1
            children: list[Hypothesis] = []
            for row, h in enumerate(alive):
                top = log_probs[row].topk(min(expand, int(torch.isfinite(log_probs[row]).sum()))).indices.tolist()
                for action in top:
                    score = float(log_probs[row, action])
                    if action == log_probs.shape[1] - 1:  # STOP
                        stop = {"action": "stop", "entry": None, "slot": None, "score": score, "cosine": h.cosine,
                                "summary": h.summary}  # fmt: skip
                        children.append(
                            Hypothesis(
                                h.source, h.entries, h.logprob + score, h.summary, h.cosine, True, h.steps + [stop]
                            )
                        )
                        continue
                    column, slot = divmod(action, width)
                    entry = int(candidates[row, column])
                    entries = h.entries[:slot] + [entry] + h.entries[slot:]
                    step = {"action": "insert", "entry": self.vocabulary.surfaces[entry], "slot": slot, "score": score}
                    children.append(
                        Hypothesis(h.source, entries, h.logprob + score, None, 0.0, False, h.steps + [step])
                    )
            fresh = [c for c in children if not c.finished]
            summaries = self._embed([c.entries for c in fresh])
            for c, summary in zip(fresh, summaries):
                c.summary = summary
                c.cosine = float(summary @ targets[c.source])
                c.steps[-1]["cosine"] = c.cosine
                c.steps[-1]["summary"] = summary
            by_source: dict[int, list[Hypothesis]] = {}
            seen: set[tuple] = set()
            for c in children:  # two insertions can give the same text: keep the first (the likelier)
                key = (c.source, c.finished, tuple(c.entries))
                if key not in seen:
                    seen.add(key)
                    by_source.setdefault(c.source, []).append(c)
            alive = []
            for source, group in by_source.items():
                rank = (lambda c: c.score(lm_weight)) if verifier else (lambda c: c.logprob)
                group.sort(key=rank, reverse=True)
                finished[source].extend(c for c in group[:num_beams] if c.finished)
                kept = [c for c in group[:num_beams] if not c.finished]
                top_cosine = max((c.cosine for c in group), default=-1.0)
                stale[source] = 0 if top_cosine > best_cosine[source] + 1e-6 else stale[source] + 1
                best_cosine[source] = max(best_cosine[source], top_cosine)
                if stale[source] >= patience:
                    finished[source].extend(kept)
                    kept = []
                alive.extend(kept)
        for h in alive:
            finished[h.source].append(h)
        rank = (lambda c: c.score(lm_weight)) if verifier else (lambda c: c.logprob)
        return [max(pool, key=rank) if pool else Hypothesis(i, summary=zero) for i, pool in enumerate(finished)]

    def _repair(self, hypothesis: Hypothesis, target: torch.Tensor, passes: int) -> Hypothesis:
        """The verifier's reordering pass (`search.repair_by_moves`), recorded in the trace."""
        entries, cosine, moves = repair_by_moves(
            self.embedder, self.vocabulary, hypothesis.entries, target, hypothesis.cosine, passes
        )
        buffer = list(hypothesis.entries)
        for source, slot, after in moves:
            buffer.insert(slot, buffer.pop(source))
            hypothesis.steps.append(
                {"action": "move", "entry": self.vocabulary.surfaces[buffer[slot]], "from": source, "slot": slot,
                 "score": 0.0, "cosine": after, "summary": None}
            )  # fmt: skip
        hypothesis.entries, hypothesis.cosine = entries, cosine
        return hypothesis
