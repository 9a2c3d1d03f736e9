"""No chat test sees the developer's LLM keys or endpoints (tests/conftest.py clears GLP_* and
DATABASE_URL, not these)."""

from __future__ import annotations

import os

import pytest

from glp_pipeline.settings import get_settings

LLM_PREFIXES = ("ANTHROPIC_", "OPENAI_")


@pytest.fixture(autouse=True)
def _no_llm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(LLM_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
