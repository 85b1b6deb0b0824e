"""The one atomic-replace helper behind every folder the package writes (data, WordNet, feature cache, index)."""

from __future__ import annotations

import os
import stat

import pytest

from hf_tokenembed.atomic import replace_dir, staging_dir, write_text, written_dir


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


def test_written_folders_and_files_get_the_modes_mkdir_and_open_give(tmp_path):
    """mkdtemp makes a private folder (0700): a saved bundle or index must not stay unreadable to the group/others."""
    umask = os.umask(0o022)
    try:
        with written_dir(tmp_path / "bundle") as staging:
            (staging / "weights.bin").write_bytes(b"w")
        write_text(tmp_path / "card.md", "card")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "bundle").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "card.md").stat().st_mode) == 0o644
