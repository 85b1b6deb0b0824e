"""Configuration of the Selector: which entry to write next, as an intention vector in the token space."""

from __future__ import annotations

from transformers import PretrainedConfig

__all__ = ["SelectorConfig"]


class SelectorConfig(PretrainedConfig):
    r"""Configuration for [`Selector`].

    Args:
        sentence_dim (`int`): Size of sentence vectors (the target and the summary of the partial text).
        token_dim (`int`): Size of the entry keys (`TokenEmbedder.encode_words` vectors) and of the intention vector.
        num_entries (`int`): Entries of the reconstruction vocabulary (one learned frequency bias each).
        hidden_size (`int`): Width of the MLP query tower.
        num_layers (`int`): Hidden layers of the query tower (>= 1).
        dropout (`float`): Dropout inside the tower.
        scale (`float`): Initial inverse temperature of the cosine logits (learned).
        max_entries (`int`): Entries of the longest text; the buffer length enters as `length / max_entries`.
    """

    model_type = "tokenembed_selector"

    def __init__(
        self,
        sentence_dim: int = 384,
        token_dim: int = 384,
        num_entries: int = 1,
        hidden_size: int = 1024,
        num_layers: int = 2,
        dropout: float = 0.1,
        scale: float = 20.0,
        max_entries: int = 48,
        **kwargs,
    ):
        for name, value in (
            ("sentence_dim", sentence_dim), ("token_dim", token_dim), ("num_entries", num_entries),
            ("hidden_size", hidden_size), ("num_layers", num_layers), ("max_entries", max_entries),
        ):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"`dropout` must be in [0, 1), got {dropout!r}")
        if not scale > 0:
            raise ValueError(f"`scale` must be > 0, got {scale!r}")
        self.sentence_dim = sentence_dim
        self.token_dim = token_dim
        self.num_entries = num_entries
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.scale = scale
        self.max_entries = max_entries
        super().__init__(**kwargs)
