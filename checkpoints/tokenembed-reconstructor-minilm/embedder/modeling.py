"""TokenEmbedder: an encoder with LoRA on its top layers and an MLP token head.

This file imports only torch, transformers, peft and its siblings, so `save_pretrained` can copy it next to the
weights and `AutoModel.from_pretrained(folder, trust_remote_code=True)` works without the plugin installed.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from huggingface_hub.utils.sha import sha_fileobj
from torch import nn
from tqdm.auto import tqdm
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedModel
from transformers.utils import ModelOutput, cached_file

from .configuration import TokenEmbedderConfig

try:  # the plugin maps hub names to packaged offline copies; without it names go to the hub as they are
    from hf_tokenembed.backbones import resolve_backbone_path
except ImportError:  # pragma: no cover - exercised by the trust_remote_code test in a subprocess

    def resolve_backbone_path(backbone: str) -> str:
        return backbone


__all__ = ["TokenEmbedder", "TokenEmbedderOutput", "TokenEmbedderPreTrainedModel", "TokenHead"]

COMPACT_WEIGHTS_NAME = "token_embedder.safetensors"
CHECKSUMS_NAME = "weights_sha256.json"  # the SHA-256 of each weights file, checked when a local folder loads
_PROGRESS_MIN_BATCHES = 8
_LORA_TARGETS = {"bert": ("query", "key", "value"), "mpnet": ("q", "k", "v")}  # attention projections, by model_type
_NOT_FINGERPRINTED = (
    "transformers_version",
    "_name_or_path",
    "save_mode",
    "architectures",
    "auto_map",
    "dtype",
    "torch_dtype",
)  # how a model is stored, not what it is (each weight's dtype is hashed with it)


@dataclass
class TokenEmbedderOutput(ModelOutput):
    """Output of [`TokenEmbedder.forward`].

    Args:
        embeddings: `(batch, token_dim)` L2-normalised head output of the pooled tokens.
        pooled: `(batch, hidden)` pooled backbone output (before the head, not normalised).
        last_hidden_state: `(batch, seq, hidden)` backbone hidden states.
    """

    embeddings: torch.FloatTensor | None = None
    pooled: torch.FloatTensor | None = None
    last_hidden_state: torch.FloatTensor | None = None


class TokenHead(nn.Module):
    """The two-layer MLP token head: Linear → GELU → LayerNorm → Linear."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int):
        super().__init__()
        self.dense = nn.Linear(in_dim, hidden_dim)
        self.activation = nn.GELU()
        self.norm = nn.LayerNorm(hidden_dim)
        self.out = nn.Linear(hidden_dim, out_dim)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.out(self.norm(self.activation(self.dense(pooled))))


class TokenEmbedderPreTrainedModel(PreTrainedModel):
    """Weight initialisation and loading shared by TokenEmbedder variants."""

    config_class = TokenEmbedderConfig
    base_model_prefix = "backbone"
    supports_gradient_checkpointing = True

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, TokenHead):
            for layer in (module.dense, module.out):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
            nn.init.ones_(module.norm.weight)
            nn.init.zeros_(module.norm.bias)


class TokenEmbedder(TokenEmbedderPreTrainedModel):
    """Word, phrase, word-in-context and sentence vectors from one encoder.

    Example:
        ```python
        >>> from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig
        >>> model = TokenEmbedder(TokenEmbedderConfig(backbone="sentence-transformers/all-MiniLM-L6-v2"))
        >>> model.encode_words(["bank", "red herring"]).shape
        torch.Size([2, 384])
        >>> model.encode_in_context(["We sat on the river bank."], spans=[(20, 24)]).shape
        torch.Size([1, 384])
        ```
    """

    def __init__(self, config: TokenEmbedderConfig):
        config = copy.deepcopy(config)  # the backbone's config is filled in below: never the caller's object
        super().__init__(config)
        if config.backbone_config is None:
            source = resolve_backbone_path(config.backbone)
            self.backbone = AutoModel.from_pretrained(source, add_pooling_layer=False)
            config.backbone_config = self.backbone.config.to_dict()
            self._tokenizer_source = source
        else:
            backbone_config = AutoConfig.for_model(**config.backbone_config)
            self.backbone = AutoModel.from_config(backbone_config, add_pooling_layer=False)
            self._tokenizer_source = None
        hidden = self.backbone.config.hidden_size
        head_dims = config.head_dims if config.head_dims is not None else [hidden, hidden]
        self.head = TokenHead(hidden, head_dims[0], head_dims[1]) if head_dims else None
        if config.lora_target_modules is None:
            config.lora_target_modules = list(
                _LORA_TARGETS.get(self.backbone.config.model_type, _LORA_TARGETS["bert"])
            )
        self._tokenizer = None
        self.post_init()
        self._add_lora()

    # ----------------------------------------------------------------------------------------------- structure
    def _add_lora(self) -> None:
        """LoRA on the top `lora_layers` encoder layers; everything else in the backbone stays frozen."""
        self.backbone.requires_grad_(False)
        n_layers = self.backbone.config.num_hidden_layers
        if self.config.lora_layers > n_layers:
            raise ValueError(f"`lora_layers`={self.config.lora_layers} exceeds the backbone's {n_layers} layers")
        if self.config.lora_layers == 0:
            return
        from peft import LoraConfig, inject_adapter_in_model

        lora_config = LoraConfig(
            r=self.config.lora_rank,
            lora_alpha=self.config.lora_alpha,
            lora_dropout=self.config.lora_dropout,
            target_modules=self.config.lora_target_modules,
            layers_to_transform=list(range(n_layers - self.config.lora_layers, n_layers)),
            layers_pattern="layer",
        )
        inject_adapter_in_model(lora_config, self.backbone)
        for name, param in self.backbone.named_parameters():
            param.requires_grad_("lora_" in name)

    @contextlib.contextmanager
    def adapters_disabled(self) -> Iterator[None]:
        """Inside the block the model computes as its raw backbone would (LoRA off); the head is untouched."""
        from peft.tuners.tuners_utils import BaseTunerLayer

        layers = [m for m in self.backbone.modules() if isinstance(m, BaseTunerLayer)]
        for layer in layers:
            layer.enable_adapters(False)
        try:
            yield
        finally:
            for layer in layers:
                layer.enable_adapters(True)

    @property
    def token_dim(self) -> int:
        """Size of word / in-context vectors."""
        return self.head.out.out_features if self.head is not None else self.backbone.config.hidden_size

    @property
    def sentence_dim(self) -> int:
        """Size of sentence vectors."""
        return self.backbone.config.hidden_size

    @property
    def tokenizer(self):
        """The backbone's tokenizer, loaded on first use."""
        if self._tokenizer is None:
            source = self._tokenizer_source or resolve_backbone_path(self.config.backbone)
            self._tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        return self._tokenizer

    @tokenizer.setter
    def tokenizer(self, tokenizer) -> None:
        self._tokenizer = tokenizer

    # ----------------------------------------------------------------------------------------------- forward
    def pool(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pool `hidden` over `mask` (mean) or take the first token (cls)."""
        if self.config.pooling == "cls":
            return hidden[:, 0]
        return _masked_mean(hidden, mask)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        span_mask: torch.Tensor | None = None,
        frozen_states: torch.Tensor | None = None,
        return_dict: bool | None = None,
    ) -> TokenEmbedderOutput | tuple:
        """Embed a batch. With `span_mask`, mean-pool only the tokens it marks (a word in context).

        With `frozen_states` (cached outputs of the `frozen_layers` bottom layers) instead of `input_ids`, only the
        trainable top layers and the head run.
        """
        if (input_ids is None) == (frozen_states is None):
            raise ValueError("pass exactly one of `input_ids` and `frozen_states`")
        if attention_mask is None:
            inputs = frozen_states if input_ids is None else input_ids
            attention_mask = torch.ones(inputs.shape[:2], dtype=torch.long, device=inputs.device)
        if frozen_states is not None:
            output = self.forward_from_frozen(frozen_states, attention_mask.to(frozen_states.device), span_mask)
        else:
            hidden = self.backbone(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            output = self._pool_and_project(hidden, attention_mask, span_mask)
        return output if return_dict is not False else output.to_tuple()

    @property
    def frozen_layers(self) -> int:
        """Number of bottom encoder layers that never train (their outputs can be cached)."""
        return self.backbone.config.num_hidden_layers - self.config.lora_layers

    def forward_from_frozen(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor,
        span_mask: torch.Tensor | None = None,
    ) -> TokenEmbedderOutput:
        """Finish a forward pass from the cached output of the frozen bottom layers (`frozen_layers`)."""
        from transformers.masking_utils import create_bidirectional_mask

        mask = create_bidirectional_mask(
            config=self.backbone.config, inputs_embeds=hidden_states, attention_mask=attention_mask
        )
        encoder = self.backbone.encoder
        shared = {}
        if hasattr(encoder, "compute_position_bias"):  # MPNet: one relative-position bias for every layer
            shared["position_bias"] = encoder.compute_position_bias(hidden_states)
        for layer in encoder.layer[self.frozen_layers :]:
            output = layer(hidden_states, mask, **shared)
            hidden_states = output[0] if isinstance(output, tuple) else output
        return self._pool_and_project(hidden_states, attention_mask, span_mask)

    def _pool_and_project(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, span_mask: torch.Tensor | None
    ) -> TokenEmbedderOutput:
        pooled = _masked_mean(hidden, span_mask) if span_mask is not None else self.pool(hidden, attention_mask)
        return TokenEmbedderOutput(embeddings=self.project(pooled), pooled=pooled, last_hidden_state=hidden)

    def project(self, pooled: torch.Tensor) -> torch.Tensor:
        """Token-space vectors (the head, then L2 normalisation) of pooled backbone outputs."""
        return F.normalize(self.head(pooled) if self.head is not None else pooled, dim=-1)

    # ----------------------------------------------------------------------------------------------- encoding
    def encode_words(
        self, words: Sequence[str], batch_size: int = 256, show_progress_bar: bool | None = None
    ) -> torch.Tensor:
        """Vectors of isolated words and multi-word expressions: `(len(words), token_dim)`, L2-normalised."""
        words = _check_texts(words, "words")
        return self._encode(words, None, batch_size, show_progress_bar, use_head=True)

    def encode_in_context(
        self,
        sentences: Sequence[str],
        spans: Sequence[tuple[int, int]],
        batch_size: int = 64,
        show_progress_bar: bool | None = None,
    ) -> torch.Tensor:
        """Vectors of the words at character `spans` of `sentences`: `(len(sentences), token_dim)`, L2-normalised."""
        sentences = _check_texts(sentences, "sentences")
        spans = _check_spans(spans, sentences)
        return self._encode(sentences, spans, batch_size, show_progress_bar, use_head=True)

    def encode_sentences(
        self, sentences: Sequence[str], batch_size: int = 64, show_progress_bar: bool | None = None
    ) -> torch.Tensor:
        """Sentence vectors (pooled backbone output): `(len(sentences), sentence_dim)`, L2-normalised."""
        sentences = _check_texts(sentences, "sentences")
        return self._encode(sentences, None, batch_size, show_progress_bar, use_head=False)

    def tokenize(self, texts: list[str], spans: list[tuple[int, int]] | None = None) -> dict[str, list]:
        """Tokenise with the configured prefix; with `spans`, also return each text's span token mask."""
        prefix = self.config.query_prefix
        encoded = self.tokenizer(
            [prefix + text for text in texts],
            truncation=True,
            max_length=self.config.max_seq_length,
            return_offsets_mapping=spans is not None,
            return_token_type_ids=False,
            return_attention_mask=False,
        )
        features = {"input_ids": encoded["input_ids"]}
        if spans is not None:
            features["span_mask"] = [
                _span_token_mask(offsets, start + len(prefix), end + len(prefix), index)
                for index, (offsets, (start, end)) in enumerate(zip(encoded["offset_mapping"], spans))
            ]
        return features

    def collate(self, features: dict[str, list], indices: Sequence[int]) -> dict[str, torch.Tensor]:
        """Pad the examples at `indices` into one batch on the model's device."""
        rows = [features["input_ids"][i] for i in indices]
        width = max(len(row) for row in rows)
        input_ids = torch.full((len(rows), width), self.tokenizer.pad_token_id or 0, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for row_index, row in enumerate(rows):
            input_ids[row_index, : len(row)] = torch.tensor(row)
            attention_mask[row_index, : len(row)] = 1
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "span_mask" in features:
            span_mask = torch.zeros((len(rows), width), dtype=torch.long)
            for row_index, i in enumerate(indices):
                span_mask[row_index, : len(features["span_mask"][i])] = torch.tensor(features["span_mask"][i])
            batch["span_mask"] = span_mask
        return {name: tensor.to(self.device) for name, tensor in batch.items()}

    @torch.inference_mode()
    def _encode(
        self,
        texts: list[str],
        spans: list[tuple[int, int]] | None,
        batch_size: int,
        show_progress_bar: bool | None,
        use_head: bool,
    ) -> torch.Tensor:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
        dim = self.token_dim if use_head else self.sentence_dim
        if not texts:
            return torch.empty((0, dim))
        features = self.tokenize(texts, spans)
        order = sorted(range(len(texts)), key=lambda i: -len(features["input_ids"][i]))
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        if show_progress_bar is None:
            show_progress_bar = len(batches) >= _PROGRESS_MIN_BATCHES
        was_training = self.training
        self.eval()
        out = torch.empty((len(texts), dim))
        for indices in tqdm(batches, desc="Encoding", disable=not show_progress_bar):
            batch = self.collate(features, indices)
            output = self(**batch, return_dict=True)
            vectors = output.embeddings if use_head else F.normalize(output.pooled, dim=-1)
            out[indices] = vectors.float().cpu()
        self.train(was_training)
        return out

    # ----------------------------------------------------------------------------------------------- identity
    def fingerprint(self) -> str:
        """A stable hash of the config and every weight: two models with equal fingerprints give equal vectors."""
        digest = hashlib.sha256()
        config = {k: v for k, v in self.config.to_dict().items() if k not in _NOT_FINGERPRINTED}
        config["backbone_config"] = {
            k: v for k, v in self.backbone.config.to_dict().items() if k not in _NOT_FINGERPRINTED
        }
        digest.update(json.dumps(config, sort_keys=True, default=str).encode())
        for name, tensor in sorted(self.state_dict().items()):
            digest.update(f"{name}:{tensor.dtype}".encode())
            digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
        return digest.hexdigest()[:16]

    # ----------------------------------------------------------------------------------------------- saving
    def compact_state_dict(self) -> dict[str, torch.Tensor]:
        """LoRA and head weights only: what a compact checkpoint stores."""
        return {
            name: tensor for name, tensor in self.state_dict().items() if "lora_" in name or name.startswith("head.")
        }

    def save_pretrained(self, save_directory: str | os.PathLike, *args, save_mode: str | None = None, **kwargs):
        """Save config, weights (safetensors) and tokenizer; files are written to a temporary folder, then moved.

        Args:
            save_directory: Target folder.
            save_mode: `"full"` (default: every weight) or `"compact"` (LoRA + head; backbone by name).
        """
        save_mode = save_mode or self.config.save_mode
        if save_mode not in ("full", "compact"):
            raise ValueError(f"`save_mode` must be 'full' or 'compact', got {save_mode!r}")
        if kwargs.get("safe_serialization") is False:
            raise ValueError("TokenEmbedder saves weights as safetensors only (`safe_serialization` must be True)")
        save_directory = os.fspath(save_directory)
        if os.path.isfile(save_directory):
            raise ValueError(f"`save_directory` {save_directory!r} is a file, not a folder")
        parent = os.path.dirname(os.path.abspath(save_directory))
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".tmp-save-", dir=parent)
        try:
            if save_mode == "full":
                super().save_pretrained(staging, *args, **kwargs)
            else:
                self._save_compact(staging)
            self.tokenizer.save_pretrained(staging)
            _write_checksums(staging)
            _move_files(staging, save_directory)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _save_compact(self, folder: str) -> None:
        from safetensors.torch import save_file
        from transformers.dynamic_module_utils import custom_object_save

        config = self.config.to_dict()
        config.update(backbone_config=None, save_mode="compact")
        config["architectures"] = [type(self).__name__]
        if self._auto_class is not None:  # the model's and the config's code, both named in auto_map
            custom_object_save(self, folder, config=self.config)
            if self.config._auto_class is not None:
                custom_object_save(self.config, folder, config=self.config)
            config["auto_map"] = self.config.to_dict().get("auto_map")
        with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2, sort_keys=True)
        tensors = {name: t.detach().cpu().contiguous() for name, t in self.compact_state_dict().items()}
        save_file(tensors, os.path.join(folder, COMPACT_WEIGHTS_NAME), metadata={"format": "pt"})

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *model_args, **kwargs):
        """Load a full or compact checkpoint; the tokenizer comes from the same folder."""
        path = os.fspath(pretrained_model_name_or_path)
        if reads_as_local_path(path) and not os.path.isdir(os.path.expanduser(path)):
            raise FileNotFoundError(f"no model folder at {path} (save one with save_pretrained, or name a hub repo)")
        if os.path.isdir(path):
            _verify_checksums(path)
        config = kwargs.pop("config", None)
        hub_kwargs = {k: kwargs[k] for k in ("revision", "token", "cache_dir", "local_files_only") if k in kwargs}
        if not isinstance(config, TokenEmbedderConfig):
            config = TokenEmbedderConfig.from_pretrained(path, **hub_kwargs)
        if config.save_mode == "compact" and config.backbone_config is None:
            model = cls(config)
            weights = cached_file(path, COMPACT_WEIGHTS_NAME, **hub_kwargs)
            from safetensors.torch import load_file

            missing, unexpected = model.load_state_dict(load_file(weights), strict=False)
            expected = set(model.compact_state_dict())
            if unexpected or expected & set(missing):
                raise ValueError(
                    f"{path!r} does not match this config: missing {sorted(expected & set(missing))[:5]}, "
                    f"unexpected {unexpected[:5]}"
                )
        else:
            kwargs.setdefault("use_safetensors", True)  # never unpickle weights
            model = super().from_pretrained(path, *model_args, config=config, **kwargs)
        model._tokenizer_source = path
        model._tokenizer = None
        return model

    # ----------------------------------------------------------------------------------------------- interop
    def merged_backbone(self) -> PreTrainedModel:
        """A copy of the backbone with the LoRA updates merged into its weights: a plain encoder any loader reads."""
        from peft.tuners.tuners_utils import BaseTunerLayer

        backbone = copy.deepcopy(self.backbone)
        for name, module in list(backbone.named_modules()):
            if isinstance(module, BaseTunerLayer):
                module.merge()
                parent, _, child = name.rpartition(".")
                setattr(backbone.get_submodule(parent), child, module.get_base_layer())
        return backbone.requires_grad_(True)

    def to_sentence_transformer(self, space: str = "sentence", merge_lora: bool = True):
        """This model as a `SentenceTransformer` whose `encode` gives `encode_sentences` or `encode_words` vectors.

        Args:
            space: `"sentence"`: backbone → pooling → normalise, exactly `encode_sentences`; `"token"`: backbone →
                pooling → token head → normalise, exactly `encode_words` (and the space the token losses train). Where
                both are wanted, export one model per space.
            merge_lora: `True` (for saving and serving): the LoRA updates are merged into a copy of the backbone, so
                `SentenceTransformer(saved_path)` loads it without peft or this plugin. `False` (for training with
                `SentenceTransformerTrainer`): the modules share this model's parameters, LoRA layers included, so
                training the SentenceTransformer trains this model; save it with `save_pretrained` here.
        """
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.models import Dense, LayerNorm, Normalize, Pooling, Transformer

        if space not in ("sentence", "token"):
            raise ValueError(f"`space` must be 'sentence' or 'token', got {space!r}")
        source = self._tokenizer_source or resolve_backbone_path(self.config.backbone)
        transformer = Transformer(source, max_seq_length=self.config.max_seq_length)
        transformer.model = self.merged_backbone() if merge_lora else self.backbone
        transformer.processor = self.tokenizer
        modules = [transformer, Pooling(self.sentence_dim, pooling_mode=self.config.pooling)]
        if space == "token" and self.head is not None:
            head = copy.deepcopy(self.head) if merge_lora else self.head
            hidden, out = head.dense.out_features, head.out.out_features
            dense = Dense(self.sentence_dim, hidden, activation_function=nn.GELU())
            dense.linear = head.dense
            norm = LayerNorm(hidden)
            norm.norm = head.norm
            projection = Dense(hidden, out, activation_function=None)
            projection.linear = head.out
            modules += [dense, norm, projection]
        modules.append(Normalize())
        prompts = {"query": self.config.query_prefix, "passage": self.config.passage_prefix}
        return SentenceTransformer(
            modules=modules, device=str(self.device), prompts=prompts, default_prompt_name="query"
        )


# --------------------------------------------------------------------------------------------------- helpers
def _masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `hidden` `(B, T, H)` over the positions where `mask` `(B, T)` is set."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def _check_texts(texts: Sequence[str], name: str) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"`{name}` must be a list of strings, got {type(texts).__name__}")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"`{name}[{i}]` must be a string, got {type(text).__name__}")
        if not text.strip():
            raise ValueError(f"`{name}[{i}]` is empty or whitespace-only")
    return list(texts)


def _check_spans(spans: Sequence[tuple[int, int]], sentences: list[str]) -> list[tuple[int, int]]:
    if isinstance(spans, str) or not isinstance(spans, Sequence):
        raise TypeError(f"`spans` must be a list of (start, end) pairs, got {type(spans).__name__}")
    if len(spans) != len(sentences):
        raise ValueError(f"`spans` has {len(spans)} entries for {len(sentences)} sentences")
    checked = []
    for i, (span, sentence) in enumerate(zip(spans, sentences)):
        if not isinstance(span, Sequence) or len(span) != 2 or not all(isinstance(v, int) for v in span):
            raise TypeError(f"`spans[{i}]` must be a (start, end) pair of ints, got {span!r}")
        start, end = span
        if not 0 <= start < end <= len(sentence):
            raise ValueError(f"`spans[{i}]`={span!r} is empty or outside its sentence of {len(sentence)} characters")
        if not sentence[start:end].strip():
            raise ValueError(f"`spans[{i}]`={span!r} covers only whitespace")
        checked.append((start, end))
    return checked


def _span_token_mask(offsets: list[tuple[int, int]], start: int, end: int, index: int) -> list[int]:
    mask = [int(s < end and e > start and e > s) for s, e in offsets]
    if not any(mask):
        raise ValueError(f"`spans[{index}]` falls beyond the model's `max_seq_length` tokens; shorten the sentence")
    return mask


def _move_files(staging: str, target: str) -> None:
    """Move every file of `staging` into `target`, each by an atomic rename, config.json last."""
    os.makedirs(target, exist_ok=True)
    names = sorted(os.listdir(staging), key=lambda n: n == "config.json")
    for name in names:
        os.replace(os.path.join(staging, name), os.path.join(target, name))


def _write_checksums(folder: str) -> None:
    weights = sorted(n for n in os.listdir(folder) if n.endswith(".safetensors"))
    checksums = {name: _sha256(os.path.join(folder, name)) for name in weights}
    with open(os.path.join(folder, CHECKSUMS_NAME), "w", encoding="utf-8") as f:
        json.dump(checksums, f, indent=2)


def _verify_checksums(folder: str) -> None:
    """Each weights file of a saved folder matches its recorded SHA-256 (folders saved before checksums pass)."""
    listing = os.path.join(folder, CHECKSUMS_NAME)
    if not os.path.isfile(listing):
        return
    with open(listing, encoding="utf-8") as f:
        checksums = json.load(f)
    for name, expected in checksums.items():
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"the model folder {folder} is missing {name} (save or download it again)")
        if _sha256(path) != expected:
            raise ValueError(
                f"{path} does not match its checksum in {CHECKSUMS_NAME}: the file is corrupted or truncated "
                "(save or download it again)"
            )


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return sha_fileobj(f).hex()


def reads_as_local_path(name: str) -> bool:
    """Whether `name` can only be a local path: a hub repo id is "name" or "namespace/name"."""
    return os.path.isabs(name) or name.startswith((".", "~")) or name.count("/") > 1
