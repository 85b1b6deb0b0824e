"""Save forms, Auto registration, remote code without the plugin, SentenceTransformer export, push_to_hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from transformers import AutoConfig, AutoModel

from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig

WORDS = ["bank", "red herring", "New York"]
CONTEXT = (["We sat on the river bank."], [(20, 24)])


def _trained(model: TokenEmbedder) -> TokenEmbedder:
    """Perturb LoRA and head so a round trip that dropped them would show."""
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(0.05 * torch.randn_like(param))
    return model


@pytest.mark.parametrize("save_mode", ["full", "compact"])
def test_round_trip_is_exact(tiny_model, tmp_path, save_mode):
    model = _trained(tiny_model)
    model.save_pretrained(tmp_path / "m", save_mode=save_mode)
    loaded = AutoModel.from_pretrained(tmp_path / "m")
    assert isinstance(loaded, TokenEmbedder)
    torch.testing.assert_close(loaded.encode_words(WORDS), model.encode_words(WORDS), atol=1e-6, rtol=0)
    torch.testing.assert_close(
        loaded.encode_in_context(*CONTEXT), model.encode_in_context(*CONTEXT), atol=1e-6, rtol=0
    )
    assert loaded.fingerprint() == model.fingerprint()


def test_save_forms_differ_in_what_they_store(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "full")
    tiny_model.save_pretrained(tmp_path / "compact", save_mode="compact")
    full, compact = sorted(os.listdir(tmp_path / "full")), sorted(os.listdir(tmp_path / "compact"))
    assert "model.safetensors" in full and "token_embedder.safetensors" in compact
    assert not any(name.endswith((".bin", ".pt", ".pth")) for name in full + compact)
    assert (
        os.path.getsize(tmp_path / "compact" / "token_embedder.safetensors")
        < os.path.getsize(tmp_path / "full" / "model.safetensors") / 10
    )
    config = json.loads((tmp_path / "compact" / "config.json").read_text())
    assert config["backbone_config"] is None and config["save_mode"] == "compact"
    for folder in ("full", "compact"):
        config = json.loads((tmp_path / folder / "config.json").read_text())
        assert config["auto_map"] == {
            "AutoConfig": "configuration.TokenEmbedderConfig",
            "AutoModel": "modeling.TokenEmbedder",
        }
        assert {"modeling.py", "configuration.py", "tokenizer.json"} <= set(os.listdir(tmp_path / folder))


def test_auto_config_is_registered():
    assert isinstance(AutoConfig.for_model("token_embedder"), TokenEmbedderConfig)


def test_pickle_weights_are_refused(tiny_model, tmp_path):
    with pytest.raises(ValueError, match="safetensors"):
        tiny_model.save_pretrained(tmp_path / "m", safe_serialization=False)


def test_save_into_a_file_path_is_refused(tiny_model, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="`save_directory`"):
        tiny_model.save_pretrained(tmp_path / "file")


def test_crash_during_save_leaves_no_partial_checkpoint(tiny_model, tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(tiny_model.tokenizer), "save_pretrained", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        tiny_model.save_pretrained(tmp_path / "m")
    assert not (tmp_path / "m").exists()
    assert os.listdir(tmp_path) == []


_HIDDEN_PLUGIN = """
import sys, json
sys.modules["hf_tokenembed"] = None  # the plugin cannot be imported in this process
from transformers import AutoModel
model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True)
assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
print(json.dumps(model.encode_words(["bank", "red herring", "New York"]).tolist()))
"""


def test_trust_remote_code_without_the_plugin(tiny_model, tmp_path):
    model = _trained(tiny_model)
    model.save_pretrained(tmp_path / "m")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    result = subprocess.run(
        [sys.executable, "-c", _HIDDEN_PLUGIN, str(tmp_path / "m")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    vectors = torch.tensor(json.loads(result.stdout.strip().splitlines()[-1]))
    torch.testing.assert_close(vectors, model.encode_words(WORDS), atol=1e-6, rtol=0)


@pytest.mark.parametrize("space", ["sentence", "token"])
def test_sentence_transformer_export_loads_plainly_and_gives_the_same_vectors(tiny_model, tmp_path, space):
    """Merged LoRA, saved, loaded by plain `SentenceTransformer(path)`: the vectors of encode_sentences / encode_words."""
    from safetensors import safe_open
    from sentence_transformers import SentenceTransformer

    model = _trained(tiny_model)
    texts = ["The bank cut its rates.", "red herring", "We sat on the river bank and watched the boats."]
    expected = model.encode_sentences(texts) if space == "sentence" else model.encode_words(texts)
    model.to_sentence_transformer(space=space).save(str(tmp_path / "st"))
    with safe_open(tmp_path / "st" / "model.safetensors", "pt") as weights:
        names = list(weights.keys())
    assert names and not any("lora" in name for name in names)  # merged: plain encoder weights
    loaded = SentenceTransformer(str(tmp_path / "st"), device="cpu")
    torch.testing.assert_close(loaded.encode(texts, convert_to_tensor=True).cpu(), expected, atol=1e-5, rtol=0)


def test_sentence_transformer_for_training_shares_weights(tiny_model):
    model = _trained(tiny_model)
    st = model.to_sentence_transformer(space="token", merge_lora=False)
    torch.testing.assert_close(
        st.encode(WORDS, convert_to_tensor=True).cpu(), model.encode_words(WORDS), atol=1e-5, rtol=0
    )
    with torch.no_grad():
        model.head.out.bias.add_(0.5)
        next(p for n, p in model.backbone.named_parameters() if "lora_B" in n).add_(0.5)
    torch.testing.assert_close(
        st.encode(WORDS, convert_to_tensor=True).cpu(), model.encode_words(WORDS), atol=1e-5, rtol=0
    )
    with pytest.raises(ValueError, match="`space`"):
        model.to_sentence_transformer(space="words")


def test_push_to_hub_uploads_the_saved_folder(tiny_model, monkeypatch):
    """push_to_hub goes through huggingface_hub as usual; the upload is captured instead of sent."""
    import huggingface_hub

    uploaded = {}

    def fake_create_repo(self, repo_id, **kwargs):
        return huggingface_hub.RepoUrl(f"https://huggingface.co/{repo_id}")

    def fake_upload(self, *args, **kwargs):
        folder = kwargs.get("folder_path") or args[0]
        uploaded["files"] = sorted(os.listdir(folder))
        uploaded["repo_id"] = kwargs.get("repo_id")

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", fake_create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", fake_upload)
    monkeypatch.setattr(huggingface_hub.HfApi, "create_commit", lambda self, *a, **k: uploaded.setdefault("commit", k))
    tiny_model.push_to_hub("someone/tiny-token-embedder", token="hf_fake")
    files = uploaded.get("files") or [op.path_in_repo for op in uploaded["commit"]["operations"]]
    assert {"config.json", "model.safetensors", "modeling.py", "configuration.py"} <= set(files)
