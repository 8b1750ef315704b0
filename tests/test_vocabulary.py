"""The shared vocabulary (kiosk/backend/vocabulary.py) is the one list of each kind of name:
everything that offers a choice of them agrees with it."""

from __future__ import annotations

from importlib import resources

import pytest
from pydantic import ValidationError

from kiosk.backend import vocabulary as v
from kiosk.engine.config import Organization
from kiosk.engine.delivery import CHANNELS
from kiosk.engine.methods import CHANNELS_OF, METHODS, NOTICE_CHANNELS


def test_every_language_has_a_name_and_a_catalogue() -> None:
    assert tuple(v.LANGUAGE_NAMES) == v.LANGUAGES
    for language in v.LANGUAGES:
        assert (resources.files("kiosk") / "locale" / f"{language}.json").is_file(), language


def test_the_policy_takes_exactly_the_vocabularys_themes_and_languages() -> None:
    for theme in v.THEMES:
        assert Organization(theme=theme).theme == theme
    assert Organization().languages == list(v.LANGUAGES)
    with pytest.raises(ValidationError):
        Organization(theme="neon")
    with pytest.raises(ValidationError):
        Organization(languages=["xx"])


def test_every_theme_is_drawn_by_the_ui() -> None:
    from kiosk.styles.themes import THEMES as DRAWN

    assert tuple(DRAWN) == v.THEMES


def test_each_method_kind_has_one_verifier_and_its_channels_are_channels() -> None:
    # the registrable kinds, then the helpdesk's pass (issued, never registered)
    assert tuple(METHODS) == (*v.METHOD_KINDS, v.MethodKind.PASS)
    assert set(v.PHONE_KINDS) < set(v.CONTACT_KINDS) < set(v.METHOD_KINDS)
    assert {kind for kind, channels in CHANNELS_OF.items() if channels} == set(v.CONTACT_KINDS)
    assert all(set(channels) <= set(v.Channel) for channels in CHANNELS_OF.values())
    assert set(NOTICE_CHANNELS) <= set(v.CONTACT_KINDS)
    assert all(NOTICE_CHANNELS[k] in CHANNELS_OF[k] for k in NOTICE_CHANNELS)
    assert {channel.value for channel in v.Channel} == CHANNELS
