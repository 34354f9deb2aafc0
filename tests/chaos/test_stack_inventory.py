"""The offline inventory cache: keyed by every input of the evaluation, never stale. No server."""
from __future__ import annotations

import json

import pytest

from chaos.targets import stack_inventory as cache
from infra import evaluation_cache


@pytest.fixture()
def project(tmp_path, monkeypatch):
    root = tmp_path / "project"
    (root / "infra").mkdir(parents=True)
    (root / "__main__.py").write_text("raise SystemExit('not evaluable here')\n")
    (root / "Pulumi.yaml").write_text("name: securecart-dr\n")
    (root / "Pulumi.demo.yaml").write_text("config: {}\n")
    (root / "infra" / "config.py").write_text("X = 1\n")
    monkeypatch.setenv("SECURECART_CACHE_DIR", str(tmp_path / "cache"))
    return root


def test_a_cached_evaluation_is_returned_without_evaluating(project, tmp_path):
    key = evaluation_cache.inputs_digest("demo", project)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / f"inventory-demo-{key[:24]}.json").write_text(json.dumps({"stack": "demo"}))
    assert cache.stack_inventory("demo", project) == {"stack": "demo"}


@pytest.mark.parametrize("edit", ["infra/config.py", "Pulumi.demo.yaml", "__main__.py"])
def test_any_input_edit_is_a_new_key(project, edit):
    before = evaluation_cache.inputs_digest("demo", project)
    (project / edit).write_text((project / edit).read_text() + "# edited\n")
    assert evaluation_cache.inputs_digest("demo", project) != before


def test_the_cache_can_be_turned_off(project, monkeypatch):
    monkeypatch.setenv("SECURECART_CACHE_DIR", "off")
    assert evaluation_cache.cache_dir() is None
