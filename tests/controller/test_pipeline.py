"""`pipeline("text-reconstruction")` over a tiny bundle: strings, vectors, batches, parameters and bad input."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from transformers import pipeline

import hf_tokenembed  # noqa: F401  (registers the task)

FAST = {"num_beams": 1, "verifier": False, "top_k": 4, "max_steps": 5}
BEAM = {"num_beams": 2, "top_k": 4, "max_steps": 5}  # verifier on: the bundle's default


def same(a, b) -> bool:
    """Equal results: the same texts, cosines equal up to float noise of batching."""
    a, b = (a, b) if isinstance(a, list) else ([a], [b])
    return len(a) == len(b) and all(
        x["text"] == y["text"] and x["cosine"] == pytest.approx(y["cosine"], abs=1e-5) for x, y in zip(a, b)
    )


def test_strings_are_embedded_and_rebuilt(rebuild, controller):
    embedder, _, train, *_ = controller
    text = train.texts[0]
    single = rebuild(text, **FAST)
    assert set(single) == {"text", "cosine"} and single["text"]  # the first step always writes an entry
    target = embedder.encode_sentences([text])[0]
    assert single["cosine"] == pytest.approx(float(embedder.encode_sentences([single["text"]])[0] @ target), abs=1e-4)
    batch = rebuild(list(train.texts[:3]), **FAST)
    assert isinstance(batch, list) and len(batch) == 3 and same(batch[0], single)


@pytest.mark.parametrize("options", [FAST, BEAM], ids=["greedy", "verifier beam"])
def test_every_item_of_a_batch_decodes_as_it_does_alone(rebuild, controller, options):
    """Items 1 and 2 too; under the verifier beam the children of all three inputs are embedded in one call."""
    _, _, train, *_ = controller
    texts = list(train.texts[3:6])
    assert same(rebuild(texts, **options), [rebuild(text, **options) for text in texts])


@pytest.mark.parametrize("options", [FAST, BEAM], ids=["greedy", "verifier beam"])
def test_a_call_split_into_chunks_decodes_as_one_batch(controller, options):
    """`batch_size` inputs are decoded together, the rest in later chunks: each result is still its own input's."""
    *_, reconstructor = controller
    targets = controller[2].targets[:5]
    alone = [reconstructor.reconstruct(target, **options)[0] for target in targets]
    for batch_size in (2, 32):
        assert same(reconstructor.reconstruct(targets, batch_size=batch_size, **options), alone), batch_size


def test_vectors_torch_numpy_single_and_batch(rebuild, controller):
    _, _, train, *_ = controller
    vectors = train.targets[:3]
    as_torch = rebuild(vectors, **FAST)
    assert same(rebuild(vectors.numpy(), **FAST), as_torch)
    assert same(rebuild([v.numpy() for v in vectors], **FAST), as_torch)
    single = rebuild(vectors[0], **FAST)
    assert isinstance(single, dict) and same(single, as_torch[0])
    assert same(rebuild(vectors[0].numpy().astype(np.float64), **FAST), single)


def test_parameters_and_steps(rebuild, controller):
    embedder, _, train, *_ = controller
    result = rebuild(train.targets[0], return_steps=True, **FAST)
    assert "steps" in result and len([s for s in result["steps"] if s["entry"] is not None]) <= FAST["max_steps"]
    beam = rebuild(train.targets[0], **BEAM)
    assert "steps" not in beam and beam["text"]
    target = torch.nn.functional.normalize(train.targets[0], dim=0)
    assert beam["cosine"] == pytest.approx(float(embedder.encode_sentences([beam["text"]])[0] @ target), abs=1e-4)
    with pytest.raises(TypeError, match="unknown parameter"):
        rebuild(train.targets[0], beams=2)
    with pytest.raises(ValueError, match="top_k"):
        rebuild(train.targets[0], top_k=0)
    with pytest.raises(ValueError, match="patience"):  # passed on to the decoder, which checks it
        rebuild(train.targets[0], patience=0, **FAST)


def test_over_long_text_is_truncated_with_a_warning(rebuild, caplog):
    words = " ".join(["the bank"] * 30)  # 60 words
    with caplog.at_level(logging.WARNING, logger="hf_tokenembed"):
        long = rebuild(words, **FAST)
    assert "truncated to its first 40" in caplog.text
    assert same(long, rebuild(" ".join(words.split()[:40]), **FAST))


@pytest.mark.parametrize(
    ("inputs", "error", "match"),
    [
        ("", ValueError, "empty text"),
        ("   ", ValueError, "empty text"),
        ([], ValueError, "empty"),
        (42, ValueError, "must be a string"),
        (["a text", torch.zeros(3)], TypeError, "all strings or all vectors"),
        (torch.ones(7), ValueError, "dimension 7"),
        (torch.full((2, 0), 1.0), ValueError, "dimension 0"),
        ("nan", ValueError, "NaN or infinite"),
        ("inf", ValueError, "NaN or infinite"),
        ("zero", ValueError, "zero vector"),
        (torch.ones(2, 3, 4), ValueError, "shape"),
        (np.array(["a", "b"]), TypeError, "real numbers"),
    ],
)
def test_bad_input_is_a_clear_error(rebuild, controller, inputs, error, match):
    dim = controller[0].sentence_dim
    special = {
        "nan": torch.full((dim,), float("nan")),
        "inf": torch.full((dim,), float("inf")),
        "zero": torch.zeros(dim),
    }
    inputs = special.get(inputs, inputs) if isinstance(inputs, str) and inputs in special else inputs
    with pytest.raises(error, match=match):
        rebuild(inputs, **FAST)


def test_only_the_cpu(controller, tmp_path):
    *_, reconstructor = controller
    reconstructor.to_bundle().save_pretrained(tmp_path / "b")
    with pytest.raises(ValueError, match="decodes on the CPU"):
        pipeline("text-reconstruction", model=str(tmp_path / "b"), device="cuda")
