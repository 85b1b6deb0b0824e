"""A Hugging Face Space for hf_tokenembed: rebuild a sentence from its vector step by step; a word's neighbours.

Run it locally with ``python spaces/app.py --bundle checkpoints/tokenembed-reconstructor-minilm``. It works
offline: no analytics, no share link, system fonts only (the page loads nothing from outside the app).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from hf_tokenembed.controller import Reconstructor, replay_steps
from hf_tokenembed.data.wordnet import find_form
from hf_tokenembed.index import neighbors
from hf_tokenembed.index.vocab_index import VocabIndex

RELEASED_BUNDLE = Path(__file__).resolve().parents[1] / "checkpoints" / "tokenembed-reconstructor-minilm"
DECODINGS = ("beam search", "greedy")
STEP_COLUMNS = ["step", "entry", "slot", "cosine"]
NEIGHBOR_COLUMNS = ["rank", "entry", "kind", "score"]
EXAMPLES = ["The bank raised its interest rates again.", "A farmer crossed the old bridge near the river."]
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "Helvetica", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "Consolas", "DejaVu Sans Mono", "monospace"],
)  # system fonts: no font files to fetch, from the app or from outside


def decoding_options(mode: str, num_beams: int) -> dict[str, Any]:
    """`reconstruct` options of a decoding mode: greedy, or the bundle's beam search with `num_beams`."""
    if mode == "greedy":
        return {"num_beams": 1, "verifier": False}
    return {"num_beams": int(num_beams)}


def step_row(number: int, step: dict[str, Any]) -> list[Any]:
    """A row of the step table: the step, the entry placed ("STOP"; "move x" for a repair move), its slot (a move's
    "from → to"), the cosine after it."""
    if step["action"] == "stop":
        return [number, "STOP", "", round(step["cosine"], 4)]
    if step["action"] == "move":
        return [number, f"move {step['entry']}", f"{step['from']} → {step['slot']}", round(step["cosine"], 4)]
    return [number, step["entry"], str(step["slot"]), round(step["cosine"], 4)]


class SpaceDemo:
    """The app's handlers over one loaded reconstructor and its vocabulary's neighbour index.

    Args:
        reconstructor: The `Reconstructor` of the bundle.
        step_delay: Seconds between two displayed steps, so that the reconstruction visibly grows.
    """

    def __init__(self, reconstructor: Reconstructor, step_delay: float = 0.1):
        self.reconstructor = reconstructor
        self.index: VocabIndex = reconstructor.vocabulary.neighbor_index()
        self.step_delay = step_delay

    def reconstruct(self, sentence: str, mode: str, num_beams: int) -> Iterator[tuple[Any, ...]]:
        """Yield (text, cosine, step table, curve, status) after each step of the sentence's reconstruction."""
        sentence = (sentence or "").strip()
        if not sentence:
            gr.Warning("Type a sentence to reconstruct.")
            yield "", "", _frame([], STEP_COLUMNS), _curve([]), "Type a sentence to reconstruct."
            return
        yield "", "", _frame([], STEP_COLUMNS), _curve([]), "Reconstructing…"
        target = self.reconstructor.embedder.encode_sentences([sentence])
        result = self.reconstructor.reconstruct(target, return_steps=True, **decoding_options(mode, num_beams))[0]
        steps = result["steps"]
        texts = [self.reconstructor.vocabulary.segmenter.detokenize(b) for b in replay_steps(steps)]
        rows = [step_row(number, step) for number, step in enumerate(steps, 1)]
        for number, text in enumerate(texts, 1):
            shown = rows[:number]
            yield (
                text,
                f"{shown[-1][3]:.4f}",
                _frame(shown, STEP_COLUMNS),
                _curve(shown),
                f"Step {number} of {len(rows)}…",
            )
            time.sleep(self.step_delay)
        moves = sum(step["action"] == "move" for step in steps)
        status = f"Done: {len(result['entries'])} entries in {len(steps)} steps" + (
            f" ({moves} repair move{'s' if moves > 1 else ''})." if moves else "."
        )
        yield result["text"], f"{result['cosine']:.4f}", _frame(rows, STEP_COLUMNS), _curve(rows), status

    def neighbours(self, word: str, context: str, k: int) -> tuple[pd.DataFrame, str]:
        """The `k` nearest vocabulary entries of `word` (in `context` when it occurs there) and a status line."""
        word, context = (word or "").strip(), (context or "").strip()
        if not word:
            gr.Warning("Type a word or a phrase.")
            return _frame([], NEIGHBOR_COLUMNS), "Type a word or a phrase."
        k = int(k)
        embedder = self.reconstructor.embedder
        hits = neighbors(self.index, embedder, [word], context or None, k=k, distinct_case=True)[0]
        rows = [[rank, e.label, e.kind, round(s, 4)] for rank, (e, s) in enumerate(hits, 1)]
        if not context:
            status = f"Nearest entries of “{word}” (no context)."
        elif find_form(context, word):  # as `neighbors` decides: in context only when the word occurs there
            status = f"Nearest entries of “{word}” in its context."
        else:
            status = f"“{word}” does not occur in the context: nearest entries of “{word}” alone."
        return _frame(rows, NEIGHBOR_COLUMNS), status


def _frame(rows: list[list[Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def _curve(rows: list[list[Any]]) -> pd.DataFrame:
    """The cosine after each step, from step-table rows."""
    return _frame([[row[0], row[3]] for row in rows], ["step", "cosine"])


def build_app(bundle: str, *, step_delay: float = 0.1) -> gr.Blocks:
    """The Gradio app over `bundle` (a bundle folder or hub repository), loaded once."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    demo = SpaceDemo(Reconstructor.from_pretrained(str(bundle)), step_delay=step_delay)
    defaults = demo.reconstructor.defaults
    with gr.Blocks(title="hf_tokenembed: text reconstruction", analytics_enabled=False) as app:
        gr.Markdown(
            "# hf_tokenembed: rebuild a sentence from its vector\n"
            "The sentence is embedded; the controller then writes entries one at a time, each at a slot of the "
            "text so far, until STOP. The cosine is the rebuilt text's similarity to the input's vector."
        )
        with gr.Tab("Reconstruct"):
            with gr.Row():
                sentence = gr.Textbox(label="Sentence", placeholder=EXAMPLES[0], scale=4, elem_id="sentence")
                button = gr.Button("Reconstruct", variant="primary", scale=1, elem_id="reconstruct")
            with gr.Row():
                mode = gr.Radio(list(DECODINGS), value=DECODINGS[0], label="Decoding", elem_id="decoding")
                beams = gr.Slider(1, 8, value=defaults["num_beams"], step=1, label="Beams (beam search)")
            gr.Examples([[e] for e in EXAMPLES], inputs=[sentence])
            status = gr.Markdown(elem_id="status")
            with gr.Row():
                text = gr.Textbox(label="Reconstruction", interactive=False, scale=4, elem_id="reconstruction")
                cosine = gr.Textbox(label="Cosine", interactive=False, scale=1, elem_id="cosine")
            with gr.Row():
                table = gr.Dataframe(headers=STEP_COLUMNS, label="Steps", interactive=False, elem_id="steps")
                curve = gr.LinePlot(x="step", y="cosine", title="Cosine after each step", elem_id="curve")
            outputs = [text, cosine, table, curve, status]
            for trigger in (button.click, sentence.submit):
                trigger(demo.reconstruct, [sentence, mode, beams], outputs)
        with gr.Tab("Neighbours"):
            with gr.Row():
                word = gr.Textbox(label="Word or phrase", placeholder="bank", elem_id="word")
                context = gr.Textbox(label="Context (optional)", placeholder="We sat on the bank of the river.")
                k = gr.Slider(1, 50, value=10, step=1, label="Neighbours")
            search = gr.Button("Find neighbours", variant="primary", elem_id="find")
            found = gr.Markdown(elem_id="neighbours-status")
            hits = gr.Dataframe(headers=NEIGHBOR_COLUMNS, label="Nearest entries", interactive=False, elem_id="hits")
            for trigger in (search.click, word.submit):
                trigger(demo.neighbours, [word, context, k], [hits, found])
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the app (on a Space, GRADIO_SERVER_NAME / GRADIO_SERVER_PORT give the host and port)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bundle",
        default=os.environ.get("HF_TOKENEMBED_BUNDLE", str(RELEASED_BUNDLE)),
        help="bundle folder or hub repository (default: $HF_TOKENEMBED_BUNDLE or the released bundle)",
    )
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    args = parser.parse_args(argv)
    build_app(args.bundle).launch(
        server_name=args.host, server_port=args.port, share=False, show_error=True, theme=THEME
    )


if __name__ == "__main__":
    main()
