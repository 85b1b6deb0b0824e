"""Selector and Placer: shapes, masking, losses, save/load and Auto round trips, remote code, bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoConfig, AutoModel

from hf_tokenembed import Placer, PlacerConfig, Selector, SelectorConfig

D = 16


def _selector(entries: int = 12) -> Selector:
    torch.manual_seed(0)
    selector = Selector(SelectorConfig(sentence_dim=D, token_dim=D, num_entries=entries, hidden_size=32)).eval()
    selector.set_entry_keys(torch.randn(entries, D))
    return selector


def _placer() -> Placer:
    torch.manual_seed(0)
    return Placer(PlacerConfig(sentence_dim=D, token_dim=D, hidden_size=32, num_layers=2, intermediate_size=64)).eval()


def _placer_inputs(lengths=(2, 0, 3), k=4):
    batch, n = len(lengths), max(lengths)
    g = torch.Generator().manual_seed(1)
    mask = torch.zeros((batch, n), dtype=torch.bool)
    for row, length in enumerate(lengths):
        mask[row, :length] = True
    return {
        "target": torch.randn(batch, D, generator=g), "summary": torch.randn(batch, D, generator=g),
        "buffer": torch.randn(batch, n, D, generator=g) * mask.unsqueeze(-1), "buffer_mask": mask,
        "candidates": torch.randn(batch, k, D, generator=g),
    }  # fmt: skip


def test_selector_scores_every_entry_and_learns_the_missing_multiset():
    selector = _selector()  # eval mode: no dropout, so two calls agree
    target, summary = torch.randn(4, D), torch.zeros(4, D)
    labels = torch.zeros(4, 12)
    labels[:, 3] = 2.0  # entry 3 twice, entry 5 once: 2/3 and 1/3 of the target mass
    labels[:, 5] = 1.0
    output = selector(target=target, summary=summary, labels=labels)
    assert output.logits.shape == (4, 12) and output.intention.shape == (4, D)
    torch.testing.assert_close(output.intention.norm(dim=-1), torch.ones(4))
    expected = -(F.log_softmax(output.logits, -1)[:, 3] * 2 / 3 + F.log_softmax(output.logits, -1)[:, 5] / 3).mean()
    torch.testing.assert_close(output.loss, expected)
    complete = labels.clone()
    complete[1:] = 0  # three complete texts: they add nothing, and the loss is still divided by the batch
    partial = selector(target=target, summary=summary, labels=complete).loss
    torch.testing.assert_close(
        partial, -(F.log_softmax(output.logits, -1)[0, [3, 5]] * torch.tensor([2 / 3, 1 / 3])).sum() / 4
    )
    selector.train()
    optimizer = torch.optim.Adam(selector.parameters(), lr=1e-2)
    for _ in range(30):
        optimizer.zero_grad()
        selector(target=target, summary=summary, labels=labels).loss.backward()
        optimizer.step()
    assert set(selector.eval()(target=target, summary=summary).logits.topk(2).indices[0].tolist()) == {3, 5}


def test_selector_search_keys_give_the_logits_by_inner_product():
    selector = _selector()
    out = selector(target=torch.randn(3, D), summary=torch.randn(3, D))
    queries = torch.cat([out.intention, torch.ones(3, 1)], dim=-1)
    torch.testing.assert_close(queries @ selector.search_keys().T, out.logits, atol=1e-4, rtol=1e-4)


def test_selector_bad_input():
    selector = _selector()
    with pytest.raises(ValueError, match="`keys`"):
        selector.set_entry_keys(torch.randn(11, D))
    with pytest.raises(ValueError, match="`keys`"):
        selector.set_entry_keys(torch.full((12, D), float("nan")))
    with pytest.raises(ValueError, match="`labels`"):
        selector(target=torch.randn(2, D), summary=torch.randn(2, D), labels=torch.zeros(2, 11))
    with pytest.raises(ValueError, match="`num_entries`"):
        SelectorConfig(num_entries=0)


def test_placer_masks_padding_and_stop_from_an_empty_buffer():
    placer = _placer()
    inputs = _placer_inputs(lengths=(2, 0, 3), k=4)
    candidate_mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=torch.bool)
    out = placer(**inputs, candidate_mask=candidate_mask)
    assert out.action_logits.shape == (3, 4, 4) and out.logits.shape == (3, 4 * 4 + 1)
    finite = torch.isfinite(out.action_logits)
    assert finite[0].sum() == 3 * 3 and not finite[0, 3].any() and not finite[0, :, 3].any()  # 3 cands, slots 0..2
    assert finite[1].sum() == 4 * 1 and finite[1, :, 0].all()  # empty buffer: one slot
    assert finite[2].sum() == 1 * 4  # one candidate, slots 0..3
    assert torch.isinf(out.stop_logits[1]) and torch.isfinite(out.stop_logits[[0, 2]]).all()
    probs = out.logits.softmax(-1)
    assert torch.allclose(probs.sum(-1), torch.ones(3)) and (probs[~torch.isfinite(out.logits)] == 0).all()


def test_placer_padding_does_not_change_the_scores():
    placer = _placer()
    inputs = _placer_inputs(lengths=(2,), k=3)
    wide = {k: v.clone() for k, v in inputs.items()}
    wide["buffer"] = torch.cat([wide["buffer"], torch.randn(1, 3, D)], dim=1)  # 3 more padded positions
    wide["buffer_mask"] = torch.cat([wide["buffer_mask"], torch.zeros(1, 3, dtype=torch.bool)], dim=1)
    narrow, padded = placer(**inputs), placer(**wide)
    torch.testing.assert_close(padded.action_logits[:, :, :3], narrow.action_logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(padded.stop_logits, narrow.stop_logits, atol=1e-5, rtol=1e-5)


def test_placer_learns_a_slot_and_stop():
    placer = _placer().train()
    inputs = _placer_inputs(lengths=(2, 3), k=2)
    labels = torch.zeros(2, 2 * 4 + 1)
    labels[0, 1 * 4 + 2] = 1.0  # candidate 1 at the end of a two-entry buffer
    labels[1, -1] = 1.0  # the second text is complete
    optimizer = torch.optim.Adam(placer.parameters(), lr=3e-3)
    for _ in range(60):
        optimizer.zero_grad()
        loss = placer(**inputs, labels=labels).loss
        loss.backward()
        optimizer.step()
    best = placer.eval()(**inputs).logits.argmax(-1).tolist()
    assert best == [1 * 4 + 2, 2 * 4]  # STOP is the last action
    bad = torch.zeros(2, 9)
    bad[0, 0 * 4 + 3] = 1.0  # candidate 0 at slot 3: a two-entry buffer has slots 0..2
    with pytest.raises(ValueError, match="invalid action"):
        placer(**inputs, labels=bad)


def test_placer_bad_config_and_too_long_buffer():
    with pytest.raises(ValueError, match="divisible"):
        PlacerConfig(hidden_size=30, num_heads=4)
    placer = Placer(PlacerConfig(sentence_dim=D, token_dim=D, hidden_size=32, max_entries=2))
    with pytest.raises(ValueError, match="at most 2"):
        placer(**_placer_inputs(lengths=(3,), k=2))


@pytest.mark.parametrize("make", [_selector, _placer])
def test_save_load_and_auto_round_trip(make, tmp_path):
    model = make()
    model.save_pretrained(tmp_path / "m")
    assert {"config.json", "model.safetensors", "configuration.py", "modeling.py"} <= set(os.listdir(tmp_path / "m"))
    loaded = AutoModel.from_pretrained(tmp_path / "m").eval()
    assert type(loaded) is type(model)
    assert isinstance(AutoConfig.from_pretrained(tmp_path / "m"), type(model.config))
    if isinstance(model, Selector):
        target = torch.randn(2, D)
        torch.testing.assert_close(
            loaded(target=target, summary=target).logits, model(target=target, summary=target).logits
        )
    else:
        inputs = _placer_inputs()
        torch.testing.assert_close(loaded(**inputs).logits, model(**inputs).logits)


_HIDDEN_PLUGIN = """
import sys, builtins, json
real_import = builtins.__import__
def guarded(name, *args, **kwargs):
    if name.split(".")[0] == "hf_tokenembed":
        raise ImportError("the plugin is not installed here")
    return real_import(name, *args, **kwargs)
builtins.__import__ = guarded
import torch
from transformers import AutoModel
model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
torch.manual_seed(0)
target = torch.randn(2, 16)
print(json.dumps(model(target=target, summary=target).logits.tolist()))
"""


def test_selector_loads_as_remote_code_without_the_plugin(tmp_path):
    import json

    model = _selector()
    model.save_pretrained(tmp_path / "m")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    result = subprocess.run(
        [sys.executable, "-c", _HIDDEN_PLUGIN, str(tmp_path / "m")], capture_output=True, text=True, env=env,
        cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    torch.manual_seed(0)
    target = torch.randn(2, 16)
    expected = model(target=target, summary=target).logits
    torch.testing.assert_close(torch.tensor(json.loads(result.stdout.strip().splitlines()[-1])), expected)
