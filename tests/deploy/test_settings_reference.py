"""docs/DEPLOY.md's configuration reference is the one rendered from Settings: no setting undocumented."""

from __future__ import annotations

from pathlib import Path

from safesphere.core import settings_reference
from safesphere.core.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "DEPLOY.md"


def test_the_deployment_guide_lists_every_setting_as_the_code_defines_it() -> None:
    text = DEPLOY.read_text()
    start, end = text.index(settings_reference.BEGIN), text.index(settings_reference.END)
    documented = text[start : end + len(settings_reference.END)]

    assert documented == settings_reference.render(), (
        "docs/DEPLOY.md is out of date: replace its reference with "
        "`python -m safesphere.core.settings_reference`"
    )


def test_every_setting_says_what_it_does() -> None:
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []
