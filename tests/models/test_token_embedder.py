"""TokenEmbedder: shapes, pooling, LoRA placement, bad input."""

from __future__ import annotations

import copy

import pytest
import torch

from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig


def test_encode_shapes_and_norms(tiny_model):
    words = tiny_model.encode_words(["bank", "red herring", "New York"])
    assert words.shape == (3, 24)
    torch.testing.assert_close(words.norm(dim=1), torch.ones(3))
    sentences = tiny_model.encode_sentences(["A cat sat.", "The dog ran home."])
    assert sentences.shape == (2, 32)
    torch.testing.assert_close(sentences.norm(dim=1), torch.ones(2))


def test_empty_list_gives_empty_matrix(tiny_model):
    assert tiny_model.encode_words([]).shape == (0, 24)
    assert tiny_model.encode_in_context([], spans=[]).shape == (0, 24)
    assert tiny_model.encode_sentences([]).shape == (0, 32)


def test_batching_and_length_sorting_do_not_change_vectors(tiny_model):
    words = ["a", "interdisciplinary collaboration", "bank", "red herring", "x y z w v"]
    together = tiny_model.encode_words(words, batch_size=64)
    one_by_one = torch.cat([tiny_model.encode_words([w], batch_size=1) for w in words])
    torch.testing.assert_close(together, one_by_one, atol=1e-5, rtol=1e-5)


def test_homograph_in_context_gets_distinct_vectors(tiny_model):
    sentences = ["We sat on the river bank.", "The bank raised its rates."]
    vectors = tiny_model.encode_in_context(sentences, spans=[(20, 24), (4, 8)])
    assert vectors.shape == (2, 24)
    assert not torch.allclose(vectors[0], vectors[1])


def test_in_context_pools_only_the_span(tiny_model):
    """Changing a word outside the span changes the context, so the vector; the span decides what is pooled."""
    a = tiny_model.encode_in_context(["the river bank"], spans=[(10, 14)])
    b = tiny_model.encode_in_context(["the river bank"], spans=[(4, 9)])
    assert not torch.allclose(a, b)


def test_e5_prefix_shifts_spans(tiny_backbone):
    model = TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, query_prefix="query: ", lora_layers=0))
    features = model.tokenize(["river bank"], spans=[(6, 10)])
    tokens = model.tokenizer.convert_ids_to_tokens(features["input_ids"][0])
    assert [t for t, m in zip(tokens, features["span_mask"][0]) if m] == ["bank"]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: m.encode_words("bank"), TypeError, "`words`"),
        (lambda m: m.encode_words(["bank", 3]), TypeError, r"`words\[1\]`"),
        (lambda m: m.encode_words(["bank", "  "]), ValueError, r"`words\[1\]`"),
        (lambda m: m.encode_words([""]), ValueError, r"`words\[0\]`"),
        (lambda m: m.encode_sentences([None]), TypeError, r"`sentences\[0\]`"),
        (lambda m: m.encode_in_context(["a bank"], spans=[(2, 2)]), ValueError, r"`spans\[0\]`"),
        (lambda m: m.encode_in_context(["a bank"], spans=[(2, 99)]), ValueError, r"`spans\[0\]`"),
        (lambda m: m.encode_in_context(["a bank"], spans=[(-1, 3)]), ValueError, r"`spans\[0\]`"),
        (lambda m: m.encode_in_context(["a  bank"], spans=[(1, 2)]), ValueError, "whitespace"),
        (lambda m: m.encode_in_context(["a bank"], spans=[(2, 6), (0, 1)]), ValueError, "`spans`"),
        (lambda m: m.encode_in_context(["a bank"], spans=[("2", 6)]), TypeError, r"`spans\[0\]`"),
        (lambda m: m.encode_words(["bank"], batch_size=0), ValueError, "`batch_size`"),
    ],
)
def test_bad_input_names_the_argument(tiny_model, call, error, match):
    with pytest.raises(error, match=match):
        call(tiny_model)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pooling": "max"}, "`pooling`"),
        ({"lora_layers": -1}, "`lora_layers`"),
        ({"head_dims": [8]}, "`head_dims`"),
        ({"save_mode": "half"}, "`save_mode`"),
        ({"backbone": ""}, "`backbone`"),
    ],
)
def test_bad_config_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TokenEmbedderConfig(**kwargs)


def test_too_many_lora_layers(tiny_backbone):
    with pytest.raises(ValueError, match="`lora_layers`"):
        TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=5))


def test_lora_touches_only_the_top_layers(tiny_backbone):
    model = TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=2))
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    lora = [name for name in trainable if "lora_" in name]
    layers = {int(name.split("encoder.layer.")[1].split(".")[0]) for name in lora}
    assert layers == {2, 3}
    assert {n.split(".")[-4] for n in lora} == {"query", "key", "value"}
    assert all("lora_" in n or n.startswith("head.") for n in trainable)


def test_zero_lora_layers_freezes_the_backbone(tiny_backbone):
    model = TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=0))
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())


def test_fresh_lora_keeps_the_backbone_function(tiny_backbone):
    """LoRA starts as the identity: sentence vectors equal the frozen backbone's."""
    with_lora = TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=2))
    without = TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=0))
    texts = ["The bank raised its rates.", "A cat."]
    torch.testing.assert_close(with_lora.encode_sentences(texts), without.encode_sentences(texts))


def test_no_head_is_the_raw_pooled_space(tiny_backbone):
    model = TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, head_dims=[]))
    assert model.head is None and model.token_dim == model.sentence_dim == 32
    torch.testing.assert_close(model.encode_words(["bank"]), model.encode_sentences(["bank"]))


def test_forward_returns_model_output(tiny_model):
    batch = tiny_model.collate(tiny_model.tokenize(["bank", "red herring"]), [0, 1])
    output = tiny_model(**batch)
    assert output.embeddings.shape == (2, 24) and output.pooled.shape == (2, 32)
    assert output.last_hidden_state.shape == (2, batch["input_ids"].shape[1], 32)
    torch.testing.assert_close(output.embeddings, tiny_model.encode_words(["bank", "red herring"]))
    as_tuple = tiny_model(**batch, return_dict=False)
    assert isinstance(as_tuple, tuple) and torch.equal(as_tuple[0], output.embeddings)


def test_model_conventions(tiny_backbone, tiny_model):
    """`base_model` is the backbone; unknown arguments are refused; the caller's config is left as it was."""
    assert tiny_model.base_model is tiny_model.backbone
    batch = tiny_model.collate(tiny_model.tokenize(["bank"]), [0])
    with pytest.raises(TypeError, match="output_attentions"):
        tiny_model(**batch, output_attentions=True)
    config = TokenEmbedderConfig(backbone=tiny_backbone, head_dims=[])
    TokenEmbedder(config)
    assert config.backbone_config is None  # still "load the backbone by name", as the caller built it


def test_default_attention_mask_is_made_on_the_inputs_device(tiny_model, monkeypatch):
    seen = {}

    def backbone(input_ids, attention_mask, token_type_ids):
        seen["device"] = attention_mask.device
        raise InterruptedError

    monkeypatch.setattr(tiny_model.backbone, "forward", backbone)
    with pytest.raises(InterruptedError):
        tiny_model(input_ids=torch.ones((1, 3), dtype=torch.long, device="meta"))
    assert seen["device"].type == "meta"


def test_training_step_updates_only_lora_and_head(tiny_model):
    tiny_model.train()
    before = {n: p.detach().clone() for n, p in tiny_model.named_parameters()}
    optimizer = torch.optim.SGD([p for p in tiny_model.parameters() if p.requires_grad], lr=1.0)
    batch = tiny_model.collate(tiny_model.tokenize(["bank", "red herring"]), [0, 1])
    loss = -(tiny_model(**batch).embeddings[0] @ tiny_model(**batch).embeddings[1])
    loss.backward()
    optimizer.step()
    changed = {n for n, p in tiny_model.named_parameters() if not torch.equal(before[n], p)}
    assert changed and all("lora_" in n or n.startswith("head.") for n in changed)
    assert any("lora_B" in n for n in changed)


def test_fingerprint_tracks_weights_not_storage(tiny_model, tmp_path):
    first = tiny_model.fingerprint()
    assert first == tiny_model.fingerprint()
    for mode in ("full", "compact"):  # how a model is stored does not change what it is
        tiny_model.save_pretrained(tmp_path / mode, save_mode=mode)
        assert TokenEmbedder.from_pretrained(tmp_path / mode).fingerprint() == first, mode
    assert copy.deepcopy(tiny_model).half().fingerprint() != first  # other weights' precision: other vectors
    with torch.no_grad():
        tiny_model.head.out.bias.add_(1.0)
    assert tiny_model.fingerprint() != first


@pytest.mark.slow
def test_minilm_raw_space_matches_sentence_transformers(minilm_model):
    from sentence_transformers import SentenceTransformer

    from hf_tokenembed.backbones import DEFAULT_BACKBONE, resolve_backbone_path

    raw = TokenEmbedder(TokenEmbedderConfig(backbone=DEFAULT_BACKBONE, head_dims=[], lora_layers=0))
    words = ["bank", "red herring", "New York", "automobile"]
    reference = SentenceTransformer(resolve_backbone_path(DEFAULT_BACKBONE)).encode(words, convert_to_tensor=True)
    torch.testing.assert_close(raw.encode_words(words), reference.cpu(), atol=1e-5, rtol=1e-4)


@pytest.mark.slow
def test_minilm_context_separates_bank_senses():
    raw = TokenEmbedder(TokenEmbedderConfig(head_dims=[], lora_layers=0))
    sentences = [
        "We sat on the river bank and watched the water.",
        "The muddy bank of the stream was steep.",
        "The bank approved my loan application.",
    ]
    spans = [(s.index("bank"), s.index("bank") + 4) for s in sentences]
    v = raw.encode_in_context(sentences, spans=spans)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])


@pytest.fixture(scope="module")
def tiny_mpnet_model(tmp_path_factory) -> TokenEmbedder:
    """A 4-layer random MPNet (relative position bias shared by the layers; attention as q/k/v) with MiniLM's tokenizer."""
    from transformers import AutoTokenizer, MPNetConfig, MPNetModel

    from hf_tokenembed.backbones import DEFAULT_BACKBONE, resolve_backbone_path

    folder = tmp_path_factory.mktemp("tiny-mpnet")
    tokenizer = AutoTokenizer.from_pretrained(resolve_backbone_path(DEFAULT_BACKBONE))
    config = MPNetConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=64,
        pad_token_id=tokenizer.pad_token_id,
    )
    MPNetModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return TokenEmbedder(TokenEmbedderConfig(backbone=str(folder), lora_layers=2, head_dims=[48, 24])).eval()


def test_lora_targets_follow_the_backbone_architecture(tiny_model, tiny_mpnet_model):
    assert tiny_model.config.lora_target_modules == ["query", "key", "value"]
    assert tiny_mpnet_model.config.lora_target_modules == ["q", "k", "v"]
    trained = {name.split(".lora_")[0] for name, p in tiny_mpnet_model.named_parameters() if p.requires_grad}
    trained = {name for name in trained if name.startswith("backbone.")}
    assert trained == {f"backbone.encoder.layer.{i}.attention.attn.{m}" for i in (2, 3) for m in "qkv"}


@pytest.mark.parametrize("model_fixture", ["tiny_model", "tiny_mpnet_model"])
def test_forward_from_frozen_matches_full_forward(model_fixture, request):
    """Cached bottom-layer states + the trainable top layers give exactly the full forward (BERT and MPNet)."""
    tiny_model = copy.deepcopy(request.getfixturevalue(model_fixture))
    with torch.no_grad():
        for name, param in tiny_model.named_parameters():
            if "lora_B" in name:
                param.add_(0.1)
    features = tiny_model.tokenize(["We sat on the river bank.", "A cat."], spans=[(20, 24), (2, 5)])
    batch = tiny_model.collate(features, [0, 1])
    with torch.no_grad():
        full = tiny_model(**batch)
        states = tiny_model.backbone(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True
        ).hidden_states[tiny_model.frozen_layers]
        cached = tiny_model.forward_from_frozen(states, batch["attention_mask"], batch["span_mask"])
    assert tiny_model.frozen_layers == 2
    torch.testing.assert_close(cached.embeddings, full.embeddings, atol=1e-5, rtol=1e-5)
