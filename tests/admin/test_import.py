"""`kiosk admin users import FILE.csv`: every row checked first; one bad row imports nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from kiosk.engine import registry
from kiosk.engine.schema import users
from tests.support.admin_cli import Kiosk

HEADER = "username,display_name,given_name,family_name,email,mobile,office,groups,admin\n"


def write(kiosk: Kiosk, text: str | bytes, name: str = "users.csv") -> Path:
    path = kiosk.tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def user_count(kiosk: Kiosk) -> int:
    engine = kiosk.engine()
    with engine.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def test_import_adds_users_methods_groups_and_admin_flags(seeded: Kiosk) -> None:
    path = write(seeded, HEADER + (
        "gina,Gina Grey,Gina,Grey,gina@contoso.org,+1 425 555 0150,,staff,false\n"
        "hank,Hank Hill,Hank,Hill,hank@contoso.org,+14255550151,+442079460018,staff;sspr,yes\n"
        '"Ivy","Ivers, Ivy",Ivy,Ivers,,,,,\n'
        "\n"  # blank lines are skipped
    ))
    result = seeded.ok("users", "import", str(path))
    assert result.stdout == f"imported 3 users from {path}\n"

    engine = seeded.engine()
    with engine.db.connect() as conn:
        hank = engine.directory.find(conn, "hank")
        ivy = engine.directory.find(conn, "ivy")
        assert hank is not None and ivy is not None
        assert hank.is_admin and hank.password_hash is None
        assert registry.load(conn, hank.id).contacts == {
            "email": "hank@contoso.org", "mobile": "+14255550151", "office": "+442079460018"}
        assert engine.directory.group_names(conn, hank.id) == {"staff", "sspr"}
        assert ivy.display_name == "Ivers, Ivy" and not ivy.is_admin
    gina = seeded.ok("users", "show", "gina", "--format", "json").stdout
    assert '"sspr": "ready"' in gina and "+1 •• •• ••50" in gina


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(seeded: Kiosk) -> None:
    path = write(seeded, HEADER + (
        "gina,Gina Grey,Gina,Grey,gina@contoso.org,+14255550150,,staff,false\n"  # line 2: fine
        "hank,Hank,,,hank@,+1555,,staff;nogroup,maybe\n"  # line 3: four problems
        '"ivy","Ivy\n'  # lines 4-5: one record over two lines, fine
        'Ivers",Ivy,Ivers,ivy@contoso.org,,,staff,\n'
        "GINA,again,,,,,,,\n"  # line 6: repeats line 2 (names are case-insensitive)
        "alice,,,,,,,,\n"  # line 7: exists already
        "short,row\n"  # line 8: wrong field count
        "jo e,,,,,,,,\n"  # line 9: bad username
    ))
    before = user_count(seeded)
    result = seeded.fails("users", "import", str(path))
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {path} line 3: admin 'maybe' is not valid: use true or false (yes/no, 1/0)",
        f"error: {path} line 3: email 'hank@' is not valid: There must be something after "
        "the @-sign.",
        f"error: {path} line 3: mobile '+1555' is not a valid phone number in international "
        "(E.164) form, e.g. +14255550100",
        f"error: {path} line 3: unknown group 'nogroup' (create it first with `kiosk admin "
        "groups add`, or import with --create-groups)",
        f"error: {path} line 4: display_name contains control characters",
        f"error: {path} line 6: user 'gina' appears again (first on line 2)",
        f"error: {path} line 7: user 'alice' already exists",
        f"error: {path} line 8: 2 fields, expected 9",
        f"error: {path} line 9: username 'jo e' is not valid: use at most 128 letters, digits "
        "and . _ - @ +",
        f"error: {path}: 9 problems, nothing imported",
    ]
    assert user_count(seeded) == before
    assert seeded.fails("users", "show", "gina").exit_code == 1


def test_one_bad_row_among_good_ones_imports_nothing(seeded: Kiosk) -> None:
    rows = "".join(f"user{i},,,,user{i}@contoso.org,,,staff,\n" for i in range(50))
    path = write(seeded, HEADER + rows + "bad,,,,,+1 000,,,\n")
    result = seeded.fails("users", "import", str(path))
    assert f"{path} line 52: mobile '+1 000' is not a valid phone number" in result.stderr
    assert user_count(seeded) == 2


def test_structural_problems(kiosk: Kiosk) -> None:
    cases = {
        "empty.csv": ("", "the file is empty"),
        "header.csv": (HEADER, "no user rows after the header"),
        "semicolons.csv": ("username;email\nx;x@contoso.org\n",
                           "line 1: bad header: unknown column(s) 'username;email'; expected "
                           "username,display_name,given_name,family_name,email,mobile,office,"
                           "groups,admin (the file seems to use ';' between fields: use ',')"),
        "nouser.csv": ("email\nx@contoso.org\n", "line 1: bad header: no 'username' column"),
        "twice.csv": ("username,username\na,b\n", "line 1: bad header: a column repeats"),
        "quote.csv": ('username,email\nann,"ann@contoso.org\n',
                      "line 2: malformed CSV (unexpected end of data), nothing imported"),
    }
    for name, (text, message) in cases.items():
        path = write(kiosk, text, name)
        result = kiosk.fails("users", "import", str(path))
        assert message in result.stderr, (name, result.stderr)
        assert len(result.stderr.splitlines()) == 1
    latin1 = write(kiosk, (HEADER + "ann,Ann\n").encode() + "jos\xe9,Jos\xe9,,,,,,,\n"
                   .encode("latin-1"), "latin1.csv")
    result = kiosk.fails("users", "import", str(latin1))
    assert result.stderr == f"error: {latin1} line 3: not UTF-8 text (save the file as UTF-8 " \
                            "CSV)\n"
    missing = kiosk.tmp_path / "missing.csv"
    result = kiosk.fails("users", "import", str(missing))
    assert result.stderr == f"error: {missing}: cannot read (No such file or directory)\n"


def test_columns_in_any_order_bom_and_stdin(kiosk: Kiosk) -> None:
    kiosk.ok("groups", "add", "staff")
    path = write(kiosk, "\ufeffEmail,Username\nann@contoso.org,ann\n")  # Excel's UTF-8 BOM
    assert kiosk.ok("users", "import", str(path)).stdout == f"imported 1 users from {path}\n"
    result = kiosk.ok("users", "import", "-", input="username,groups\nben,staff\n")
    assert result.stdout == "imported 1 users from stdin\n"
    assert "ann" in kiosk.ok("users", "list").stdout


def test_unknown_groups_need_create_groups_and_dry_run_writes_nothing(kiosk: Kiosk) -> None:
    path = write(kiosk, "username,groups\nann,new-team;other\nben,new-team\n")
    result = kiosk.fails("users", "import", str(path))
    assert "line 2: unknown group 'new-team'" in result.stderr
    assert "line 3: unknown group 'new-team'" in result.stderr

    result = kiosk.ok("users", "import", str(path), "--create-groups", "--dry-run")
    assert result.stdout == ("would import 2 users from " + str(path) + "\n"
                             "would create groups: new-team, other\n")
    assert kiosk.ok("users", "list").stdout == "no users\n"
    assert kiosk.ok("groups", "list").stdout == "no groups\n"

    result = kiosk.ok("users", "import", str(path), "--create-groups")
    assert result.stdout.endswith("created groups: new-team, other\n")
    groups = kiosk.ok("groups", "list").stdout
    assert "new-team" in groups and "ann,ben" in groups
    # a second run: every user exists now, nothing changes
    result = kiosk.fails("users", "import", str(path), "--create-groups")
    assert "line 2: user 'ann' already exists" in result.stderr
