"""Unusual and bad input across the public API: the README's robustness rows not tested next to their module, and
property-based tests (hypothesis) over the pipeline and `encode_in_context` spans."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from safetensors.torch import load_file
from transformers import pipeline

from hf_tokenembed import TokenEmbedder
from hf_tokenembed.data import load_data
from hf_tokenembed.index import neighbors
from hf_tokenembed.index.vocab_index import VocabIndex
from hf_tokenembed.models import TextReconstructor

from .test_pipeline import FAST

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNUSUAL_TEXTS = [
    "Ça coûte 5 € ce matin à Zürich.",
    "東京タワーは高い。",
    "Здравствуйте, как дела?",
    "Great news 🎉🎉 today 😀!",
    "👍",
]


def _is_result(result: dict) -> bool:
    return isinstance(result["text"], str) and math.isfinite(result["cosine"]) and abs(result["cosine"]) <= 1 + 1e-5


@pytest.mark.parametrize("text", UNUSUAL_TEXTS)
def test_non_english_and_emoji_text_is_embedded_and_rebuilt(rebuild, controller, text):
    embedder = controller[0]
    vectors = embedder.encode_words([text.split()[0]])
    assert torch.isfinite(vectors).all() and torch.allclose(vectors.norm(dim=-1), torch.ones(1), atol=1e-5)
    assert _is_result(rebuild(text, **FAST))


def test_unknown_words_get_vectors_neighbours_and_a_reconstruction_in_the_vocabulary(rebuild, controller):
    embedder, vocabulary = controller[0], controller[1]
    unknown = ["qwzxvbnmk", "flibbertigibbetzz"]
    assert not any(word in vocabulary.surfaces for word in unknown)
    vectors = embedder.encode_words(unknown)
    assert torch.isfinite(vectors).all() and vectors.shape == (2, embedder.token_dim)
    index = vocabulary.neighbor_index()
    hits = neighbors(index, embedder, unknown, k=3)
    assert [len(h) for h in hits] == [3, 3]
    result = rebuild(" ".join(unknown), return_steps=True, **FAST)
    written = [step["entry"] for step in result["steps"] if step["action"] == "insert"]
    assert _is_result(result) and all(entry in vocabulary.surfaces for entry in written)


def test_vector_dtypes_are_cast_to_float32_or_refused(rebuild, controller):
    target = controller[2].targets[0].numpy().astype(np.float32)
    expected = rebuild(target, **FAST)
    assert rebuild(target.astype(np.float64), **FAST) == expected
    assert rebuild(torch.from_numpy(target).double(), **FAST) == expected
    half = torch.from_numpy(target).half()
    assert rebuild(half, **FAST) == rebuild(half.float(), **FAST)  # cast to float32, then decoded as such
    signs = np.sign(target).astype(np.int64)
    assert rebuild(signs, **FAST) == rebuild(signs.astype(np.float32), **FAST)
    with pytest.raises(TypeError, match="real-valued"):
        rebuild(torch.from_numpy(target) > 0, **FAST)
    with pytest.raises(TypeError, match="real numbers"):
        rebuild(target.astype(np.complex64), **FAST)
    with pytest.raises(ValueError, match="NaN or infinite"):  # overflows float32
        rebuild(target.astype(np.float64) * 1e300, **FAST)


def test_missing_folders_are_clear_errors(tmp_path):
    missing = str(tmp_path / "nothing-here")
    with pytest.raises(FileNotFoundError, match="no model folder at"):
        TokenEmbedder.from_pretrained(missing)
    with pytest.raises(FileNotFoundError, match="no bundle folder at"):
        TextReconstructor.from_pretrained(missing)
    with pytest.raises(OSError, match="nothing-here"):  # transformers' pipeline() reads the config first
        pipeline("text-reconstruction", model=missing)
    with pytest.raises(FileNotFoundError, match="holds no saved VocabIndex"):
        VocabIndex.load(missing)
    with pytest.raises(FileNotFoundError, match="not a data folder"):
        load_data(missing)


def _damage(path, damage: str) -> tuple[type[Exception], str]:
    """Flip one bit near the end of `path` (inside the data: the file still parses), cut its end off, or delete it;
    the error its folder's loader must raise."""
    if damage == "flip":
        data = bytearray(path.read_bytes())
        data[-10] ^= 0x01
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:-64])
    else:
        path.unlink()
    return (FileNotFoundError, "missing") if damage == "delete" else (ValueError, "corrupted or truncated")


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_a_damaged_model_folder_is_a_clear_error(tiny_model, tmp_path, damage):
    folder = tmp_path / "model"
    tiny_model.save_pretrained(folder)
    error, match = _damage(next(folder.glob("*.safetensors")), damage)
    with pytest.raises(error, match=match):
        TokenEmbedder.from_pretrained(folder)


def test_weights_load_only_from_safetensors(tiny_model, tmp_path):
    """A folder whose weights are a pickle (pytorch_model.bin) is refused, never unpickled."""
    folder = tmp_path / "model"
    tiny_model.save_pretrained(folder)
    weights = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    (folder / "weights_sha256.json").unlink()
    torch.save(weights, folder / "pytorch_model.bin")
    with pytest.raises(OSError, match="model.safetensors"):
        TokenEmbedder.from_pretrained(folder)


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_a_damaged_data_folder_is_a_clear_error(tiny_data_dir, tmp_path, damage):
    folder = tmp_path / "data"
    shutil.copytree(tiny_data_dir, folder)
    error, match = _damage(next((folder / "corpus" / "train").glob("*.arrow")), damage)
    with pytest.raises(error, match=match):
        load_data(folder)
    assert load_data(tiny_data_dir)["corpus"]["train"].num_rows > 0  # the intact folder still loads


@PROPERTY
@given(text=st.text(max_size=80))
def test_any_text_is_rebuilt_or_refused_as_empty(rebuild, text):
    if not text.split():
        with pytest.raises(ValueError, match="empty text"):
            rebuild(text, **FAST)
    else:
        assert _is_result(rebuild(text, **FAST))


@PROPERTY
@given(data=st.data())
def test_any_vector_is_rebuilt_or_refused_with_its_reason(rebuild, controller, data):
    dim = controller[0].sentence_dim
    floats = st.floats(allow_nan=True, allow_infinity=True, width=32).filter(lambda x: not 0 < abs(x) < 1e-6)
    vector = data.draw(arrays(np.float32, dim, elements=floats | st.sampled_from([0.0, -0.0])))
    if not np.isfinite(vector).all():
        with pytest.raises(ValueError, match="NaN or infinite"):
            rebuild(vector, **FAST)
    elif not vector.any():  # (norms under 1e-12, which float32 cannot tell from 0, count as zero: not drawn here)
        with pytest.raises(ValueError, match="zero vector"):
            rebuild(vector, **FAST)
    else:
        assert _is_result(rebuild(vector, **FAST))


_WORDS = st.lists(st.from_regex(r"[A-Za-z]{1,10}", fullmatch=True), min_size=1, max_size=12)


@PROPERTY
@given(words=_WORDS, data=st.data())
def test_any_word_span_of_a_sentence_gets_a_unit_vector(_tiny_model, words, data):
    """A span of whole words, anywhere in the sentence: one finite unit vector, the same in a batch as alone."""
    first = data.draw(st.integers(0, len(words) - 1))
    last = data.draw(st.integers(first, len(words) - 1))
    sentence = " ".join(words)
    start = len(" ".join(words[:first])) + (first > 0)
    end = start + len(" ".join(words[first : last + 1]))
    vector = _tiny_model.encode_in_context([sentence], spans=[(start, end)])
    assert vector.shape == (1, _tiny_model.token_dim) and torch.isfinite(vector).all()
    assert vector.norm() == pytest.approx(1.0, abs=1e-5)
    batch = _tiny_model.encode_in_context(["A bank by the river.", sentence], spans=[(2, 6), (start, end)])
    assert torch.allclose(batch[1], vector[0], atol=1e-5)


@PROPERTY
@given(words=_WORDS, start=st.integers(-5, 140), end=st.integers(-5, 140))
def test_any_span_is_encoded_or_refused_naming_it(_tiny_model, words, start, end):
    sentence = " ".join(words)
    inside = 0 <= start < end <= len(sentence)
    if inside and sentence[start:end].strip():  # a span may carry spaces around its word, not be only spaces
        assert torch.isfinite(_tiny_model.encode_in_context([sentence], spans=[(start, end)])).all()
    else:
        with pytest.raises(ValueError, match=r"`spans\[0\]`|whitespace"):
            _tiny_model.encode_in_context([sentence], spans=[(start, end)])
