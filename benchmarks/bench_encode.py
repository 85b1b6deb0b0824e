"""Words/s of TokenEmbedder.encode_words vs SentenceTransformer.encode vs a bare backbone loop, in one run.

    python benchmarks/bench_encode.py [--words 50000] [--batch-size 256] [--repeats 3]

The bare loop is the floor: pre-tokenised, length-sorted, padded batches through the backbone with mean pooling,
no tokenisation, no head. Medians over repeats; ratios are taken within this one run.
"""

from __future__ import annotations

import argparse
import platform

import torch
import wordfreq
from results import median_seconds, write_section
from sentence_transformers import SentenceTransformer

from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig
from hf_tokenembed.backbones import DEFAULT_BACKBONE, resolve_backbone_path


def vocabulary(n: int) -> list[str]:
    """The `n` most frequent alphabetic English words from wordfreq."""
    words = [w for w in wordfreq.top_n_list("en", n * 2) if w.isalpha()]
    if len(words) < n:
        raise ValueError(f"wordfreq has only {len(words)} alphabetic words; ask for fewer `--words`")
    return words[:n]


def bare_loop(model: TokenEmbedder, words: list[str], batch_size: int):
    """A callable that runs only the backbone forward + mean pooling over pre-tokenised batches."""
    features = model.tokenize(words)
    order = sorted(range(len(words)), key=lambda i: -len(features["input_ids"][i]))
    batches = [model.collate(features, order[i : i + batch_size]) for i in range(0, len(order), batch_size)]
    backbone = model.backbone

    @torch.inference_mode()
    def run():
        for batch in batches:
            hidden = backbone(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            (hidden * mask).sum(1) / mask.sum(1)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    words = vocabulary(args.words)
    model = TokenEmbedder(TokenEmbedderConfig(backbone=DEFAULT_BACKBONE)).eval()
    raw = TokenEmbedder(TokenEmbedderConfig(backbone=DEFAULT_BACKBONE, lora_layers=0, head_dims=[])).eval()
    st = SentenceTransformer(resolve_backbone_path(DEFAULT_BACKBONE), device="cpu")
    runs = {
        "TokenEmbedder.encode_words (LoRA top-2 + head)": lambda: model.encode_words(
            words, batch_size=args.batch_size, show_progress_bar=False
        ),
        "SentenceTransformer.encode": lambda: st.encode(
            words, batch_size=args.batch_size, show_progress_bar=False, convert_to_tensor=True
        ),
        "bare backbone loop (pre-tokenised)": bare_loop(raw, words, args.batch_size),
    }
    for fn in runs.values():  # warm-up
        fn()
    seconds = {name: median_seconds(fn, args.repeats) for name, fn in runs.items()}
    ours, st_name, bare_name = list(seconds)
    rows = "\n".join(f"| {name} | {s:.2f} | {len(words) / s:,.0f} |" for name, s in seconds.items())
    markdown = f"""## Encoding words (`benchmarks/bench_encode.py`)

`python benchmarks/bench_encode.py --words {args.words} --batch-size {args.batch_size} --repeats {args.repeats}`
— packaged MiniLM, {len(words):,} wordfreq words, {torch.get_num_threads()} torch threads, {platform.machine()},
median of {args.repeats} runs after one warm-up.

| encoder | seconds | words/s |
|---|---:|---:|
{rows}

- encode_words vs SentenceTransformer.encode: **{seconds[st_name] / seconds[ours]:.2f}×** the speed (target ≥ 1.0)
- encode_words vs bare backbone loop: **{seconds[bare_name] / seconds[ours]:.0%}** of its words/s (floor 85%)
"""
    print(markdown)
    write_section("bench_encode", markdown)


if __name__ == "__main__":
    main()
