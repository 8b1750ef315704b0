"""`kiosk admin groups ...` (nesting, cycles) and `kiosk admin policy check FILE`."""

from __future__ import annotations

import json

from tests.support.admin_cli import Kiosk


def test_groups_add_and_list(kiosk: Kiosk) -> None:
    assert kiosk.ok("groups", "add", "sspr").stdout == "added group sspr\n"
    assert kiosk.fails("groups", "add", "sspr").stderr == "error: group 'sspr' already exists\n"
    assert "not valid" in kiosk.fails("groups", "add", "a;b").stderr
    assert kiosk.fails("groups", "add", " ").stderr == "error: group name is empty\n"
    kiosk.ok("groups", "add", "staff")
    kiosk.ok("groups", "add", "team")
    kiosk.ok("users", "add", "ann", "--group", "team")
    kiosk.ok("users", "add", "ben", "--group", "staff")
    assert kiosk.ok("groups", "add-member", "sspr", "--group", "staff").stdout == \
        "added group staff to sspr\n"
    kiosk.ok("groups", "add-member", "staff", "--group", "team")
    table = kiosk.ok("groups", "list").stdout.splitlines()
    assert table[0].split() == ["GROUP", "USERS", "NESTED", "GROUPS", "ALL", "USERS", "SSPR",
                                "SCOPE"]
    assert [line.split() for line in table[2:]] == [
        ["sspr", "-", "staff", "2", "yes"],
        ["staff", "ben", "team", "2", "no"],
        ["team", "ann", "-", "1", "no"],
    ]
    data = json.loads(kiosk.ok("groups", "list", "--format", "json").stdout)
    assert data[0] == {"name": "sspr", "users": [], "groups": ["staff"],
                       "all_users": ["ann", "ben"], "sspr_scope": True}
    # ann is in scope through team ⊂ staff ⊂ sspr
    assert json.loads(kiosk.ok("users", "show", "ann", "--format", "json").stdout)[
        "all_groups"] == ["sspr", "staff", "team"]


def test_add_member_errors(kiosk: Kiosk) -> None:
    kiosk.ok("groups", "add", "staff")
    kiosk.ok("users", "add", "ann")
    assert kiosk.ok("groups", "add-member", "staff", "--user", "ANN").stdout == \
        "added user ANN to staff\n"
    assert kiosk.fails("groups", "add-member", "staff", "--user", "ann").stderr == \
        "error: 'ann' is already a member of 'staff'\n"
    assert kiosk.fails("groups", "add-member", "nope", "--user", "ann").stderr == \
        "error: unknown group 'nope'\n"
    assert kiosk.fails("groups", "add-member", "staff", "--user", "zed").stderr == \
        "error: unknown user 'zed'\n"
    assert kiosk.fails("groups", "add-member", "staff", "--group", "nope").stderr == \
        "error: unknown group 'nope'\n"
    both = kiosk.fails("groups", "add-member", "staff", "--user", "ann", "--group", "x", code=2)
    assert "give exactly one of --user NAME or --group NAME" in both.stderr
    kiosk.fails("groups", "add-member", "staff", code=2)


def test_nesting_refuses_cycles(kiosk: Kiosk) -> None:
    for name in ("a", "b", "c", "d"):
        kiosk.ok("groups", "add", name)
    kiosk.ok("groups", "add-member", "a", "--group", "b")
    kiosk.ok("groups", "add-member", "b", "--group", "c")
    kiosk.ok("groups", "add-member", "a", "--group", "c")  # a diamond is not a cycle
    kiosk.ok("groups", "add-member", "d", "--group", "c")
    assert kiosk.fails("groups", "add-member", "a", "--group", "a").stderr == \
        "error: refused: group 'a' cannot contain itself\n"
    assert kiosk.fails("groups", "add-member", "b", "--group", "a").stderr == \
        "error: refused: a contains b, so adding 'a' to 'b' would make a cycle\n"
    assert kiosk.fails("groups", "add-member", "c", "--group", "a").stderr in (
        "error: refused: a contains b contains c, so adding 'a' to 'c' would make a cycle\n",
        "error: refused: a contains c, so adding 'a' to 'c' would make a cycle\n",
    )
    assert kiosk.fails("groups", "add-member", "c", "--group", "d").exit_code == 1
    assert kiosk.fails("groups", "add-member", "a", "--group", "b").stderr == \
        "error: 'b' is already a member of 'a'\n"
    groups = {g["name"]: g for g in json.loads(kiosk.ok("groups", "list", "--format",
                                                        "json").stdout)}
    assert groups["a"]["groups"] == ["b", "c"] and groups["c"]["groups"] == []


GOOD = """\
[organization]
name = "Contoso"

[sspr]
enabled = "selected"
groups = ["sspr-users"]
methods_required = 2
methods = ["email", "mobile", "authenticator"]
"""

BAD = """\
[sspr]
enabled = "some"
methods_required = 3

[questions]
to_register = 3
to_reset = 5

[password]
min_length = 4

[colour]
hue = 1
"""


def test_policy_check(kiosk: Kiosk) -> None:
    good = kiosk.tmp_path / "good.toml"
    good.write_text(GOOD, encoding="utf-8")
    result = kiosk.ok("policy", "check", str(good))
    assert result.stdout == (f"{good}: valid (self-service for selected groups (sspr-users); "
                             "2 method(s) of email, mobile, authenticator)\n")
    assert kiosk.ok("policy", "check", str(kiosk.policy_file)).stdout.startswith(
        f"{kiosk.policy_file}: valid")

    bad = kiosk.tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    result = kiosk.fails("policy", "check", str(bad))
    assert result.stdout.splitlines() == [
        f"{bad}: sspr.enabled: must be one of 'none', 'selected' or 'all' (got 'some')",
        f"{bad}: sspr.methods_required: must be between 1 and 2 (got 3)",
        f"{bad}: questions.to_reset: must be at most questions.to_register (3), got 5",
        f"{bad}: password.min_length: must be between 8 and 256 (got 4)",
        f"{bad}: colour: unknown key",
    ]
    assert result.stderr == f"error: {bad}: 5 problems\n"

    broken = kiosk.tmp_path / "broken.toml"
    broken.write_text("[sspr\n", encoding="utf-8")
    result = kiosk.fails("policy", "check", str(broken))
    assert result.stdout.startswith(f"{broken}: not valid TOML")
    assert result.stderr == f"error: {broken}: 1 problem\n"

    missing = kiosk.tmp_path / "missing.toml"
    result = kiosk.fails("policy", "check", str(missing))
    assert result.stdout == f"{missing}: cannot read (No such file or directory)\n"
    kiosk.fails("policy", "check", code=2)


def test_policy_check_refuses_real_delivery_without_a_relay_in_one_round(kiosk: Kiosk) -> None:
    """issue 13: `delivery.kind = "real"` with no SMTP host and no gateway passed the check and
    the kiosk started; and a banned-term error showed only once the other errors were fixed."""
    bad = kiosk.tmp_path / "real.toml"
    bad.write_text('[password]\nmin_length = 4\nbanned_terms = ["ab"]\n'
                   '[delivery]\nkind = "real"\n', encoding="utf-8")
    result = kiosk.fails("policy", "check", str(bad))
    lines = result.stdout.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "password.min_length", "password.banned_terms", "delivery.smtp.host"]
    assert "delivery.gateway.url" in lines[2]
    assert result.stderr == f"error: {bad}: 3 problems\n"
