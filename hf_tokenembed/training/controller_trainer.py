"""`SelectorTrainer` and `PlacerTrainer`: the two controller models, trained by imitation over a shared base.

Both train on `ControllerData` (imitation states with cached target and summary vectors). Each batch is a set of
state ids; the base turns them into model inputs, adds noise to a share of the targets (a target at cosine
0.9–1.0 of the clean vector, so the controller works on vectors no encoder produced exactly), and reports the
held-out state metrics that `evaluate` logs: Selector hit@1/@16 of a missing entry, Placer slot accuracy and
STOP precision / recall. Every random draw depends on the run seed, the step and the state only, and every loss
is a mean over the batch's states, so two processes (half the batch each) train exactly as one does.
"""

from __future__ import annotations

import logging
import math
import os

import datasets
import numpy as np
import torch
import torch.nn.functional as F
from transformers import Trainer

from hf_tokenembed.atomic import write_text

from .arguments import ControllerTrainingArguments
from .controller_data import ControllerData

logger = logging.getLogger(__name__)

__all__ = ["ControllerTrainer", "PlacerTrainer", "SelectorTrainer", "noisy_target"]


def noisy_target(
    target: torch.Tensor, min_cosine: float, rng: np.random.Generator, max_cosine: float = 1.0
) -> torch.Tensor:
    """`target` moved to a random direction at a cosine drawn uniformly from [`min_cosine`, `max_cosine`]."""
    target = F.normalize(target.float(), dim=-1)
    noise = torch.from_numpy(rng.standard_normal(target.shape).astype(np.float32))
    orthogonal = F.normalize(noise - (noise @ target) * target, dim=-1)
    cosine = float(rng.uniform(min_cosine, max_cosine))
    return cosine * target + math.sqrt(1 - cosine**2) * orthogonal


class ControllerTrainer(Trainer):
    """Shared base: state batches, target noise, held-out state metrics, model card.

    Args:
        model: The `Selector` or `Placer` being trained.
        args: `ControllerTrainingArguments`.
        data: Training states.
        eval_data: Held-out states (dev sentences) for `evaluate`.
    """

    def __init__(self, model, args: ControllerTrainingArguments, data: ControllerData, eval_data=None, **kwargs):
        self.data = data
        self.eval_data = eval_data
        super().__init__(
            model=model,
            args=args,
            train_dataset=datasets.Dataset.from_dict({"state": np.arange(len(data.states))}),
            data_collator=lambda rows: {"state": torch.tensor([r["state"] for r in rows])},
            **kwargs,
        )

    # ------------------------------------------------------------------ inputs
    def state_rng(self, state: int) -> np.random.Generator:
        """The random draws of one state at this step: the same whatever process or batch it falls in."""
        return np.random.default_rng([self.args.seed, self.state.global_step, int(state)])

    def state_inputs(self, data: ControllerData, states: np.ndarray, noise: bool = False):
        """Target (with `noise`, noised for a share of the states), summary, buffer keys and lengths."""
        device = self.args.device
        targets = data.targets[[data.states.sentence_of[s] for s in states]].clone()
        if noise and self.args.noise_share > 0:
            for row, state in enumerate(states):
                rng = self.state_rng(state)
                if rng.random() < self.args.noise_share:
                    targets[row] = noisy_target(targets[row], self.args.noise_min_cosine, rng)
        buffers = [data.states.buffers[s] for s in states]
        longest = max(1, max(map(len, buffers)))
        ids = torch.zeros((len(states), longest), dtype=torch.long)
        mask = torch.zeros((len(states), longest), dtype=torch.bool)
        for row, buffer in enumerate(buffers):
            ids[row, : len(buffer)] = torch.tensor(buffer, dtype=torch.long)
            mask[row, : len(buffer)] = True
        keys = data.keys[ids] * mask.unsqueeze(-1)
        return {
            "target": targets.to(device),
            "summary": data.summaries[states].to(device),
            "buffer": keys.to(device),
            "buffer_mask": mask.to(device),
            "buffer_ids": ids,
            "buffer_mean": (keys.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)).to(device),
            "buffer_length": mask.sum(1).to(device),
        }

    # ------------------------------------------------------------------ evaluation
    def state_metrics(self, data: ControllerData) -> dict[str, float]:
        raise NotImplementedError

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        """The held-out state metrics of `eval_data`, logged under `metric_key_prefix`."""
        if self.eval_data is None:
            return {}
        model = self.accelerator.unwrap_model(self.model)
        was_training = model.training
        model.eval()
        with torch.no_grad():
            metrics = {f"{metric_key_prefix}_{k}": v for k, v in self.state_metrics(self.eval_data).items()}
        model.train(was_training)
        self.log(metrics)
        return metrics

    def _batches(self, data: ControllerData, batch_size: int = 512):
        for start in range(0, len(data.states), batch_size):
            yield np.arange(start, min(start + batch_size, len(data.states)))

    # ------------------------------------------------------------------ card
    def create_model_card(self, metrics: dict[str, float] | None = None, **kwargs) -> None:
        """README.md of the trained model (the packaged template), on the main process only."""
        from .model_card import render_controller_card

        if self.is_world_process_zero():
            card = render_controller_card(self.accelerator.unwrap_model(self.model), self.args, metrics or {})
            write_text(os.path.join(self.args.output_dir, "README.md"), card)


class SelectorTrainer(ControllerTrainer):
    """Multiset prediction: the softmax over every entry puts equal mass on each entry still missing (a complete
    text, which has nothing left to select, adds nothing: the Placer learns STOP)."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        states = inputs["state"].cpu().numpy()
        batch = self.state_inputs(self.data, states, noise=True)
        labels = self.missing_counts(self.data, states).to(self.args.device)
        output = model(
            target=batch["target"], summary=batch["summary"], buffer_mean=batch["buffer_mean"],
            buffer_length=batch["buffer_length"], labels=labels,
        )  # fmt: skip
        return (output.loss, output) if return_outputs else output.loss

    def missing_counts(self, data: ControllerData, states: np.ndarray) -> torch.Tensor:
        """`(B, entries)` counts of each state's missing entries."""
        labels = torch.zeros((len(states), len(data.keys)))
        for row, s in enumerate(states):
            for entry in data.states.missing(s):
                labels[row, entry] += 1
        return labels

    def state_metrics(self, data: ControllerData) -> dict[str, float]:
        """hit@1 / hit@16: the top entry (any of the top 16) is one the text still misses."""
        model = self.accelerator.unwrap_model(self.model)
        hits = {1: 0, 16: 0}
        total = 0
        for states in self._batches(data):
            states = np.array([s for s in states if data.states.missing(s)])
            if not len(states):
                continue
            batch = self.state_inputs(data, states)
            logits = model(
                target=batch["target"], summary=batch["summary"], buffer_mean=batch["buffer_mean"],
                buffer_length=batch["buffer_length"],
            ).logits  # fmt: skip
            top = logits.topk(16, dim=-1).indices.cpu().numpy()
            for row, s in enumerate(states):
                missing = set(data.states.missing(s))
                hits[1] += top[row, 0] in missing
                hits[16] += bool(missing & set(top[row].tolist()))
            total += len(states)
        return {"selector_hit@1": hits[1] / total, "selector_hit@16": hits[16] / total, "selector_states": total}


class PlacerTrainer(ControllerTrainer):
    """Insertion imitation: soft targets over every valid (candidate, slot) pair, STOP for a complete text.

    Candidates are what the decoder will see: the trained Selector's top `top_k` entries. A state whose candidates
    hold no missing entry gets one in place of its last candidate, so every incomplete state teaches a placement.

    Args:
        selector: The trained, frozen `Selector`.
    """

    def __init__(self, model, args: ControllerTrainingArguments, data: ControllerData, selector, **kwargs):
        self.selector = selector.eval().requires_grad_(False)
        super().__init__(model, args, data, **kwargs)

    def candidates(self, batch: dict, states: np.ndarray, data: ControllerData, force: bool = False) -> torch.Tensor:
        """`(B, top_k)` candidate entry ids: the Selector's best; with `force`, a missing entry replaces the last
        candidate of a state whose candidates hold none."""
        with torch.no_grad():
            logits = self.selector.to(batch["target"].device)(
                target=batch["target"], summary=batch["summary"], buffer_mean=batch["buffer_mean"],
                buffer_length=batch["buffer_length"],
            ).logits  # fmt: skip
        ids = logits.topk(self.args.top_k, dim=-1).indices.cpu()
        if force:
            for row, s in enumerate(states):
                missing = data.states.missing(s)
                if missing and not set(missing) & set(ids[row].tolist()):
                    ids[row, -1] = int(self.state_rng(s).choice(missing))
        return ids

    def action_labels(self, data: ControllerData, states: np.ndarray, candidates: torch.Tensor, length: int):
        """`(B, K * (length + 1) + 1)` uniform mass over each state's valid actions (STOP last)."""
        k = candidates.shape[1]
        labels = torch.zeros((len(states), k * (length + 1) + 1))
        for row, s in enumerate(states):
            slots = data.states.slots(s)
            if not slots:
                labels[row, -1] = 1.0
                continue
            where = {}
            for column, entry in enumerate(candidates[row].tolist()):
                where.setdefault(entry, column)
            for entry, slot in slots:
                if entry in where:
                    labels[row, where[entry] * (length + 1) + slot] = 1.0
        return labels

    def _forward(self, model, data: ControllerData, states: np.ndarray, train: bool = False):
        batch = self.state_inputs(data, states, noise=train)
        candidates = self.candidates(batch, states, data, force=train)
        labels = self.action_labels(data, states, candidates, batch["buffer"].shape[1]) if train else None
        output = model(
            target=batch["target"], summary=batch["summary"], buffer=batch["buffer"], buffer_mask=batch["buffer_mask"],
            candidates=data.keys[candidates].to(batch["target"].device),
            labels=None if labels is None else labels.to(batch["target"].device),
        )  # fmt: skip
        return output, candidates, batch["buffer"].shape[1]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        output, _, _ = self._forward(model, self.data, inputs["state"].cpu().numpy(), train=True)
        return (output.loss, output) if return_outputs else output.loss

    def state_metrics(self, data: ControllerData) -> dict[str, float]:
        """Slot accuracy (a missing candidate's best slot is a right one; baseline: always the end) and STOP
        precision / recall (STOP as the top action; positive: the text is complete)."""
        model = self.accelerator.unwrap_model(self.model)
        slot_right = slot_total = end_right = 0
        stop_tp = stop_fp = stop_fn = 0
        for states in self._batches(data):
            output, candidates, length = self._forward(model, data, states)
            action = output.action_logits.cpu()
            best = output.logits.argmax(-1).cpu()
            for row, s in enumerate(states):
                slots = data.states.slots(s)
                complete = not slots
                predicted_stop = int(best[row]) == output.logits.shape[1] - 1
                stop_tp += complete and predicted_stop
                stop_fp += predicted_stop and not complete
                stop_fn += complete and not predicted_stop
                valid: dict[int, set[int]] = {}
                for entry, slot in slots:
                    valid.setdefault(entry, set()).add(slot)
                n = len(data.states.buffers[s])
                for column, entry in enumerate(candidates[row].tolist()):
                    if entry in valid:
                        slot_total += 1
                        slot_right += int(action[row, column, : n + 1].argmax()) in valid[entry]
                        end_right += n in valid[entry]
        nan = float("nan")
        return {
            "placer_slot_accuracy": slot_right / slot_total if slot_total else nan,
            "placer_slot_accuracy_append_baseline": end_right / slot_total if slot_total else nan,
            "placer_stop_precision": stop_tp / (stop_tp + stop_fp) if stop_tp + stop_fp else nan,
            "placer_stop_recall": stop_tp / (stop_tp + stop_fn) if stop_tp + stop_fn else nan,
        }
