"""docs/parameter-defaults.md is generated from the module declarations and in sync."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("parameter_register",
                                                  ROOT / "tools" / "parameter_register.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generated_register_is_in_sync():
    tool = _tool()
    text = tool.render()
    assert "## `modules.learning`" in text and "| `public_rate` | `0.005555555555555556` |" in text
    assert tool.TARGET.read_text(encoding="utf-8") == text, (
        "run: python tools/parameter_register.py")


def test_check_mode_fails_on_a_stale_file(tmp_path, monkeypatch):
    tool = _tool()
    stale = tmp_path / "parameter-defaults.md"
    stale.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(tool, "TARGET", stale)
    assert tool.main(["--check"]) == 1
    assert tool.main([]) == 0
    assert tool.main(["--check"]) == 0
