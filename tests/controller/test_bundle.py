"""The TextReconstructor bundle: assembled from trained parts, saved, loaded (also as remote code), checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from transformers import AutoModel

from hf_tokenembed import TextReconstructor, TextReconstructorConfig
from hf_tokenembed.controller import Reconstructor
from hf_tokenembed.models.reconstructor import quantize_keys

GREEDY = {"num_beams": 1, "verifier": False, "top_k": 4, "max_steps": 6}
BEAM = {"num_beams": 2, "top_k": 4, "max_steps": 6}


@pytest.fixture(scope="module")
def bundle_dir(controller, tmp_path_factory):
    *_, reconstructor = controller
    folder = tmp_path_factory.mktemp("bundle") / "bundle"
    reconstructor.to_bundle().save_pretrained(folder)
    return folder


def test_save_then_load_decodes_the_same(controller, bundle_dir):
    _, _, train, *_, reconstructor = controller
    bundle = reconstructor.to_bundle()
    loaded = AutoModel.from_pretrained(bundle_dir)
    assert isinstance(loaded, TextReconstructor) and loaded.surfaces == bundle.surfaces
    before, after = Reconstructor.from_bundle(bundle), Reconstructor.from_bundle(loaded)
    for options in (GREEDY, BEAM):
        assert after.reconstruct(train.targets[:4], **options) == before.reconstruct(train.targets[:4], **options)
    target = train.targets[:2]
    torch.testing.assert_close(
        loaded.selector(target=target, summary=target).logits, bundle.selector(target=target, summary=target).logits
    )
    assert (
        loaded.config.decoding == bundle.config.decoding
        and loaded.embedder.fingerprint() == bundle.embedder.fingerprint()
    )


def test_bundle_rounds_its_parts_as_it_stores_them(controller, bundle_dir):
    *_, selector, placer, reconstructor = controller
    bundle = reconstructor.to_bundle()
    keys = selector.entry_keys.float()
    codes, scales = quantize_keys(keys)
    cosines = torch.nn.functional.cosine_similarity(codes.float() * scales[:, None], keys, dim=-1)
    assert (cosines > 0.999).all()  # int8 codes keep the keys' directions
    for original, rounded in ((selector, bundle.selector), (placer, bundle.placer)):
        for (name, a), (_, b) in zip(original.named_parameters(), rounded.named_parameters()):
            torch.testing.assert_close(b, a.half().float(), msg=name)  # fp16 storage, fp32 compute
    sizes = {p.name: p.stat().st_size for p in bundle_dir.rglob("*.safetensors")}
    assert sizes["keys.safetensors"] < keys.numel() * 2  # smaller than the fp16 keys
    assert not (bundle_dir / "embedder" / "model.safetensors").exists()  # compact: the backbone by name


def test_from_components_refuses_parts_that_do_not_belong_together(controller):
    embedder, vocabulary, _, _, selector, placer, _ = controller
    other = type(selector)(selector.config)
    other.set_entry_keys(torch.nn.functional.normalize(torch.randn_like(vocabulary.keys), dim=-1))
    with pytest.raises(ValueError, match="another vocabulary"):
        TextReconstructor.from_components(embedder, other, placer, vocabulary)
    with pytest.raises(ValueError, match="assembled from trained parts"):
        TextReconstructor(TextReconstructorConfig())
    with pytest.raises(ValueError, match="unknown keys"):
        TextReconstructorConfig(decoding={"beams": 2})
    with pytest.raises(ValueError, match="num_beams"):
        TextReconstructorConfig(decoding={"num_beams": 0})
    with pytest.raises(TypeError, match="decoded, not called"):
        TextReconstructor.from_components(embedder, selector, placer, vocabulary)(torch.zeros(1, 4))


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "config"])
def test_a_damaged_bundle_is_a_clear_error(bundle_dir, tmp_path, damage):
    import shutil

    folder = tmp_path / "bundle"
    shutil.copytree(bundle_dir, folder)
    victim = folder / ("keys.safetensors" if damage != "truncate" else "placer/model.safetensors")
    if damage == "flip":
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
        error, match = ValueError, "checksum"
    elif damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:-100])
        error, match = ValueError, "corrupted or truncated"
    elif damage == "delete":
        (folder / "entries.jsonl").unlink()
        error, match = FileNotFoundError, "missing entries.jsonl"
    else:
        (folder / "config.json").write_text("{not json")
        error, match = ValueError, "not a valid bundle config"
    with pytest.raises(error, match=match):
        TextReconstructor.from_pretrained(folder)


def test_an_edited_config_is_a_clear_error(bundle_dir, tmp_path):
    """config.json is checked too: an edited decoding setting or embedder fingerprint never loads silently."""
    import shutil

    for key, value in (("decoding", {"num_beams": 8}), ("embedder_fingerprint", "0123456789abcdef")):
        folder = tmp_path / key
        shutil.copytree(bundle_dir, folder)
        values = json.loads((folder / "config.json").read_text())
        values[key] = {**values[key], **value} if isinstance(value, dict) else value
        (folder / "config.json").write_text(json.dumps(values, indent=2))
        with pytest.raises(ValueError, match=r"config.json does not match its checksum"):
            TextReconstructor.from_pretrained(folder)


def test_an_embedder_the_keys_do_not_come_from_is_refused(controller, bundle_dir, tmp_path):
    """A bundle whose files and config are consistent, but whose embedder is another model than the one its
    vocabulary keys were computed with (its fingerprint differs), is refused."""
    import shutil

    from hf_tokenembed.models.reconstructor.modeling import _checked_files, config_digest

    embedder = controller[0]
    folder = tmp_path / "bundle"
    shutil.copytree(bundle_dir, folder)
    other = type(embedder)(embedder.config)  # fresh LoRA and head weights: another fingerprint
    assert other.fingerprint() != embedder.fingerprint()
    shutil.rmtree(folder / "embedder")
    other.save_pretrained(folder / "embedder", save_mode="compact")
    values = json.loads((folder / "config.json").read_text())
    values["files_sha256"] = _checked_files(folder)
    values["config_sha256"] = config_digest(values)
    (folder / "config.json").write_text(json.dumps(values, indent=2))
    with pytest.raises(ValueError, match="is not the TokenEmbedder the vocabulary keys come from"):
        TextReconstructor.from_pretrained(folder)


def test_an_interrupted_save_leaves_the_previous_bundle(controller, bundle_dir, tmp_path, monkeypatch):
    import shutil

    *_, reconstructor = controller
    folder = tmp_path / "bundle"
    shutil.copytree(bundle_dir, folder)
    bundle = reconstructor.to_bundle()
    monkeypatch.setattr(
        type(bundle.placer), "save_pretrained", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full"))
    )
    with pytest.raises(OSError, match="disk full"):
        bundle.save_pretrained(folder)
    assert isinstance(TextReconstructor.from_pretrained(folder), TextReconstructor)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no staging folder left behind


_HIDDEN_PLUGIN = """
import sys, json
sys.modules["hf_tokenembed"] = None  # the plugin cannot be imported in this process
import torch
from transformers import AutoModel
bundle = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True)
assert type(bundle).__module__.startswith("transformers_modules"), type(bundle).__module__
target = bundle.encode(["The bank raised its rates."])
print(json.dumps({"logits": bundle.selector(target=target, summary=target).logits.tolist(), "n": len(bundle.surfaces)}))
"""


def test_bundle_loads_as_remote_code_without_the_plugin(controller, bundle_dir, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    result = subprocess.run(
        [sys.executable, "-c", _HIDDEN_PLUGIN, str(bundle_dir)], capture_output=True, text=True, env=env,
        cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    bundle = TextReconstructor.from_pretrained(bundle_dir)
    target = bundle.encode(["The bank raised its rates."])
    assert out["n"] == len(bundle.surfaces)
    torch.testing.assert_close(torch.tensor(out["logits"]), bundle.selector(target=target, summary=target).logits)


def test_a_hub_name_is_downloaded_then_loaded_offline(bundle_dir, monkeypatch):
    """A repository id goes through huggingface_hub's `snapshot_download` (stubbed: no network here)."""
    import huggingface_hub

    asked = []

    def snapshot_download(repo_id, **kwargs):
        asked.append((repo_id, kwargs))
        return str(bundle_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    bundle = TextReconstructor.from_pretrained("org/tokenembed-reconstructor", revision="v1")
    assert asked == [("org/tokenembed-reconstructor", {"revision": "v1"})] and bundle.surfaces


def test_push_to_hub_uploads_a_loadable_bundle(controller, monkeypatch, tmp_path):
    """`push_to_hub` saves the whole bundle into the folder it uploads (the hub calls are stubbed: no network)."""
    import shutil
    from types import SimpleNamespace

    import transformers.utils.hub as hub

    *_, reconstructor = controller
    bundle = reconstructor.to_bundle()
    uploaded = tmp_path / "uploaded"
    monkeypatch.setattr(
        hub, "hf_api", lambda: SimpleNamespace(create_repo=lambda repo_id, **_: SimpleNamespace(repo_id=repo_id))
    )
    monkeypatch.setattr(
        hub, "create_and_tag_model_card", lambda *a, **k: SimpleNamespace(save=lambda p: open(p, "w").close())
    )
    monkeypatch.setattr(
        type(bundle), "_upload_modified_files", lambda self, folder, repo_id, **_: shutil.copytree(folder, uploaded)
    )
    bundle.push_to_hub("you/my-reconstructor")
    assert TextReconstructor.from_pretrained(uploaded).surfaces == bundle.surfaces
