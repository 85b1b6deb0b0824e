"""Benchmark the VocabIndex over the real vocabulary and check sense retrieval on held-out WiC sentences.

Measures, side by side in one run: FAISS build time, single-query latency and batch throughput for the exact and
HNSW indexes, HNSW recall@10 against exact over an efSearch sweep, and the accuracy of picking the right WordNet
sense with a word's in-context vector. Writes its own section of benchmarks/RESULTS.md (between
``<!-- bench_index:start -->`` and ``<!-- bench_index:end -->``), leaving other sections alone.

    .venv/bin/python benchmarks/bench_index.py --data /tmp/bbc_data

The sense vectors are built with every evaluation sentence held out (`hf_tokenembed.data.held_out_sentences`), so
the index's sense check (`score_index_senses`, the protocol of benchmarks/bench_senses.py) is held-out.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch
from datasets import load_from_disk
from results import RESULTS_PATH, write_section

from hf_tokenembed.data.vocab import WORD_RE
from hf_tokenembed.evaluation import score_index_senses
from hf_tokenembed.index import IndexEntry, VocabIndex, VocabIndexConfig, faiss_threads

logger = logging.getLogger("bench_index")

__all__ = ["main"]


def load_embedder(model: str | None) -> tuple[Any, str]:
    """A saved TokenEmbedder, or the untrained one over the packaged MiniLM with no head (the raw backbone space)."""
    from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig

    if model:
        return TokenEmbedder.from_pretrained(model).eval(), f"TokenEmbedder from `{model}`"
    config = TokenEmbedderConfig(backbone="sentence-transformers/all-MiniLM-L6-v2", head_dims=[], lora_layers=0)
    return (
        TokenEmbedder(config).eval(),
        "untrained TokenEmbedder over the packaged all-MiniLM-L6-v2 (no head, no LoRA: mean-pooled span tokens)",
    )


class CachedEmbedder:
    """Memoises ``encode_in_context`` per (sentence, span) so the evaluations encode each WiC context once."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.token_dim = embedder.token_dim
        self._cache: dict[tuple[str, int, int], torch.Tensor] = {}

    def fingerprint(self) -> str:
        return self.embedder.fingerprint()

    def encode_words(self, words, batch_size=256, show_progress_bar=None):
        return self.embedder.encode_words(words, batch_size=batch_size, show_progress_bar=show_progress_bar)

    def encode_in_context(self, sentences, spans, batch_size=64, show_progress_bar=None):
        keys = [(s, int(a), int(b)) for s, (a, b) in zip(sentences, spans)]
        todo = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if todo:
            out = self.embedder.encode_in_context(
                [k[0] for k in todo], [k[1:] for k in todo], batch_size=batch_size, show_progress_bar=show_progress_bar
            )
            self._cache.update(zip(todo, out))
        return torch.stack([self._cache[k] for k in keys]) if keys else torch.empty(0, self.token_dim)


def median_time(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def query_vectors(embedder: Any, sentences: list[str], n: int, seed: int) -> np.ndarray:
    """In-context vectors of ``n`` random word occurrences in held-out corpus sentences (realistic queries)."""
    rng = np.random.default_rng(seed)
    picks: list[tuple[str, tuple[int, int]]] = []
    for i in rng.permutation(len(sentences)):
        matches = [m for m in WORD_RE.finditer(sentences[i]) if len(m.group(0)) > 2]
        if matches:
            m = matches[rng.integers(len(matches))]
            picks.append((sentences[i], m.span()))
        if len(picks) == n:
            break
    vectors = embedder.encode_in_context([s for s, _ in picks], [p for _, p in picks], batch_size=64)
    return np.ascontiguousarray(vectors.numpy(), dtype=np.float32)


def single_latency(index: VocabIndex, queries: np.ndarray, k: int, repeats: int) -> float:
    """Median (over repeats) of the mean per-query seconds of `index.search` on one vector at a time."""

    def run() -> None:
        for q in queries:
            index.search(q, k=k)

    return median_time(run, repeats)[0] / len(queries)


def raw_single_latency(index: VocabIndex, queries: np.ndarray, k: int, threads: int, repeats: int) -> float:
    """Per-query seconds of the bare FAISS search on one vector at a time with ``threads`` OpenMP threads."""
    q2 = [np.ascontiguousarray(q[None, :]) for q in queries]

    def run() -> None:
        with faiss_threads(threads):
            for q in q2:
                index.faiss_index.search(q, k)

    return median_time(run, repeats)[0] / len(queries)


def recall_at_k(approx_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    k = exact_ids.shape[1]
    return float(np.mean([len(set(a) & set(e)) / k for a, e in zip(approx_ids, exact_ids)]))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="data folder written by the data stage")
    parser.add_argument("--model", default=None, help="saved TokenEmbedder (default: untrained, packaged MiniLM)")
    parser.add_argument("--min-entries", type=int, default=50_000, help="top up with wordfreq words to this size")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[16, 32, 48, 64, 96, 128])
    parser.add_argument("--hnsw-m", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--ef-construction", type=int, default=VocabIndexConfig().hnsw_ef_construction)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS_PATH))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.manual_seed(args.seed)

    embedder, embedder_desc = load_embedder(args.model)
    embedder = CachedEmbedder(embedder)
    wic = load_from_disk(os.path.join(args.data, "eval", "wic"))

    # 1. Build from the data folder (encoding + senses + exact FAISS), evaluation sentences held out (the default).
    t0 = time.perf_counter()
    base = VocabIndex.build(embedder, args.data, VocabIndexConfig(index_type="exact"), progress=True)
    full_build_s = time.perf_counter() - t0
    kinds = {kind: sum(e.kind == kind for e in base.entries) for kind in ("word", "mwe", "sense")}
    sense_sources: dict[str, int] = {}  # how many sense entries use each part ("word": nothing was left)
    for e in base.entries:
        if e.kind == "sense":
            for part in e.source.split("+"):
                sense_sources[part] = sense_sources.get(part, 0) + 1
    logger.info("Built %r in %.1fs", base, full_build_s)

    # 2. The index's sense entries on the WordNet examples of the WiC test lemmas.
    senses_table = load_from_disk(os.path.join(args.data, "senses"))
    sense = score_index_senses(base, embedder, senses_table, set(wic["test"]["lemma"]), progress=True)

    # 3. Real vocabulary of >= min_entries: top up with wordfreq's most frequent English words when needed.
    vectors = base.reconstruct(range(len(base)))
    entries = list(base.entries)
    topped_up = 0
    if len(entries) < args.min_entries:
        import wordfreq

        have = {e.surface for e in entries}
        extra = [w for w in wordfreq.top_n_list("en", 4 * args.min_entries) if w not in have and WORD_RE.fullmatch(w)]
        extra = extra[: args.min_entries - len(entries)]
        t0 = time.perf_counter()
        extra_vectors = embedder.encode_words(extra, batch_size=256, show_progress_bar=True).numpy()
        logger.info("Encoded %d wordfreq words in %.1fs", len(extra), time.perf_counter() - t0)
        counts = {e.surface: e.frequency for e in entries}
        entries += [IndexEntry(w, "word", counts.get(w, 0), source="wordfreq") for w in extra]
        vectors = np.concatenate([vectors, extra_vectors])
        topped_up = len(extra)
    n, dim = vectors.shape
    fp = base.fingerprint

    # 4. Queries: in-context vectors of words in held-out corpus sentences.
    corpus = load_from_disk(os.path.join(args.data, "corpus"))
    sentences = list(corpus["test"]["text"]) if "test" in corpus else list(corpus["train"]["text"])
    queries = query_vectors(embedder, sentences, args.queries, args.seed)
    n_single = min(len(queries), 500)

    # 5. Exact index.
    threads = faiss.omp_get_max_threads()
    exact_build, _ = median_time(
        lambda: VocabIndex.from_vectors(vectors, entries, VocabIndexConfig(index_type="exact"), fp), 3
    )
    exact = VocabIndex.from_vectors(vectors, entries, VocabIndexConfig(index_type="exact"), fp)
    exact_single = single_latency(exact, queries[:n_single], args.k, args.repeats)
    exact_raw_1 = raw_single_latency(exact, queries[:n_single], args.k, 1, args.repeats)
    exact_raw_all = raw_single_latency(exact, queries[:n_single], args.k, threads, args.repeats)
    exact_batch, _ = median_time(lambda: exact.search_ids(queries, k=args.k), args.repeats)
    _, exact_ids = exact.search_ids(queries, k=args.k)

    # 6. HNSW sweep.
    hnsw_rows = []
    hnsw_builds = {}
    for m in args.hnsw_m:
        config = VocabIndexConfig(index_type="hnsw", hnsw_m=m, hnsw_ef_construction=args.ef_construction)
        t0 = time.perf_counter()  # one build per M (each takes minutes on 2 cores)
        hnsw = VocabIndex.from_vectors(vectors, entries, config, fp)
        hnsw_builds[m] = time.perf_counter() - t0
        for ef in args.ef_search:
            hnsw.set_search_params(ef_search=ef)
            _, ids = hnsw.search_ids(queries, k=args.k)
            row = {
                "m": m,
                "ef": ef,
                "recall": recall_at_k(ids, exact_ids),
                "single_s": single_latency(hnsw, queries[:n_single], args.k, args.repeats),
                "batch_s": median_time(lambda h=hnsw: h.search_ids(queries, k=args.k), args.repeats)[0],
            }
            hnsw_rows.append(row)
            logger.info("HNSW M=%d ef=%d: %s", m, ef, row)
    ok = [r for r in hnsw_rows if r["recall"] >= 0.97 and r["single_s"] <= 1e-3]
    chosen = min(ok, key=lambda r: r["single_s"]) if ok else None

    result = {
        "n": n,
        "dim": dim,
        "kinds": kinds,
        "topped_up": topped_up,
        "full_build_s": full_build_s,
        "sense": sense,
        "exact": {"build_s": exact_build, "single_s": exact_single, "batch_s": exact_batch},
        "hnsw": hnsw_rows,
        "chosen": chosen,
    }
    body = render(args, result, embedder_desc, sense_sources, hnsw_builds, exact_raw_1, exact_raw_all, threads)
    print(body)
    if not args.no_write:
        write_section("bench_index", body, Path(args.out))
        logger.info("Wrote %s", args.out)
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def render(args, r, embedder_desc, sense_sources, hnsw_builds, raw_1, raw_all, threads) -> str:
    nq = args.queries
    exact = r["exact"]
    cmd = (
        "`.venv/bin/python benchmarks/bench_index.py --data "
        + args.data
        + (f" --model {args.model}`" if args.model else "`")
    )
    lines = [
        "## VocabIndex (FAISS) — `benchmarks/bench_index.py`",
        "",
        f"Rerun: {cmd}. Machine: {platform.machine()}, {os.cpu_count()} CPU cores "
        f"(FAISS {faiss.__version__}, {threads} OpenMP threads), Python {platform.python_version()}. "
        f"Embedder: {embedder_desc}. Medians over {args.repeats} repeats; the machine is shared, so compare ratios.",
        "",
        f"**Vocabulary:** {r['n']:,} entries × {r['dim']} dims — {r['kinds']['word']:,} words, "
        f"{r['kinds']['mwe']:,} MWEs, {r['kinds']['sense']:,} senses from `{args.data}`"
        + (f", topped up with {r['topped_up']:,} frequent English words from `wordfreq`" if r["topped_up"] else "")
        + f". Full build from the data folder (encoding + senses + exact index): {r['full_build_s']:.1f} s. "
        f"Queries: {nq} in-context vectors of random words in held-out corpus sentences; k = {args.k}.",
        "",
        "| index | FAISS build | single query (`search`, 1 thread) | batch of "
        f"{nq} (`search_ids`, {threads} threads) | recall@{args.k} vs exact |",
        "|---|---|---|---|---|",
        f"| exact (IndexFlatIP) | {exact['build_s']:.2f} s | {_ms(exact['single_s'])} | "
        f"{exact['batch_s'] * 1e3:.1f} ms ({nq / exact['batch_s']:,.0f} q/s) | 1.000 |",
    ]
    default = VocabIndexConfig()
    for row in r["hnsw"]:
        setting = (row["m"], row["ef"], args.ef_construction)
        is_default = setting == (default.hnsw_m, default.hnsw_ef_search, default.hnsw_ef_construction)
        mark = (" **(default)**" if is_default else "") + (" *(fastest on target)*" if r["chosen"] is row else "")
        lines.append(
            f"| HNSW M={row['m']} efC={args.ef_construction} efSearch={row['ef']}{mark} | "
            f"{hnsw_builds[row['m']]:.2f} s | {_ms(row['single_s'])} "
            f"({exact['single_s'] / row['single_s']:.1f}× faster) | {row['batch_s'] * 1e3:.1f} ms "
            f"({nq / row['batch_s']:,.0f} q/s) | {row['recall']:.3f} |"
        )
    chosen = r["chosen"]
    lines += [
        "",
        f"Single exact query, bare FAISS: {_ms(raw_1)} with 1 thread vs {_ms(raw_all)} with {threads} threads "
        f"({raw_all / raw_1:.2f}× — why single queries run on one thread).",
        "",
        (
            f"**Fastest setting on target** (recall@{args.k} ≥ 0.97 at ≤ 1 ms per single query): M={chosen['m']}, "
            f"efConstruction={args.ef_construction}, efSearch={chosen['ef']}: recall@{args.k} = {chosen['recall']:.3f} "
            f"at {_ms(chosen['single_s'])}. `VocabIndexConfig`'s default is M={default.hnsw_m}, "
            f"efSearch={default.hnsw_ef_search}."
            if chosen
            else "**No HNSW setting reached recall@10 ≥ 0.97 at ≤ 1 ms in this run.**"
        ),
        "",
    ]

    x = r["sense"]
    lines += [
        "### Sense entries of the index (WiC test lemmas, held out)",
        "",
        "The protocol of benchmarks/bench_senses.py (`score_index_senses`): each WordNet example of a WiC test lemma "
        "queries the index's sense entries of its lemma and part of speech (the homographs get entries); the index "
        "was built without any evaluation sentence, so those senses lose all their examples at once. "
        f"Sense entries using each part (of {r['kinds']['sense']:,}): "
        + ", ".join(f"`{part}` {count:,}" for part, count in sorted(sense_sources.items(), key=lambda kv: -kv[1]))
        + ".",
        "",
        "| fine accuracy | random | first sense | coarse accuracy | random | first sense | scored (coarse) |",
        "|---:|---:|---:|---:|---:|---:|---|",
        f"| **{x['fine_accuracy']:.3f}** | {x['fine_random']:.3f} | {x['fine_first_sense']:.3f} | "
        f"**{x['coarse_accuracy']:.3f}** | {x['coarse_random']:.3f} | {x['coarse_first_sense']:.3f} | "
        f"{x['num_scored']:,} ({x['num_coarse']:,}) of {x['num_queries']:,} |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
