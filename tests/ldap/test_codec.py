"""Wire details and configuration of the LDAP directory (no server needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.engine.config import PolicyError, parse_policy
from kiosk.engine.ldap_codec import (
    AD_GENERIC_REFUSAL,
    PPOLICY_OID,
    ad_refusal,
    generalized_time,
    guid_filter_value,
    guid_text,
    id_filter,
    ppolicy_error,
)
from kiosk.engine.ldap_conn import read_bind_password


def result_with(value: bytes | None) -> dict[str, object]:
    return {"controls": {PPOLICY_OID: {"value": value}}}


@pytest.mark.parametrize(("value", "error"), [
    (b"0\x03\x81\x01\x08", 8),  # passwordInHistory, as slapd sends it
    (b"0\x03\x81\x01\x06", 6),  # passwordTooShort
    (b"0\x08\xa0\x03\x80\x01\x3c\x81\x01\x01", 1),  # a warning, then accountLocked
    (b"0\x05\xa0\x03\x80\x01\x3c", None),  # a warning only
    (b"0\x81\x03\x81\x01\x05", 5),  # long-form length
    (b"0\x00", None),
    (b"\x04\x01x", None),  # not a SEQUENCE
    (b"0\x05\x81", None),  # truncated
    (None, None),
])
def test_ppolicy_response_control(value: bytes | None, error: int | None) -> None:
    assert ppolicy_error(result_with(value)) == error


def test_ppolicy_error_without_a_control() -> None:
    assert ppolicy_error({"result": 19}) is None
    assert ppolicy_error(None) is None


def test_guid_forms() -> None:
    guid = uuid.UUID("d5f9b6e1-3c0a-4b7e-9f21-0a1b2c3d4e5f")
    assert guid_text(guid.bytes_le) == str(guid)
    value = guid_filter_value(str(guid))
    assert value.startswith("\\e1\\b6\\f9\\d5") and len(value) == 48  # little-endian fields
    assert id_filter("objectGUID", str(guid)) == f"(objectGUID={value})"
    assert id_filter("entryUUID", "a*)(b") == "(entryUUID=a\\2a\\29\\28b)"


def test_generalized_time() -> None:
    assert generalized_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "20260102030405Z"


def test_ad_refusal() -> None:
    # Samba's texts (as its DC sends them) name the rule; Windows' carry none
    samba = "0000052D: Constraint violation - check_password_restrictions: "
    assert ad_refusal(samba + "the password is too short. It should be equal or longer than "
                      "20 characters!") == ("passwordTooShort", "the directory needs a longer "
                                            "password (20 characters)", {"min_length": 20})
    assert ad_refusal(samba + "the password does not meet the complexity criteria!")[0] == \
        "insufficientPasswordQuality"
    assert ad_refusal(samba + "the password was already used (in history)!")[0] == \
        "passwordInHistory"
    assert ad_refusal(samba + "password is too young to change!")[0] == "passwordTooYoung"
    assert ad_refusal("0000052D: AtrErr: DSID-03191083, #1:") == (
        "passwordRestriction", AD_GENERIC_REFUSAL, {})
    assert ad_refusal("00000005: SecErr: DSID-031A11E1, problem 4003") is None
    assert ad_refusal("") is None


def test_ldap_settings_are_validated() -> None:
    with pytest.raises(PolicyError) as missing:
        parse_policy({"directory": {"kind": "ldap"}})
    assert missing.value.problems == ["ldap.urls: needed when directory.kind = 'ldap'",
                                      "ldap.user_base: needed when directory.kind = 'ldap'"]
    with pytest.raises(PolicyError) as no_base:
        parse_policy({"directory": {"kind": "ldap"}, "ldap": {"urls": ["ldap://x"]}})
    assert "ldap.user_base" in no_base.value.problems[0]
    with pytest.raises(PolicyError) as scheme:
        parse_policy({"ldap": {"urls": ["http://dc1"]}})
    assert "ldap.urls" in scheme.value.problems[0]
    with pytest.raises(PolicyError) as attr:
        parse_policy({"ldap": {"username_attribute": "cn"}})
    assert attr.value.problems[0].startswith("ldap.username_attribute: must be one of")
    with pytest.raises(PolicyError) as extra:
        parse_policy({"ldap": {"passwd": "x"}})
    assert extra.value.problems == ["ldap.passwd: unknown key"]
    ok = parse_policy({"directory": {"kind": "ldap"},
                       "ldap": {"urls": ["ldaps://a", "ldaps://b"], "user_base": "dc=x",
                                "attributes": {"mobile": "mobileTelephoneNumber"}}})
    assert ok.ldap.attributes.mobile == "mobileTelephoneNumber"
    assert parse_policy({}).directory.kind == "builtin"


def test_bind_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "bind.secret"
    secret.write_text("s3cret\n")
    cfg = parse_policy({"ldap": {"bind_password_file": str(secret)}}).ldap
    assert read_bind_password(cfg) == "s3cret"
    missing = parse_policy({"ldap": {"bind_password_file": str(tmp_path / "nope")}}).ldap
    with pytest.raises(PolicyError) as bad:
        read_bind_password(missing)
    assert bad.value.problems[0].startswith("ldap.bind_password_file: cannot read")
