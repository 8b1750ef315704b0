"""The shared vocabulary (kiosk/backend/vocabulary.py) is the one list of each kind of name:
everything that offers a choice of them agrees with it."""

from __future__ import annotations

from importlib import resources

import pytest
from pydantic import ValidationError

from kiosk.backend import (
    CONTACT_KINDS,
    LANGUAGE_NAMES,
    LANGUAGES,
    METHOD_KINDS,
    PHONE_KINDS,
    THEMES,
    Channel,
)
from kiosk.engine.config import Organization
from kiosk.engine.delivery import CHANNELS
from kiosk.engine.methods import CHANNELS_OF, METHODS, NOTICE_CHANNELS


def test_every_language_has_a_name_and_a_catalogue() -> None:
    assert tuple(LANGUAGE_NAMES) == LANGUAGES
    for language in LANGUAGES:
        assert (resources.files("kiosk") / "locale" / f"{language}.json").is_file(), language


def test_the_policy_takes_exactly_the_vocabularys_themes_and_languages() -> None:
    for theme in THEMES:
        assert Organization(theme=theme).theme == theme
    assert Organization().languages == list(LANGUAGES)
    with pytest.raises(ValidationError):
        Organization(theme="neon")
    with pytest.raises(ValidationError):
        Organization(languages=["xx"])


def test_every_theme_is_drawn_by_the_ui() -> None:
    from kiosk.styles.themes import THEMES as DRAWN

    assert tuple(DRAWN) == THEMES


def test_each_method_kind_has_one_verifier_and_its_channels_are_channels() -> None:
    assert tuple(METHODS) == METHOD_KINDS
    assert set(PHONE_KINDS) < set(CONTACT_KINDS) < set(METHOD_KINDS)
    assert {kind for kind, channels in CHANNELS_OF.items() if channels} == set(CONTACT_KINDS)
    assert all(set(channels) <= set(Channel) for channels in CHANNELS_OF.values())
    assert set(NOTICE_CHANNELS) <= set(CONTACT_KINDS)
    assert all(NOTICE_CHANNELS[k] in CHANNELS_OF[k] for k in NOTICE_CHANNELS)
    assert {channel.value for channel in Channel} == CHANNELS
