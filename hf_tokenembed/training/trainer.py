"""`TokenHeadTrainer`: stage 1, trains LoRA + the token head on frozen-feature caches."""

from __future__ import annotations

import logging
import os
from typing import NamedTuple

import datasets
import numpy as np
import torch
import torch.nn.functional as F
from transformers import Trainer

from hf_tokenembed.atomic import write_text
from hf_tokenembed.losses import (
    ContextAlignmentLoss,
    GeometryDistillationLoss,
    GlossMatchingLoss,
    HardNegativeMiner,
    MultiNegativeRankingLoss,
    OrderAwareSentenceLoss,
    SynonymAwareContrastiveLoss,
)

from .arguments import TokenHeadTrainingArguments
from .callbacks import HardNegativeRefreshCallback
from .distributed import gather_batch, share_rows, shares
from .examples import Stage1Examples
from .feature_cache import FrozenFeatureCache
from .original_recipe import OriginalRecipeLoss
from .sampling import MicroBatchSeeder

logger = logging.getLogger(__name__)

__all__ = ["TokenHeadTrainer"]

_CHUNK_TOKENS = 2048  # padded tokens per forward pass: rows sorted by length, so padding stays small


class Embedded(NamedTuple):
    """Trainable-layer outputs of cache rows: token-space `embeddings` and `pooled` (over the span when one is
    given), and `sentence`, the model's own pooling of the whole text (before the head)."""

    embeddings: torch.Tensor
    pooled: torch.Tensor
    sentence: torch.Tensor


class TokenHeadTrainer(Trainer):
    """Trains a `TokenEmbedder`'s LoRA layers and head from a `FrozenFeatureCache` of its frozen layers.

    Each step takes a batch of word occurrences (a word type and one corpus sentence it occurs in) and a few
    sentences with word-order copies, embeds them from the cache, and sums the named loss parts (each is logged):
    `ranking` (type → its occurrence, in-batch + mined hard negatives; a candidate that is the anchor's variant or
    synonym, or that the raw backbone finds about as close as the positive (GISTEmbed), is masked), `context`
    (occurrence → its type entry), `synonyms` (soft targets over variants and synonyms for the types that have a
    partner, plus a batch of WordNet synonym pairs outside the evaluation sets), `senses` (a WordNet example use →
    its own sense's gloss context, against the word's other senses; or, with ``sense_loss="gloss_matching"``, its
    sense's gloss tower against its lemma's other senses only), `word_geometry` (the cosines among the
    step's word, phrase and sentence vectors in the token space kept to the raw backbone's, the
    `word_distill_skip_top` most frequent words left free), `order` + `distill`
    (order-aware sentence vectors that keep the backbone's geometry; the occurrences' sentences join the
    distillation). `recipe="original"` trains the old objective instead (see `OriginalRecipeLoss`).
    """

    def __init__(
        self,
        model,
        args: TokenHeadTrainingArguments,
        examples: Stage1Examples,
        cache: FrozenFeatureCache,
        **kwargs,
    ):
        if args.encoder_dropout is not None:
            for module in model.backbone.modules():
                if isinstance(module, torch.nn.Dropout):
                    module.p = args.encoder_dropout
        texts = examples.texts_to_cache()
        if len(texts) != len(cache):
            raise ValueError(f"`cache` holds {len(cache)} texts but the examples need {len(texts)}; rebuild it")
        row = {text: i for i, text in enumerate(texts)}
        self.examples = examples
        self.cache = cache
        self.type_rows = np.array([row[t] for t in examples.types])
        self.context_rows = np.array([row[c] for c in examples.contexts])
        # A partner that tokenizes like its word ("rock'n'roll" / "rock 'n' roll") gets the very same vector: it is
        # no second view, so it is never drawn as a positive (it stays masked as a negative through `partners`).
        token_ids = _token_ids(model, examples.types)
        self.positive_partners = [
            [p for p in partners if token_ids[p] != token_ids[t]] for t, partners in enumerate(examples.partners)
        ]
        distinct = [token_ids[a] != token_ids[b] for a, b in examples.synonym_pairs]
        self.synonym_pairs = examples.synonym_pairs[np.array(distinct, dtype=bool).reshape(-1)]
        self.sentence_rows = np.array(
            [[row[s], *(row[c] for c in copies)] for s, copies in zip(examples.sentences, examples.perturbed)]
        )
        if args.recipe == "default" and len(self.sentence_rows) < args.order_batch_size:
            raise ValueError(
                f"`order_batch_size`={args.order_batch_size} exceeds the {len(self.sentence_rows)} sentences"
            )
        occ = examples.occurrences
        self.span_masks = _span_masks(model, [examples.contexts[c] for c in occ[:, 0]], occ[:, 1:3])
        uses = examples.sense_uses
        self.sense_use_rows = np.array([row[examples.sense_examples[u]] for u in uses[:, 0]], dtype=np.int64)
        self.sense_use_masks = _span_masks(model, [examples.sense_examples[u] for u in uses[:, 0]], uses[:, 1:3])
        self.gloss_rows = np.array([row[g] for g in examples.glosses], dtype=np.int64)
        # Nor is a gloss that only repeats its phrase ("capital of Vanuatu": "capital of Vanuatu"): that pair is left out.
        real_gloss = np.array(
            [p != g for p, g in zip(_token_ids(model, examples.phrases), _token_ids(model, examples.phrase_glosses))],
            dtype=bool,
        )
        self.phrase_rows = np.array([row[p] for p in examples.phrases], dtype=np.int64)[real_gloss]
        self.phrase_gloss_rows = np.array([row[g] for g in examples.phrase_glosses], dtype=np.int64)[real_gloss]
        self.gloss_masks = _span_masks(model, examples.glosses, examples.gloss_spans)
        if args.sense_loss == "gloss_matching":
            self._index_gloss_towers(model, row)
        k = args.num_hard_negatives if args.recipe == "default" else 1
        if k >= len(examples.types):
            raise ValueError(f"`num_hard_negatives`={k} must be smaller than the vocabulary ({len(examples.types)})")
        steps_per_refresh = args.refresh_negatives_steps
        if args.max_steps > 0:
            steps_per_refresh = min(steps_per_refresh, args.max_steps)
        anchors_per_refresh = steps_per_refresh * args.per_device_train_batch_size * args.gradient_accumulation_steps
        most_excluded = 0 if args.recipe == "original" else max(map(len, examples.partners))
        self.miner = HardNegativeMiner(
            k,
            refresh_every=args.refresh_negatives_steps,
            precompute_depth=k + 2 + most_excluded if anchors_per_refresh >= len(examples.types) else 0,
        )
        if args.recipe == "default":
            self.losses = {
                "ranking": MultiNegativeRankingLoss(
                    model, scale=args.scale, false_negative_margin=args.false_negative_margin
                ),
                "context": ContextAlignmentLoss(model, scale=args.scale),
                "synonyms": SynonymAwareContrastiveLoss(
                    model, scale=args.scale, synonym_share=args.synonym_share, related_share=args.related_share
                ),
                "senses": (
                    GlossMatchingLoss(model, scale=args.scale)
                    if args.sense_loss == "gloss_matching"
                    else ContextAlignmentLoss(model, scale=args.scale)
                ),
                "order": OrderAwareSentenceLoss(
                    model, scale=args.scale, distill_weight=args.distill_weight, pull_weight=args.pull_weight
                ),
            }
            if len(self.phrase_rows):
                self.losses["phrase_glosses"] = MultiNegativeRankingLoss(
                    model, scale=args.scale, false_negative_margin=args.false_negative_margin
                )
            if args.word_distill_weight > 0 or args.word_neighbour_weight > 0:
                self.losses["word_geometry"] = GeometryDistillationLoss(
                    model, weight=args.word_distill_weight, neighbour_weight=args.word_neighbour_weight,
                    temperature=args.word_neighbour_temperature,
                )  # fmt: skip
        else:
            self.losses = {"original": OriginalRecipeLoss(model, orthogonality_weight=args.orthogonality_weight)}
        train_dataset = datasets.Dataset.from_dict({"occurrence": np.arange(len(occ))})
        callbacks = [*kwargs.pop("callbacks", []), HardNegativeRefreshCallback(self.miner, self.encode_types)]
        super().__init__(
            model=model,
            args=args,
            train_dataset=train_dataset,
            data_collator=lambda rows: {"occurrence": torch.tensor([r["occurrence"] for r in rows])},
            callbacks=callbacks,
            **kwargs,
        )
        self._loss_parts: dict[str, list[float]] = {}
        self._seeder = MicroBatchSeeder()
        self.guide_occurrences = None
        if args.recipe == "default" and args.false_negative_margin is not None:
            self.guide_occurrences = self._raw_occurrence_vectors(model)

    # ------------------------------------------------------------------------------------------------ embedding
    def _embed(self, model, rows: np.ndarray, span_masks: list[list[int]] | None = None) -> Embedded:
        """Embed cache rows through the trainable layers (`span_masks` pools only those tokens for `embeddings` and
        `pooled`). Rows run in chunks of similar length, so little compute goes to padding."""
        device = self.args.device
        unwrapped = self.accelerator.unwrap_model(model) if hasattr(self, "accelerator") else model
        lengths = np.array([self.cache.length(r) for r in rows])
        order = np.argsort(lengths, kind="stable")
        parts = []
        for chunk in _chunks(order, lengths[order], _CHUNK_TOKENS):
            states, mask = self.cache.batch(rows[chunk].tolist(), device)
            span = None
            if span_masks is not None:
                span = torch.zeros_like(mask)
                for i, row in enumerate(chunk):
                    span[i, : len(span_masks[row])] = torch.tensor(span_masks[row], device=device)
            output = model(frozen_states=states, attention_mask=mask, span_mask=span)
            sentence = output.pooled if span is None else unwrapped.pool(output.last_hidden_state, mask)
            parts.append((output.embeddings, output.pooled, sentence))
        inverse = torch.from_numpy(np.argsort(order, kind="stable")).to(device)
        embeddings, pooled, sentence = (torch.cat([p[k] for p in parts])[inverse] for k in range(3))
        return Embedded(embeddings, pooled, sentence)

    def _embed_step(self, model, rows: np.ndarray, span_masks: list[list[int]] | None = None) -> Embedded:
        """`_embed` of rows of this step's loss. With several processes each embeds its share of the rows and the
        shares are exchanged (`training.distributed`); fewer rows than processes are embedded by every process."""
        world, rank = self.args.world_size, self.args.process_index
        if world == 1 or len(rows) < world:
            return self._embed(model, rows, span_masks)
        parts = shares(len(rows), world)
        mine = parts[rank]
        local = self._embed(model, rows[mine], None if span_masks is None else [span_masks[i] for i in mine])
        counts = [len(part) for part in parts]
        return Embedded(*(share_rows(tensor, counts, rank) for tensor in local))

    def embed_sentences(self, model, rows: np.ndarray):
        """The model's output for a step's cache rows and their sentence vectors, pooled as `encode_sentences` pools
        them."""
        output = self._embed_step(model, rows)
        return output, F.normalize(output.sentence, dim=-1)

    @torch.no_grad()
    def _raw_occurrence_vectors(self, model) -> torch.Tensor:
        """`(occurrences, hidden)`: the raw backbone's vector of each occurrence in its context (LoRA off, no head),
        the guide space in which the ranking loss judges whether a candidate is really a negative."""
        occ = self.examples.occurrences
        out = torch.empty((len(occ), model.backbone.config.hidden_size))
        was_training = model.training
        model.eval()
        with model.adapters_disabled():
            for start in range(0, len(occ), 256):
                chunk = np.arange(start, min(start + 256, len(occ)))
                output = self._embed(model, self.context_rows[occ[chunk, 0]], [self.span_masks[i] for i in chunk])
                out[chunk] = output.pooled.float().cpu()
        model.train(was_training)
        return out

    @torch.no_grad()
    def encode_types(self) -> torch.Tensor:
        """Current vectors of every word type (for hard-negative mining)."""
        model = self.accelerator.unwrap_model(self.model) if hasattr(self, "accelerator") else self.model
        was_training = model.training
        model.eval()
        order = np.argsort([self.cache.length(r) for r in self.type_rows])
        out = torch.empty((len(order), model.token_dim))
        for start in range(0, len(order), 1024):
            chunk = order[start : start + 1024]
            out[chunk] = self._embed(model, self.type_rows[chunk]).embeddings.float().cpu()
        model.train(was_training)
        return out

    # ------------------------------------------------------------------------------------------------ loss
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        occurrences = gather_batch(inputs["occurrence"], self.args.world_size).cpu().numpy()  # the whole step's
        rng = self._batch_rng()
        rows = self.examples.occurrences[occurrences]
        types = rows[:, 3]
        spans = [self.span_masks[i] for i in occurrences]
        if self.args.recipe == "original":
            return self._original_loss(model, types, return_outputs)
        partners = self._draw_partners(types, rng)
        has_partner = partners >= 0
        negatives = self.miner.mine(
            torch.from_numpy(types), torch.from_numpy(partners), [set(self.examples.partners[t]) for t in types]
        ).numpy()
        pairs = self._synonym_pairs(rng)
        b, k, s = len(types), negatives.shape[1], len(pairs)
        short = np.concatenate([types, negatives.reshape(-1), partners[has_partner], pairs[:, 0], pairs[:, 1]])
        short_vectors = self._embed_step(model, self.type_rows[short]).embeddings
        anchor, negative = short_vectors[:b], short_vectors[b : b + b * k]
        partner = short_vectors[b + b * k : len(short) - 2 * s]
        pair_vectors = short_vectors[len(short) - 2 * s :]
        order_rows = self.sentence_rows[rng.choice(len(self.sentence_rows), self.args.order_batch_size, replace=False)]
        context_output = self._embed_step(model, self.context_rows[rows[:, 0]], spans)
        order_output, sentences = self.embed_sentences(model, order_rows.reshape(-1))
        context = context_output.embeddings
        sentences = sentences.view(len(order_rows), -1, sentences.shape[-1])
        teacher = F.normalize(self.cache.teacher[order_rows[:, 0]].to(sentences.device), dim=-1)
        context_sentences = context_output.sentence
        context_teacher = self.cache.teacher[self.context_rows[rows[:, 0]]].to(sentences.device)

        device = anchor.device
        # Ranking candidates are the B contexts (each stands for its word), then the negatives column by column.
        candidate_types = np.concatenate([types, negatives.T.reshape(-1)])
        guide = None
        if self.guide_occurrences is not None:
            type_guide = self.cache.teacher[self.type_rows[candidate_types]].to(device)  # raw backbone vectors
            guide = [type_guide[:b], self.guide_occurrences[occurrences].to(device), *type_guide[b:].view(k, b, -1)]
        parts = {
            "ranking": self.losses["ranking"].compute_loss_from_embeddings(
                [anchor, context, *negative.view(b, k, -1).unbind(1)],
                labels=torch.from_numpy(self.examples.groups[types]).to(device),
                candidate_labels=torch.from_numpy(self.examples.groups[candidate_types]).to(device),
                false_negative_mask=self.partner_mask(types, candidate_types).to(device),
                guide_embeddings=guide,
            ),
            "context": self.losses["context"].compute_loss_from_embeddings(
                context,
                anchor,
                torch.from_numpy(types).to(device),
                extra_entries=negative,
                extra_entry_ids=torch.from_numpy(negatives.reshape(-1)).to(device),
            ),
        }
        if has_partner.any() or s:
            relations = self._relations(
                np.concatenate([types[has_partner], pairs[:, 0]]), np.concatenate([partners[has_partner], pairs[:, 1]])
            )
            parts["synonyms"] = self.losses["synonyms"].compute_loss_from_embeddings(
                [
                    torch.cat([anchor[torch.from_numpy(has_partner).to(device)], pair_vectors[:s]]),
                    torch.cat([partner, pair_vectors[s:]]),
                ],
                relations.to(device),
            )
        gloss_rows, glosses = np.zeros(0, dtype=np.int64), short_vectors[:0]
        if self.args.sense_loss == "gloss_matching" and len(self.matchable_uses):
            parts["senses"], gloss_rows, glosses = self._gloss_matching_loss(model, rng)
        elif self.args.sense_loss == "alignment" and len(self.sense_use_rows):
            parts["senses"], gloss_rows, glosses = self._sense_loss(model, rng)
        phrase_rows, phrases = np.zeros(0, dtype=np.int64), short_vectors[:0]
        if "phrase_glosses" in self.losses:
            parts["phrase_glosses"], phrase_rows, phrases = self._phrase_gloss_loss(model, rng)
        if "word_geometry" in self.losses:  # the step's words, phrases, sentences and definitions, token space
            natural = order_output.embeddings.view(len(order_rows), -1, anchor.shape[-1])[:, 0]
            kept = short >= min(self.args.word_distill_skip_top, self.examples.num_words)  # frequency-ordered ids
            rows_used = np.concatenate([self.type_rows[short[kept]], order_rows[:, 0], gloss_rows, phrase_rows])
            parts["word_geometry"] = self.losses["word_geometry"].compute_loss_from_embeddings(
                torch.cat([short_vectors[torch.from_numpy(kept).to(device)], natural, glosses, phrases]),
                self.cache.teacher[rows_used].to(device),
            )
        order = self.losses["order"].compute_loss_from_embeddings(
            sentences[:, 0],
            sentences[:, 1:],
            positive=teacher if self.args.order_positive == "teacher" else None,
            teacher_anchor=teacher,
            extra_anchor=F.normalize(context_sentences, dim=-1),
            extra_teacher=F.normalize(context_teacher, dim=-1),
        )
        parts["order"], parts["distill"] = order["contrastive"], order["distill"]  # distill already weighted
        weights = {
            "ranking": self.args.ranking_weight, "context": self.args.context_weight,
            "synonyms": self.args.synonym_weight, "senses": self.args.sense_weight, "order": self.args.order_weight,
            "phrase_glosses": self.args.phrase_gloss_weight,
            "distill": 1.0, "word_geometry": 1.0,  # both already weighted by their own `*_weight`
        }  # fmt: skip
        loss = sum(weights[name] * value for name, value in parts.items())
        self._track(parts)
        return (loss, {"loss": loss}) if return_outputs else loss

    def _batch_rng(self) -> np.random.Generator:
        """This micro-batch's sampler (see `MicroBatchSeeder`)."""
        return self._seeder.rng(self.args.seed, self.state.global_step)

    def _draw_partners(self, types: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One partner (variant or synonym) per type, drawn at random; -1 for a type without any (its row then
        stays out of the synonym loss: a word is never its own positive, nor a partner that tokenizes like it)."""
        return np.array([rng.choice(self.positive_partners[t]) if self.positive_partners[t] else -1 for t in types])

    def partner_mask(self, anchor_types: np.ndarray, candidate_types: np.ndarray) -> torch.Tensor:
        """`(B, C)` bool: candidate `j` is a known variant or synonym of anchor `i`'s word, so not its negative."""
        partners = [set(self.examples.partners[t]) for t in anchor_types]
        return torch.tensor([[int(c) in p for c in candidate_types] for p in partners], dtype=torch.bool)

    def _synonym_pairs(self, rng: np.random.Generator) -> np.ndarray:
        """`(S, 2)` WordNet synonym pairs for this step, each in a random direction (none without pairs)."""
        pairs = self.synonym_pairs
        picked = pairs[rng.choice(len(pairs), min(self.args.synonym_batch_size, len(pairs)), replace=False)]
        flip = rng.random(len(picked)) < 0.5
        picked[flip] = picked[flip, ::-1]
        return picked

    def _sense_loss(self, model, rng: np.random.Generator):
        """A batch of WordNet example uses, each to retrieve its sense's gloss context among the words' senses.

        Returns the loss, and the glosses' cache rows with their token-space vectors as whole texts (definitions,
        which the word-geometry distillation keeps where the raw backbone puts them relative to words)."""
        uses = self.examples.sense_uses
        batch = rng.choice(len(uses), min(self.args.sense_batch_size, len(uses)), replace=False)
        senses = uses[batch, 3]
        siblings = sorted({s for sense in senses for s in self.examples.sense_siblings[sense]} - set(senses.tolist()))
        glosses = np.concatenate([senses, np.array(siblings, dtype=np.int64)])
        rows = np.concatenate([self.sense_use_rows[batch], self.gloss_rows[glosses]])
        masks = [self.sense_use_masks[i] for i in batch] + [self.gloss_masks[g] for g in glosses]
        output = self._embed_step(model, rows, masks)
        vectors = output.embeddings
        b = len(batch)
        device = vectors.device
        loss = self.losses["senses"].compute_loss_from_embeddings(
            vectors[:b],
            vectors[b : 2 * b],
            torch.from_numpy(senses).to(device),
            extra_entries=vectors[2 * b :] if siblings else None,
            extra_entry_ids=torch.tensor(siblings, device=device) if siblings else None,
        )
        whole = self.accelerator.unwrap_model(model).project(output.sentence[b:])  # the glosses as whole texts
        return loss, self.gloss_rows[glosses], whole

    def _index_gloss_towers(self, model, row: dict[str, int]) -> None:
        """Cache rows of every sense's gloss-tower parts, and the uses whose lemma has two senses or more."""
        ex = self.examples
        if len(ex.gloss_texts) != len(ex.glosses):
            raise ValueError('`sense_loss="gloss_matching"` needs examples built with `gloss_towers=True`')
        self.gloss_text_rows = np.array([row[t] for t in ex.gloss_texts], dtype=np.int64)
        self.synonym_rows = [np.array([row[w] for w in words], dtype=np.int64) for words in ex.sense_synonyms]
        with_hypernym = [i for i, text in enumerate(ex.hypernym_glosses) if text]
        self.hypernym_rows = np.full(len(ex.glosses), -1, dtype=np.int64)
        self.hypernym_rows[with_hypernym] = [row[ex.hypernym_glosses[i]] for i in with_hypernym]
        masks = _span_masks(
            model, [ex.hypernym_glosses[i] for i in with_hypernym], [ex.gloss_spans[i] for i in with_hypernym]
        )
        self.hypernym_masks = dict(zip(with_hypernym, masks))
        by_group: dict[int, list[int]] = {}
        for sense, group in enumerate(ex.sense_groups.tolist()):
            by_group.setdefault(group, []).append(sense)
        self.group_senses = {g: np.array(senses, dtype=np.int64) for g, senses in by_group.items()}
        sizes = np.array([len(self.group_senses[g]) for g in ex.sense_groups[ex.sense_uses[:, 3]]])
        self.matchable_uses = np.flatnonzero(sizes >= 2)

    def _gloss_towers(self, model, senses: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """`(len(senses), d)` gloss towers (the renormalised sum of the normalised parts, as `index.SenseSources`
        combines them without examples), and the gloss texts' own vectors."""
        has_hypernym = self.hypernym_rows[senses] >= 0
        hypernyms = senses[has_hypernym]
        masks = [self.gloss_masks[s] for s in senses] + [self.hypernym_masks[s] for s in hypernyms]
        in_context = self._embed_step(
            model, np.concatenate([self.gloss_rows[senses], self.hypernym_rows[hypernyms]]), masks
        )
        synonym_rows = [self.synonym_rows[s] for s in senses]
        owners = torch.from_numpy(np.repeat(np.arange(len(senses)), [len(r) for r in synonym_rows]))
        words = self._embed_step(model, np.concatenate([self.gloss_text_rows[senses], *synonym_rows])).embeddings
        n = len(senses)
        gloss_context, hypernym = F.normalize(in_context.embeddings, dim=-1).split([n, len(hypernyms)])
        gloss_text, synonyms = words[:n], words[n:]
        device = gloss_text.device
        total = gloss_context + F.normalize(gloss_text, dim=-1)
        total = total.index_add(0, torch.from_numpy(np.flatnonzero(has_hypernym)).to(device), hypernym)
        synonym_sums = torch.zeros_like(total).index_add(0, owners.to(device), synonyms)
        return F.normalize(total + F.normalize(synonym_sums, dim=-1), dim=-1), gloss_text

    def _gloss_matching_loss(self, model, rng: np.random.Generator):
        """A batch of WordNet example uses, each to pick its sense's gloss tower among its lemma's senses (BEM).

        Returns the loss, and the gloss texts' cache rows with their token-space vectors (for the word-geometry
        distillation, as `_sense_loss` returns its glosses)."""
        pool = self.matchable_uses
        batch = pool[rng.choice(len(pool), min(self.args.sense_batch_size, len(pool)), replace=False)]
        gold_senses = self.examples.sense_uses[batch, 3]
        groups = self.examples.sense_groups[gold_senses]
        senses = np.concatenate([self.group_senses[g] for g in dict.fromkeys(groups.tolist())])
        towers, gloss_text = self._gloss_towers(model, senses)
        queries = self._embed_step(
            model, self.sense_use_rows[batch], [self.sense_use_masks[i] for i in batch]
        ).embeddings
        device = queries.device
        position = {int(s): i for i, s in enumerate(senses)}
        gold = torch.tensor([position[int(s)] for s in gold_senses], device=device)
        candidates = torch.from_numpy(groups[:, None] == self.examples.sense_groups[senses][None, :]).to(device)
        loss = self.losses["senses"].compute_loss_from_embeddings(queries, towers, gold, candidates)
        return loss, self.gloss_text_rows[senses], gloss_text

    def _phrase_gloss_loss(self, model, rng: np.random.Generator):
        """A batch of WordNet phrases, each to retrieve its own gloss among the batch's glosses (another sense of
        the same phrase, or the same gloss under a synonym, is not a negative; the raw backbone guides the margin).

        Returns the loss, and the phrases' and glosses' cache rows with their token-space vectors (they join the
        word-geometry distillation)."""
        picked = rng.choice(
            len(self.phrase_rows), min(self.args.phrase_gloss_batch_size, len(self.phrase_rows)), replace=False
        )
        rows = np.concatenate([self.phrase_rows[picked], self.phrase_gloss_rows[picked]])
        vectors = self._embed_step(model, rows).embeddings
        phrases, glosses = vectors.split(len(picked))
        device = vectors.device
        same_phrase = self.phrase_rows[picked][:, None] == self.phrase_rows[picked][None, :]
        same_gloss = self.phrase_gloss_rows[picked][:, None] == self.phrase_gloss_rows[picked][None, :]
        related = torch.from_numpy((same_phrase | same_gloss) & ~np.eye(len(picked), dtype=bool)).to(device)
        guide = list(self.cache.teacher[rows].to(device).split(len(picked)))
        loss = self.losses["phrase_glosses"].compute_loss_from_embeddings(
            [phrases, glosses], false_negative_mask=related, guide_embeddings=guide
        )
        return loss, rows, vectors

    def _original_loss(self, model, types: np.ndarray, return_outputs: bool):
        nearest = self.miner.mine(torch.from_numpy(types), torch.from_numpy(types)).numpy()[:, 0]
        anchor, negative = self._embed_step(model, self.type_rows[np.concatenate([types, nearest])]).embeddings.chunk(
            2
        )
        unwrapped = self.accelerator.unwrap_model(model)
        parts = self.losses["original"].compute_loss_from_embeddings(anchor, negative, unwrapped.head)
        self._track(parts)
        return (parts["loss"], {"loss": parts["loss"]}) if return_outputs else parts["loss"]

    def _relations(self, types: np.ndarray, partners: np.ndarray) -> torch.Tensor:
        """`(B, B)`: 2 own positive, 1 synonym, 0.5 variant (same group), 0 unrelated — for the soft targets."""
        groups = self.examples.groups
        relation = torch.zeros((len(types), len(types)))
        for i, t in enumerate(types):
            synonyms = self.examples.synonyms[t]
            for j, p in enumerate(partners):
                if i == j:
                    relation[i, j] = 2.0
                elif p == t or p in synonyms:
                    relation[i, j] = 1.0
                elif groups[p] == groups[t]:
                    relation[i, j] = 0.5
        return relation

    # ------------------------------------------------------------------------------------------------ logging
    def _track(self, parts: dict[str, torch.Tensor]) -> None:
        for name, value in parts.items():
            if name != "loss":
                self._loss_parts.setdefault(name, []).append(float(value.detach()))

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        """Add the mean of each loss part since the last log."""
        if "loss" in logs and self._loss_parts:
            logs.update({f"loss_{name}": round(float(np.mean(v)), 4) for name, v in self._loss_parts.items()})
            self._loss_parts = {}
        super().log(logs, *args, **kwargs)

    # ------------------------------------------------------------------------------------------------ schedule
    def create_scheduler(self, num_training_steps: int, optimizer=None):
        """The original recipe sized its cosine schedule in micro-steps but stepped it per optimizer step."""
        if self.args.recipe == "original":
            num_training_steps *= self.args.gradient_accumulation_steps
        return super().create_scheduler(num_training_steps, optimizer)

    # ------------------------------------------------------------------------------------------------ card
    def create_model_card(self, metrics: dict[str, float] | None = None, baselines: dict | None = None, **kwargs):
        """Write README.md (rendered from the packaged template) into `output_dir`, on the main process only."""
        from .model_card import render_model_card

        if not self.is_world_process_zero():
            return
        card = render_model_card(self.accelerator.unwrap_model(self.model), self.args, self.losses, metrics, baselines)
        write_text(os.path.join(self.args.output_dir, "README.md"), card)


def _chunks(order: np.ndarray, sorted_lengths: np.ndarray, budget: int) -> list[np.ndarray]:
    """Consecutive pieces of `order` (sorted by length) of at most `budget` padded tokens each (one row at least)."""
    pieces, start = [], 0
    for end in range(1, len(order) + 1):
        if end == len(order) or (end + 1 - start) * sorted_lengths[end] > budget:
            pieces.append(order[start:end])
            start = end
    return pieces


def _token_ids(model, texts: list[str]) -> list[tuple[int, ...]]:
    """Each text's token ids (no special tokens): texts with the same ids get the same vector."""
    return [tuple(ids) for ids in model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]] if texts else []


def _span_masks(model, texts: list[str], spans) -> list[list[int]]:
    """Per text, the token mask of its `(start, end)` character span (none for no texts)."""
    if not texts:
        return []
    return model.tokenize(texts, [(int(start), int(end)) for start, end in spans])["span_mask"]
