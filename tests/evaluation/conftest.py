"""Fixtures for the evaluation tests."""

from __future__ import annotations

import pytest

from .fakes import FakeEmbedder


@pytest.fixture
def fake() -> FakeEmbedder:
    return FakeEmbedder()
