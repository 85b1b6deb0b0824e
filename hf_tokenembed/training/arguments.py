"""`TrainingArguments` of the stage-1 (token head) run."""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import TrainingArguments

from hf_tokenembed.data.eval_sets import EVAL_SPLITS

__all__ = ["RECIPES", "ControllerTrainingArguments", "TokenHeadTrainingArguments"]

RECIPES = ("default", "original")
ORDER_POSITIVES = ("teacher", "detached")
SENSE_LOSSES = ("alignment", "gloss_matching")


@dataclass
class TokenHeadTrainingArguments(TrainingArguments):
    """Stage-1 arguments: the model, the data, the objectives and the cache, on top of `TrainingArguments`."""

    data_dir: str = field(default="runs/data", metadata={"help": "Data folder (built by `hf-tokenembed data build`)."})
    corpus: str = field(default="bbc-news", metadata={"help": "Corpus used to build `data_dir` if it is missing."})
    backbone: str = field(
        default="sentence-transformers/all-MiniLM-L6-v2",
        metadata={"help": "Encoder, e.g. intfloat/e5-base-v2 (hub) or the packaged MiniLM (offline default)."},
    )
    recipe: str = field(
        default="default", metadata={"help": "`default` (this project's objectives) or `original` (the old recipe)."}
    )
    lora_layers: int = field(default=2, metadata={"help": "LoRA on the top N encoder layers (0 = frozen)."})
    lora_rank: int = field(default=8)
    lora_alpha: int = field(default=16)
    head_dims: list[int] = field(default_factory=list, metadata={"help": "[hidden, out]; empty = backbone size."})
    encoder_dropout: float | None = field(
        default=0.0,
        metadata={
            "help": "Dropout in the encoder while training (None: the backbone's own). Off by default: a sentence and "
            "its word-order copies, or the pairs the distillation compares, would otherwise differ by dropout noise."
        },
    )
    pooling: str | None = field(default=None, metadata={"help": "mean or cls; default: the backbone family's."})
    cache_dir: str | None = field(
        default=None, metadata={"help": "Frozen-feature cache folder (default: <output_dir>/feature_cache)."}
    )
    max_contexts: int = field(default=8000, metadata={"help": "Training sentences used as word contexts."})
    occurrences_per_context: int = field(
        default=3, metadata={"help": "Word occurrences trained per context sentence (its rarest words first)."}
    )
    uniform_occurrences: int = field(
        default=0,
        metadata={"help": "How many of them are drawn at random from the sentence's other words (frequent ones too)."},
    )
    max_words: int | None = field(default=None, metadata={"help": "Most frequent vocabulary words kept (None: all)."})
    order_sentences: int = field(default=1000, metadata={"help": "Sentences for the order-aware loss."})
    order_batch_size: int = field(default=16, metadata={"help": "Order-loss sentences per step."})
    perturbations: int = field(default=5, metadata={"help": "Word-order copies per sentence."})
    swaps: int = field(default=1, metadata={"help": "How many of the copies are two-word swaps (the rest shuffles)."})
    max_synonym_pairs: int = field(
        default=30000, metadata={"help": "WordNet synonym pairs (no evaluation word in them) to train on; 0: none."}
    )
    synonym_batch_size: int = field(default=64, metadata={"help": "WordNet synonym pairs per step."})
    max_phrase_glosses: int = field(
        default=0,
        metadata={"help": "WordNet (multi-word lemma, gloss) pairs, none of the MWE<->gloss evaluation's; 0: none."},
    )
    phrase_gloss_batch_size: int = field(
        default=32,
        metadata={
            "help": "Phrase-gloss pairs per step: each phrase retrieves its own gloss among the batch's, and both join "
            "the word-level distillation."
        },
    )
    sense_batch_size: int = field(default=32, metadata={"help": "WordNet example uses per step (sense objective)."})
    max_sense_words: int | None = field(default=None, metadata={"help": "Words sampled for the sense objective."})
    sense_loss: str = field(
        default="alignment",
        metadata={
            "help": "Sense objective: `alignment` (an example use retrieves its gloss context among the batch's and "
            "its word's senses) or `gloss_matching` (BEM: among its lemma's senses only, each sense a gloss tower of "
            "gloss context, gloss text, synonyms and hypernym gloss)."
        },
    )
    num_hard_negatives: int = field(default=3, metadata={"help": "FAISS-mined hard negatives per anchor."})
    refresh_negatives_steps: int = field(default=200, metadata={"help": "Steps between hard-negative refreshes."})
    scale: float = field(default=20.0, metadata={"help": "Inverse temperature of every contrastive loss."})
    false_negative_margin: float | None = field(
        default=0.1,
        metadata={
            "help": "GISTEmbed guide margin of the ranking loss: a candidate the raw backbone scores above the "
            "positive's similarity minus this margin is not a negative (None: no guide)."
        },
    )
    synonym_share: float = field(default=0.3)
    related_share: float = field(default=0.1)
    context_weight: float = field(default=1.0)
    ranking_weight: float = field(default=1.0)
    synonym_weight: float = field(default=1.0)
    sense_weight: float = field(default=1.0)
    phrase_gloss_weight: float = field(default=1.0)
    order_weight: float = field(default=2.0)
    order_positive: str = field(
        default="detached",
        metadata={
            "help": "Positive of a sentence in the order loss: `teacher` (the raw backbone's vector of it, which also "
            "holds the sentence where the backbone put it) or `detached` (its own vector: only the copies move)."
        },
    )
    distill_weight: float = field(default=50.0, metadata={"help": "Weight of the geometry-preserving distillation."})
    word_distill_weight: float = field(
        default=50.0,
        metadata={
            "help": "Weight of the word-level geometry distillation: the token-space cosines among each step's words, "
            "phrases and sentences kept to the raw backbone's (0: off)."
        },
    )
    word_neighbour_weight: float = field(
        default=1.0,
        metadata={
            "help": "Weight of the neighbourhood part of the word-level distillation: each text's nearest neighbours "
            "in the step, as the raw backbone ranks them (listwise KL at `word_neighbour_temperature`; 0: off)."
        },
    )
    word_neighbour_temperature: float = field(default=0.05)
    word_distill_skip_top: int = field(
        default=0,
        metadata={
            "help": "The N most frequent vocabulary words stay out of the word-level distillation: their raw "
            "neighbours are each other (the, a, of), which context->type retrieval must tell apart (0: none)."
        },
    )
    pull_weight: float = field(
        default=5.0, metadata={"help": "Weight of 1 - cos(sentence, raw backbone's vector): holds natural sentences."}
    )
    orthogonality_weight: float = field(default=0.01, metadata={"help": "Original recipe only."})
    cpu_threads: int | None = field(
        default=None,
        metadata={"help": "Torch threads per process on CPU (default: the cores divided among the processes)."},
    )
    eval_max_items: int = field(default=1000, metadata={"help": "Items per evaluation set at the end of training."})
    eval_split: str = field(
        default="test",
        metadata={"help": "Held-out split scored at the end: test (the report) or dev (to compare settings)."},
    )

    def __post_init__(self):
        super().__post_init__()
        if self.recipe not in RECIPES:
            raise ValueError(f"`recipe` must be one of {RECIPES}, got {self.recipe!r}")
        if self.encoder_dropout is not None and not 0 <= self.encoder_dropout < 1:
            raise ValueError(f"`encoder_dropout` must be in [0, 1) or None, got {self.encoder_dropout!r}")
        if self.head_dims and len(self.head_dims) != 2:
            raise ValueError(f"`head_dims` must be empty or [hidden, out], got {self.head_dims!r}")
        for name in (
            "max_contexts", "order_batch_size", "num_hard_negatives", "refresh_negatives_steps", "sense_batch_size",
            "synonym_batch_size", "phrase_gloss_batch_size",
        ):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1, got {getattr(self, name)!r}")
        if self.sense_loss not in SENSE_LOSSES:
            raise ValueError(f"`sense_loss` must be one of {SENSE_LOSSES}, got {self.sense_loss!r}")
        if self.order_positive not in ORDER_POSITIVES:
            raise ValueError(f"`order_positive` must be one of {ORDER_POSITIVES}, got {self.order_positive!r}")
        if self.cpu_threads is not None and self.cpu_threads < 1:
            raise ValueError(f"`cpu_threads` must be >= 1 or None, got {self.cpu_threads!r}")
        if self.eval_split not in EVAL_SPLITS:
            raise ValueError(f"`eval_split` must be one of {EVAL_SPLITS}, got {self.eval_split!r}")
        for name in ("word_distill_weight", "word_neighbour_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"`{name}` must be >= 0, got {getattr(self, name)!r}")
        if self.word_distill_skip_top < 0:
            raise ValueError(f"`word_distill_skip_top` must be >= 0, got {self.word_distill_skip_top!r}")
        for name in ("max_synonym_pairs", "max_phrase_glosses"):
            if getattr(self, name) < 0:
                raise ValueError(f"`{name}` must be >= 0, got {getattr(self, name)!r}")
        self.remove_unused_columns = False
        if self.ddp_broadcast_buffers is None:  # processes call the model a different number of times per step
            self.ddp_broadcast_buffers = False  # (each embeds its share in chunks); its buffers never change


@dataclass
class ControllerTrainingArguments(TrainingArguments):
    """Arguments shared by the Selector and Placer runs, on top of `TrainingArguments`."""

    data_dir: str = field(default="runs/data", metadata={"help": "Data folder (built by `hf-tokenembed data build`)."})
    corpus: str = field(default="bbc-news", metadata={"help": "Corpus used to build `data_dir` if it is missing."})
    embedder: str = field(
        default="runs/token-head",
        metadata={"help": "The stage-1 TokenEmbedder whose sentence vectors are the targets (a folder or hub name)."},
    )
    vocabulary_dir: str | None = field(
        default=None, metadata={"help": "Reconstruction vocabulary folder (default: <embedder>/reconstruction_vocab)."}
    )
    cache_dir: str | None = field(
        default=None, metadata={"help": "Sentence-vector caches (default: <embedder>/controller_cache)."}
    )
    vocabulary_min_count: int = field(
        default=2, metadata={"help": "Training-split count from which a token becomes an entry (when building)."}
    )
    extra_corpora: list[str] = field(
        default_factory=lambda: ["wordnet-examples"],
        metadata={"help": "More English text for training sentences (never the test split of `data_dir`)."},
    )
    max_sentences: int | None = field(default=None, metadata={"help": "Training sentences used (None: all)."})
    states_per_sentence: int = field(default=6, metadata={"help": "Oracle states per sentence (>= 2)."})
    max_entries: int = field(default=40, metadata={"help": "Longest training sentence, in entries."})
    noise_share: float = field(default=0.5, metadata={"help": "Share of targets with noise added."})
    noise_min_cosine: float = field(
        default=0.9, metadata={"help": "Noisy targets lie at cosine [this, 1] of the clean."}
    )
    eval_sentences: int = field(default=500, metadata={"help": "Dev sentences whose states are scored."})
    top_k: int = field(default=16, metadata={"help": "Candidates per state (Placer)."})
    hidden_size: int | None = field(default=None, metadata={"help": "Width of the model (default: the config's)."})
    num_layers: int | None = field(default=None, metadata={"help": "Layers of the model (default: the config's)."})
    dropout: float | None = field(default=None, metadata={"help": "Dropout of the model (default: the config's)."})
    selector: str | None = field(default=None, metadata={"help": "Trained Selector folder (Placer runs)."})
    rollin_sentences: int = field(
        default=0, metadata={"help": "Training sentences decoded by the trained Selector to add rolled-in states."}
    )
    cpu_threads: int | None = field(default=None, metadata={"help": "Torch threads per process on CPU."})

    def __post_init__(self):
        super().__post_init__()
        if self.states_per_sentence < 2:
            raise ValueError(f"`states_per_sentence` must be >= 2, got {self.states_per_sentence!r}")
        if not 0 <= self.noise_share <= 1:
            raise ValueError(f"`noise_share` must be in [0, 1], got {self.noise_share!r}")
        if not 0 < self.noise_min_cosine <= 1:
            raise ValueError(f"`noise_min_cosine` must be in (0, 1], got {self.noise_min_cosine!r}")
        for name in ("max_entries", "eval_sentences", "top_k"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1, got {getattr(self, name)!r}")
        self.remove_unused_columns = False
