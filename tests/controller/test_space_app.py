"""The Space demo (spaces/app.py) on a tiny bundle: its handlers, then the app served and driven in headless Chromium.

The README's screenshot: ``HF_TOKENEMBED_SPACE_BUNDLE=checkpoints/tokenembed-reconstructor-minilm
HF_TOKENEMBED_SCREENSHOT_DIR=docs/images pytest tests/controller/test_space_app.py -k browser``."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from hf_tokenembed.controller import Reconstructor, replay_steps

APP_PATH = Path(__file__).resolve().parents[2] / "spaces" / "app.py"
SENTENCE = "The bank approved the new loan for the school on day 3."
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip


def _load_app():
    spec = importlib.util.spec_from_file_location("space_app", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


space_app = _load_app()


@pytest.fixture(scope="module")
def bundle_dir(controller, tmp_path_factory) -> Path:
    """The tiny bundle; HF_TOKENEMBED_SPACE_BUNDLE names another (the README's screenshot is of the released one)."""
    if os.environ.get("HF_TOKENEMBED_SPACE_BUNDLE"):
        return Path(os.environ["HF_TOKENEMBED_SPACE_BUNDLE"]).resolve()  # the app runs in another folder
    *_, reconstructor = controller
    folder = tmp_path_factory.mktemp("space") / "bundle"
    reconstructor.to_bundle().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def demo(bundle_dir):
    """The app's handlers over the saved tiny bundle, as the app loads it (no delay between steps)."""
    return space_app.SpaceDemo(Reconstructor.from_pretrained(str(bundle_dir)), step_delay=0)


EXPECTED_OPTIONS = {  # what each mode of the page asks `reconstruct` for, written out (not the app's own mapping)
    ("greedy", 2): {"num_beams": 1, "verifier": False},
    ("beam search", 2): {"num_beams": 2},
    ("beam search", 5): {"num_beams": 5},
}


def test_decoding_options_of_each_mode():
    for (mode, num_beams), options in EXPECTED_OPTIONS.items():
        assert space_app.decoding_options(mode, num_beams) == options


def _expected(reconstructor: Reconstructor, sentence: str, **options) -> dict:
    target = reconstructor.embedder.encode_sentences([sentence])
    return reconstructor.reconstruct(target, return_steps=True, **options)[0]


def test_the_replayed_trace_is_the_reconstruction(demo, controller):
    """Replaying each step (insertions at their slots, repair moves) rebuilds the text, for decoded texts and for
    bag-forced ones (every entry of the sentence written, in the Placer's order: many insertions before the end)."""
    train, reconstructor = controller[2], demo.reconstructor
    targets = train.targets[:6]
    results = reconstructor.reconstruct(targets, return_steps=True, num_beams=2)
    results += reconstructor.reconstruct(targets, return_steps=True, num_beams=1, verifier=False)
    bags = [reconstructor.vocabulary.segment(text).ids for text in train.texts[:6]]
    results += reconstructor.reconstruct(targets, return_steps=True, num_beams=2, repair=0, bags=bags)
    inside = 0
    for result in results:
        texts = [reconstructor.vocabulary.segmenter.detokenize(b) for b in replay_steps(result["steps"])]
        assert len(texts) == len(result["steps"]) and texts[-1] == result["text"]
        inside += sum(step["action"] == "insert" and step["slot"] < n for n, step in enumerate(result["steps"]))
    assert inside > 0  # some entries went before the end of the text so far


@pytest.mark.parametrize("mode", space_app.DECODINGS)
def test_the_handler_grows_the_text_step_by_step(demo, mode):
    expected = _expected(demo.reconstructor, SENTENCE, **EXPECTED_OPTIONS[mode, 2])
    frames = list(demo.reconstruct(SENTENCE, mode, 2))
    assert frames[0][-1] == "Reconstructing…" and len(frames) == len(expected["steps"]) + 2
    text, cosine, table, curve, status = frames[-1]
    assert text == expected["text"] and cosine == f"{expected['cosine']:.4f}" and status.startswith("Done: ")
    assert list(table.columns) == space_app.STEP_COLUMNS and len(table) == len(expected["steps"])
    assert table["step"].tolist() == list(range(1, len(table) + 1)) == curve["step"].tolist()
    assert [len(frame[2]) for frame in frames[1:-1]] == list(range(1, len(table) + 1))  # one more row each time


def test_empty_input_is_a_message_not_an_error(demo):
    with pytest.warns(UserWarning, match="Type a sentence"):
        frames = list(demo.reconstruct("   ", "beam search", 2))
    assert len(frames) == 1 and frames[0][0] == "" and frames[0][-1] == "Type a sentence to reconstruct."
    with pytest.warns(UserWarning, match="Type a word"):
        table, status = demo.neighbours("", "", 5)
    assert table.empty and status == "Type a word or a phrase."


def test_neighbours_table(demo):
    table, status = demo.neighbours("bank", "", 5)
    assert list(table.columns) == space_app.NEIGHBOR_COLUMNS and len(table) == 5
    assert table["rank"].tolist() == [1, 2, 3, 4, 5] and table["score"].is_monotonic_decreasing
    assert table["entry"][0].casefold() == "bank" and status == "Nearest entries of “bank” (no context)."
    in_context, status = demo.neighbours("bank", "The bank approved the loan.", 3)
    assert len(in_context) == 3 and status.endswith("in its context.")
    assert demo.neighbours("bank", "A river.", 3)[1].startswith("“bank” does not occur in the context")
    assert len(demo.neighbours("bank", "", 50)[0]) <= min(50, len(demo.index))


def _chromium() -> str:
    """Chromium's path: a skip where it is missing, a failure in CI (`make test` installs it)."""
    path = os.environ.get("HF_TOKENEMBED_CHROMIUM") or shutil.which("chromium")
    if not path:
        message = "Chromium not found (make chromium, or set HF_TOKENEMBED_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_app(bundle_dir, tmp_path):
    """`python spaces/app.py --bundle TINY --port FREE` in a subprocess, up and answering; stopped afterwards."""
    port = _free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = tmp_path / "app.log"
    with open(log, "wb") as out:
        command = [sys.executable, str(APP_PATH), "--bundle", str(bundle_dir), "--port", str(port)]
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer on {url} within 120 s:\n{log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_app_in_a_browser(served_app, demo, tmp_path):
    assert space_app.DECODINGS[0] == "beam search"  # the page's first choice, with the bundle's beams
    expected = _expected(demo.reconstructor, SENTENCE, num_beams=demo.reconstructor.defaults["num_beams"])
    neighbours, _ = demo.neighbours("bank", "", 10)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(served_app)
            page.locator("#sentence textarea").fill(SENTENCE)
            status = page.locator("#status")
            page.evaluate(  # every status the page shows, to see the text grow step by step
                """() => { window.statuses = [];
                new MutationObserver(() => window.statuses.push(document.querySelector('#status').innerText))
                    .observe(document.querySelector('#status'), {subtree: true, childList: true, characterData: true});
                }"""
            )
            page.locator("#reconstruct").click()
            expect(status).to_contain_text("Done:", timeout=60_000)
            text = page.locator("#reconstruction textarea").input_value()
            cosine = float(page.locator("#cosine textarea").input_value())
            assert text == expected["text"] and cosine == pytest.approx(expected["cosine"], abs=1e-3)
            assert any(s.startswith("Step 1 of") for s in page.evaluate("window.statuses"))
            shots = [tmp_path / "space.png"]
            if os.environ.get("HF_TOKENEMBED_SCREENSHOT_DIR"):
                shots.append(Path(os.environ["HF_TOKENEMBED_SCREENSHOT_DIR"]) / "space.png")
            for shot in shots:
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=shot, full_page=True)
                assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

            page.get_by_role("tab", name="Neighbours").click()
            page.locator("#word textarea").fill("bank")
            page.locator("#find").click()
            expect(page.locator("#neighbours-status")).to_contain_text("Nearest entries of “bank”", timeout=30_000)
            hits = page.locator("#hits")
            for entry in neighbours["entry"][:3]:
                expect(hits).to_contain_text(entry)
            outside = [url for url in requests if not url.startswith((served_app, "data:", "blob:"))]
            assert not outside, f"the page fetched from outside the app: {outside}"
        finally:
            browser.close()
