"""Configuration of the Placer: which candidate to write, and where, or STOP."""

from __future__ import annotations

from transformers import PretrainedConfig

__all__ = ["PlacerConfig"]


class PlacerConfig(PretrainedConfig):
    r"""Configuration for [`Placer`].

    Args:
        sentence_dim (`int`): Size of the target and summary sentence vectors.
        token_dim (`int`): Size of the entry keys (buffer entries and candidates).
        hidden_size (`int`): Width of the transformer.
        num_layers (`int`): Transformer layers.
        num_heads (`int`): Attention heads.
        intermediate_size (`int`): Feed-forward width.
        dropout (`float`): Dropout.
        max_entries (`int`): Longest buffer (entries); positions beyond it are refused.
    """

    model_type = "tokenembed_placer"

    def __init__(
        self,
        sentence_dim: int = 384,
        token_dim: int = 384,
        hidden_size: int = 256,
        num_layers: int = 3,
        num_heads: int = 4,
        intermediate_size: int = 768,
        dropout: float = 0.1,
        max_entries: int = 64,
        **kwargs,
    ):
        for name, value in (
            ("sentence_dim", sentence_dim), ("token_dim", token_dim), ("hidden_size", hidden_size),
            ("num_layers", num_layers), ("num_heads", num_heads), ("intermediate_size", intermediate_size),
            ("max_entries", max_entries),
        ):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}")
        if hidden_size % num_heads:
            raise ValueError(f"`hidden_size`={hidden_size} must be divisible by `num_heads`={num_heads}")
        if not 0 <= dropout < 1:
            raise ValueError(f"`dropout` must be in [0, 1), got {dropout!r}")
        self.sentence_dim = sentence_dim
        self.token_dim = token_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_size = intermediate_size
        self.dropout = dropout
        self.max_entries = max_entries
        super().__init__(**kwargs)
