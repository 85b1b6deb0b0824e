"""Frozen-feature cache: run the frozen bottom encoder layers once, keep their outputs memory-mapped in fp16.

Training then runs only the LoRA layers and the head on top (`TokenEmbedder.forward_from_frozen`), instead of
re-running the whole frozen encoder on the same inputs every epoch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from hf_tokenembed.atomic import written_dir

logger = logging.getLogger(__name__)

__all__ = ["FrozenFeatureCache", "cache_key"]

_FORMAT_VERSION = 2


def cache_key(model, texts: list[str]) -> str:
    """Hash of everything the cached features depend on: the texts, how they are tokenised (tokenizer, prefix,
    `max_seq_length`), which layers are frozen, the pooling of the teacher vectors, and every base weight of the
    backbone (the bottom layers give the states, all layers the teacher; LoRA weights are excluded, they never enter)."""
    config = model.config
    digest = hashlib.sha256()
    settings = [_FORMAT_VERSION, config.backbone, model.frozen_layers, config.query_prefix, config.max_seq_length]
    digest.update(json.dumps([*settings, config.pooling]).encode())
    digest.update(_tokenizer_identity(model.tokenizer).encode())
    for name, tensor in sorted(model.backbone.state_dict().items()):
        if "lora_" not in name:
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def _tokenizer_identity(tokenizer) -> str:
    """The tokenizer's definition (normaliser, pre-tokeniser, vocabulary, added tokens) as a string; its
    truncation and padding state is left out (each call sets it; `max_seq_length` is keyed separately)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        definition = json.loads(backend.to_str())
        return json.dumps({k: v for k, v in definition.items() if k not in ("truncation", "padding")}, sort_keys=True)
    return json.dumps([type(tokenizer).__name__, sorted(tokenizer.get_vocab().items())])


class FrozenFeatureCache:
    """Outputs of the frozen layers for a list of texts, plus each text's raw-backbone sentence vector.

    Files: `states.f16` (all tokens of all texts, `(tokens, hidden)` fp16, memory-mapped), `offsets.npy` (start of
    each text's tokens), `teacher.npy` (`(texts, hidden)` mean-pooled final layer of the backbone
    without LoRA: the distillation target), `meta.json`.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        meta_file = self.path / "meta.json"
        if not meta_file.is_file():
            raise FileNotFoundError(f"`path` {self.path} is not a feature cache (no meta.json)")
        self.meta = json.loads(meta_file.read_text())
        self.offsets = np.load(self.path / "offsets.npy")
        self.teacher = torch.from_numpy(np.load(self.path / "teacher.npy"))
        self.states = np.memmap(
            self.path / "states.f16", dtype=np.float16, mode="r", shape=(int(self.offsets[-1]), self.meta["hidden"])
        )

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def key(self) -> str:
        return self.meta["key"]

    def length(self, index: int) -> int:
        return int(self.offsets[index + 1] - self.offsets[index])

    def batch(self, indices: list[int], device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """Padded `(B, T, hidden)` float32 states and `(B, T)` attention mask of the texts at `indices`."""
        starts = self.offsets[indices]
        lengths = self.offsets[np.asarray(indices) + 1] - starts
        valid = np.arange(lengths.max())[None, :] < lengths[:, None]
        positions = (starts[:, None] + np.arange(lengths.max())[None, :])[valid]
        states = np.zeros((len(indices), lengths.max(), self.meta["hidden"]), dtype=np.float32)
        states[valid] = self.states[positions]
        mask = torch.from_numpy(valid.astype(np.int64))
        return torch.from_numpy(states).to(device), mask.to(device)

    @classmethod
    def build(
        cls,
        model,
        texts: list[str],
        path: str | os.PathLike,
        *,
        batch_size: int = 128,
        progress: bool = True,
    ) -> FrozenFeatureCache:
        """Load the cache at `path` if it matches `model` and `texts`, else compute it (atomically) and load it."""
        if not texts:
            raise ValueError("`texts` is empty: nothing to cache")
        path = Path(path)
        key = cache_key(model, texts)
        try:
            cache = cls(path)
            if cache.key == key:
                logger.info("Feature cache hit: %s", path)
                return cache
        except FileNotFoundError:
            pass
        with written_dir(path) as staging:
            cls._compute(model, texts, staging, key, batch_size, progress)
        return cls(path)

    @staticmethod
    @torch.inference_mode()
    def _compute(model, texts: list[str], folder: Path, key: str, batch_size: int, progress: bool) -> None:
        features = model.tokenize(texts)
        lengths = np.array([len(ids) for ids in features["input_ids"]], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        hidden = model.backbone.config.hidden_size
        states = np.memmap(folder / "states.f16", dtype=np.float16, mode="w+", shape=(int(offsets[-1]), hidden))
        teacher = np.zeros((len(texts), hidden), dtype=np.float32)
        was_training = model.training
        model.eval()
        try:
            with model.adapters_disabled():  # the teacher is the backbone as it was, without LoRA
                order = sorted(range(len(texts)), key=lambda i: -lengths[i])
                for start in tqdm(
                    range(0, len(order), batch_size), desc="Caching frozen features", disable=not progress
                ):
                    indices = order[start : start + batch_size]
                    batch = model.collate(features, indices)
                    output = model.backbone(
                        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True
                    )
                    frozen = output.hidden_states[model.frozen_layers].float().cpu().numpy()
                    pooled = model.pool(output.last_hidden_state, batch["attention_mask"]).float().cpu().numpy()
                    for row, i in enumerate(indices):
                        states[offsets[i] : offsets[i + 1]] = frozen[row, : lengths[i]]
                        teacher[i] = pooled[row]
        finally:
            model.train(was_training)
        states.flush()
        del states
        np.save(folder / "offsets.npy", offsets)
        np.save(folder / "teacher.npy", teacher)
        meta = {"key": key, "hidden": hidden, "texts": len(texts), "frozen_layers": model.frozen_layers}
        (folder / "meta.json").write_text(json.dumps(meta, indent=2))
