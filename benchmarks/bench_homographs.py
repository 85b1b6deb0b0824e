"""Homographs in context: does a word's in-context vector put its right sense first among its sense entries?

    hf-tokenembed index build checkpoints/tokenembed-reconstructor-minilm/embedder runs/data --out runs/released-index
    python benchmarks/bench_homographs.py --model checkpoints/tokenembed-reconstructor-minilm/embedder \
        --index runs/released-index

Ten hand-written contexts, two senses each of "bank", "bat", "spring", "pitch" and "bass" (the issue's homographs),
each with the WordNet synsets that fit it. The word is encoded in its context (`encode_queries`, as
`hf-tokenembed neighbors --context` does) and scored against every sense entry of the word in the index (the
`VocabIndex` of `index build`, whose sense vectors are the ones `neighbors` searches); the table gives the sense
ranked first, whether it fits, and where the best fitting sense ranks; then the part of speech spaCy's tagger reads
for the word in its context (`neighbors --pos auto`; all ten are nouns) and the first sense among the senses of
that part of speech, as `neighbors --pos auto` keeps them.
"""

from __future__ import annotations

import argparse

import numpy as np
from results import write_section
from transformers import AutoModel

import hf_tokenembed  # noqa: F401  (registers the Auto classes)
from hf_tokenembed.index import VocabIndex, encode_queries
from hf_tokenembed.index.neighbors import pos_matches, query_pos

CASES = [
    ("bank", "We sat on the bank of the river and watched the water.", {"bank.n.01"}),
    ("bank", "She deposited the money at the bank on Monday.", {"depository_financial_institution.n.01", "bank.n.09"}),
    ("bat", "The bat flew out of the cave at dusk.", {"bat.n.01"}),
    ("bat", "He swung the bat and hit the ball.", {"bat.n.05", "cricket_bat.n.01"}),
    ("spring", "The flowers bloom in spring.", {"spring.n.01"}),
    ("spring", "They drank cold water from a mountain spring.", {"spring.n.03", "spring.n.04"}),
    ("pitch", "The pitch of her voice rose when she was nervous.", {"pitch.n.01"}),
    ("pitch", "The roof was sealed with hot black pitch.", {"pitch.n.06"}),
    ("bass", "He caught a large bass in the lake.", {"freshwater_bass.n.01", "bass.n.08", "sea_bass.n.01"}),
    ("bass", "He plays the bass in a jazz band.", {"bass.n.07"}),
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="checkpoints/tokenembed-reconstructor-minilm/embedder")
    parser.add_argument("--index", default="runs/released-index")
    args = parser.parse_args()

    model = AutoModel.from_pretrained(args.model).eval()
    index = VocabIndex.load(args.index)
    queries = [encode_queries(model, [word], context)[0][0].numpy() for word, context, _ in CASES]
    lines = ["| word | context | sense ranked first | fits | best fitting sense's rank | tagged | first sense of that part of speech | fits |",
             "|---|---|---|---|---:|---|---|---|"]  # fmt: skip
    right, right_pos = 0, 0
    for (word, context, gold), query in zip(CASES, queries):
        ids = index.find(word, kind="sense")
        order = np.argsort(-(index.reconstruct(ids) @ query))
        ranked = [index.entries[ids[i]] for i in order]
        (tagged,) = query_pos([word], context)
        first_of_pos = next(e for e in ranked if tagged is None or pos_matches(e, tagged))
        fits, fits_pos = ranked[0].synset in gold, first_of_pos.synset in gold
        right, right_pos = right + fits, right_pos + fits_pos
        rank = next((r + 1 for r, e in enumerate(ranked) if e.synset in gold), None)
        lines.append(
            f"| {word} | {context} | {ranked[0].label} (`{ranked[0].synset}`) | {'yes' if fits else '**no**'} | "
            f"{rank or '–'} of {len(ranked)} | {tagged or '–'} | {first_of_pos.label} | {'yes' if fits_pos else '**no**'} |"
        )
    markdown = f"""## Homographs in context (`benchmarks/bench_homographs.py`)

```
hf-tokenembed index build {args.model} runs/data --out {args.index}
python benchmarks/bench_homographs.py --model {args.model} --index {args.index}
```

The right sense ranked first among the word's sense entries in **{right} of {len(CASES)}** contexts; among the senses of
the part of speech the tagger reads in the context (`neighbors --pos auto`), in **{right_pos} of {len(CASES)}**.

{chr(10).join(lines)}
"""
    print(markdown)
    write_section("bench_homographs", markdown)


if __name__ == "__main__":
    main()
