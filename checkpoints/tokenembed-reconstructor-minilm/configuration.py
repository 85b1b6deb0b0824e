"""Configuration of the TextReconstructor bundle: how to decode, how long a text may be, the checksums of its files."""

from __future__ import annotations

from transformers import PretrainedConfig

__all__ = ["DECODING_DEFAULTS", "TextReconstructorConfig"]

# `Reconstructor.reconstruct`'s defaults (kept in one dict: transformers reserves `num_beams` / `top_k` as
# generation parameters at the top level of a config).
DECODING_DEFAULTS = {
    "num_beams": 4,  # hypotheses kept per input (1: greedy)
    "top_k": 16,  # FAISS candidates per hypothesis and step
    "max_steps": None,  # most entries written (None: the Placer's longest buffer)
    "verifier": True,  # re-embed every expansion and rank by cosine to the target
    "lm_weight": 0.05,  # weight of the controller's mean log-probability against the cosine (verifier)
    "patience": 3,  # steps without a higher cosine before an input stops (greedy and beam)
    "repair": 2,  # passes of the verifier's "move one entry" repair
}
_STORAGE_DTYPES = ("float16", "float32")


class TextReconstructorConfig(PretrainedConfig):
    r"""Configuration for [`TextReconstructor`]: a TokenEmbedder, a Selector and a Placer saved side by side, with the
    entries table of their reconstruction vocabulary.

    Args:
        decoding (`dict`, *optional*): Decoding defaults, any of `DECODING_DEFAULTS`' keys (the rest keep theirs).
        max_words (`int`): Longest input text, in whitespace words; the pipeline truncates longer texts with a warning.
        storage_dtype (`str`): Precision the Selector and Placer weights are stored (and rounded) at.
        files_sha256 (`dict`): SHA-256 of every file of the bundle but `config.json` and `README.md`, checked on load.
        embedder_fingerprint (`str`, *optional*): The TokenEmbedder's `fingerprint()` the vocabulary keys come from.
    """

    model_type = "tokenembed_reconstructor"

    def __init__(
        self,
        decoding: dict | None = None,
        max_words: int = 40,
        storage_dtype: str = "float16",
        files_sha256: dict[str, str] | None = None,
        embedder_fingerprint: str | None = None,
        **kwargs,
    ):
        unknown = sorted(set(decoding or {}) - set(DECODING_DEFAULTS))
        if unknown:
            raise ValueError(f"`decoding` has unknown keys {unknown}; known: {sorted(DECODING_DEFAULTS)}")
        decoding = {**DECODING_DEFAULTS, **(decoding or {})}
        for name in ("num_beams", "top_k", "patience", *(("max_steps",) if decoding["max_steps"] is not None else ())):
            value = decoding[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`decoding['{name}']` must be a positive int, got {value!r}")
        if isinstance(decoding["repair"], bool) or not isinstance(decoding["repair"], int) or decoding["repair"] < 0:
            raise ValueError(f"`decoding['repair']` must be an int >= 0, got {decoding['repair']!r}")
        if not isinstance(decoding["lm_weight"], (int, float)) or decoding["lm_weight"] < 0:
            raise ValueError(f"`decoding['lm_weight']` must be >= 0, got {decoding['lm_weight']!r}")
        if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
            raise ValueError(f"`max_words` must be a positive int, got {max_words!r}")
        if storage_dtype not in _STORAGE_DTYPES:
            raise ValueError(f"`storage_dtype` must be one of {_STORAGE_DTYPES}, got {storage_dtype!r}")
        self.decoding = decoding
        self.max_words = max_words
        self.storage_dtype = storage_dtype
        self.files_sha256 = dict(files_sha256 or {})
        self.embedder_fingerprint = embedder_fingerprint
        super().__init__(**kwargs)
