"""The one atomic-replace helper behind every folder the package writes (data, WordNet, feature cache, index)."""

from __future__ import annotations

import os

import pytest

from hf_tokenembed.atomic import replace_dir, staging_dir, write_text


def _folder(path, text):
    path.mkdir()
    (path / "file.txt").write_text(text)
    return path


def test_replace_dir_swaps_in_the_new_folder_and_leaves_no_debris(tmp_path):
    target = _folder(tmp_path / "target", "old")
    new = staging_dir(target)
    (new / "file.txt").write_text("new")
    replace_dir(new, target)
    assert (target / "file.txt").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["target"]


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    target = _folder(tmp_path / "target", "old")
    new = _folder(tmp_path / "new", "new")
    real_replace = os.replace

    def fail_on_the_swap(src, dst):
        if os.fspath(src) == os.fspath(new):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_the_swap)
    with pytest.raises(OSError, match="disk full"):
        replace_dir(new, target)
    assert (target / "file.txt").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["new", "target"]


def test_write_text_replaces_whole_files_only(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    write_text(path, "first")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("interrupted")))
    with pytest.raises(OSError, match="interrupted"):
        write_text(path, "second")
    assert path.read_text() == "first" and os.listdir(tmp_path) == ["results.json"]
