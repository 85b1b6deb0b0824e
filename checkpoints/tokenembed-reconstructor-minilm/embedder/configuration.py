"""Configuration of the TokenEmbedder: backbone, LoRA on the top encoder layers, MLP token head."""

from __future__ import annotations

from transformers import PretrainedConfig

try:  # the plugin knows per-family conventions; without it (hub remote code) the saved values are used
    from hf_tokenembed.backbones import family_of
except ImportError:  # pragma: no cover - exercised by the trust_remote_code test in a subprocess
    family_of = None

__all__ = ["TokenEmbedderConfig"]

_POOLINGS = ("mean", "cls")
_SAVE_MODES = ("full", "compact")


class TokenEmbedderConfig(PretrainedConfig):
    r"""Configuration for [`TokenEmbedder`].

    Args:
        backbone (`str`): Hub name or local path of a BERT- or MPNet-family encoder loaded through `AutoModel`.
        backbone_config (`dict`, *optional*): The backbone's own config. Set when the backbone's weights live in this
            checkpoint (full save); `None` means "load the pretrained backbone by name".
        pooling (`str`, *optional*): `"mean"` or `"cls"`; `None` takes the backbone family's convention.
        query_prefix (`str`, *optional*): Prefix for words, contexts and sentences (E5: `"query: "`); `None` takes the
            family's convention.
        passage_prefix (`str`, *optional*): Prefix for passages (E5: `"passage: "`); `None` takes the family's.
        lora_layers (`int`): LoRA is added to the top `lora_layers` encoder layers; 0 keeps the backbone frozen.
        lora_rank (`int`), lora_alpha (`int`), lora_dropout (`float`): The LoRA hyper-parameters.
        lora_target_modules (`list[str]`, *optional*): Linear layers inside each targeted encoder layer; `None` takes
            the backbone architecture's attention projections (BERT: query/key/value; MPNet: q/k/v), filled in when
            the model is built.
        head_dims (`list[int]`, *optional*): `[hidden, out]` of the two-layer MLP head
            (Linear → GELU → LayerNorm → Linear); `None` = `[backbone hidden, backbone hidden]`; `[]` = no head, the
            raw backbone's pooled space.
        max_seq_length (`int`): Token limit of one input.
        save_mode (`str`): `"full"` saves every weight (what the hub expects); `"compact"` saves LoRA and head only
            and references the backbone by name.
    """

    model_type = "token_embedder"

    def __init__(
        self,
        backbone: str = "sentence-transformers/all-MiniLM-L6-v2",
        backbone_config: dict | None = None,
        pooling: str | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        lora_layers: int = 2,
        lora_rank: int = 8,
        lora_alpha: int = 16,
        lora_dropout: float = 0.0,
        lora_target_modules: list[str] | None = None,
        head_dims: list[int] | None = None,
        max_seq_length: int = 128,
        save_mode: str = "full",
        **kwargs,
    ):
        if not isinstance(backbone, str) or not backbone.strip():
            raise ValueError(f"`backbone` must be a non-empty string, got {backbone!r}")
        family = family_of(backbone) if family_of is not None else None
        pooling = pooling if pooling is not None else (family.pooling if family else "mean")
        if pooling not in _POOLINGS:
            raise ValueError(f"`pooling` must be one of {_POOLINGS}, got {pooling!r}")
        if not isinstance(lora_layers, int) or lora_layers < 0:
            raise ValueError(f"`lora_layers` must be an int >= 0, got {lora_layers!r}")
        if lora_rank < 1:
            raise ValueError(f"`lora_rank` must be >= 1, got {lora_rank!r}")
        if head_dims is not None and (len(head_dims) not in (0, 2) or any(int(d) < 1 for d in head_dims)):
            raise ValueError(f"`head_dims` must be [] or [hidden, out] with positive sizes, got {head_dims!r}")
        if save_mode not in _SAVE_MODES:
            raise ValueError(f"`save_mode` must be one of {_SAVE_MODES}, got {save_mode!r}")
        self.backbone = backbone
        self.backbone_config = backbone_config
        self.pooling = pooling
        self.query_prefix = query_prefix if query_prefix is not None else (family.query_prefix if family else "")
        self.passage_prefix = (
            passage_prefix if passage_prefix is not None else (family.passage_prefix if family else "")
        )
        self.lora_layers = lora_layers
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.lora_dropout = lora_dropout
        self.lora_target_modules = list(lora_target_modules) if lora_target_modules else None
        self.head_dims = None if head_dims is None else [int(d) for d in head_dims]
        self.max_seq_length = max_seq_length
        self.save_mode = save_mode
        super().__init__(**kwargs)
