"""`kiosk admin keys`: the server key (where it is, a new one, rotating it).

The key itself is never printed except by `generate`, which makes one for KIOSK_SECRET_KEY.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kiosk.cli.options import engine_options

if TYPE_CHECKING:
    from kiosk.engine.admin import Admin


def _source(admin: Admin) -> Any:
    from kiosk.engine.keys import key_source

    engine = admin.engine
    return key_source(engine.policy.secrets, engine.db.url)


@click.group("keys")
def keys() -> None:
    """The server key: kept outside the database (key file or KIOSK_SECRET_KEY)."""


@keys.command("status")
@engine_options()
def keys_status(admin: Admin) -> None:
    """Where this instance's key comes from and its fingerprint (the same on every instance
    of one database)."""
    from kiosk.engine.keys import fingerprint

    click.echo(f"server key:  {_source(admin).describe()}")
    click.echo(f"fingerprint: {fingerprint(admin.engine.key)[:16]}")


@keys.command("generate")
def keys_generate() -> None:
    """Print a new random key (hex): for KIOSK_SECRET_KEY or KIOSK_NEW_SECRET_KEY."""
    from kiosk.engine.keys import encode_key, new_key

    click.echo(encode_key(new_key()))


@keys.command("rotate")
@engine_options()
def keys_rotate(admin: Admin) -> None:
    """Replace the server key. Stop every kiosk and API instance first; start them after.

    Authenticator secrets (registered and being enrolled) are re-keyed in one transaction.
    Codes already sent cannot be: they expire. With the key in KIOSK_SECRET_KEY, put the new
    one in KIOSK_NEW_SECRET_KEY (`kiosk admin keys generate`); otherwise a new key file is
    written."""
    from kiosk.engine.rekey import rotate

    source = _source(admin)
    done = rotate(admin.engine.db, source, admin.engine.key, admin.engine.clock.now())
    where = "KIOSK_NEW_SECRET_KEY" if source.kind == "env" else f"the key file {source.path}"
    click.echo(f"rotated the server key: now {where} (fingerprint {done.fingerprint[:16]})")
    click.echo(f"re-keyed: {done.secrets} authenticator secret(s), {done.pending} "
               "enrolment(s) in progress")
    if done.dropped:
        click.echo(f"dropped: {done.dropped} enrolment(s) in progress that did not open "
                   "(they start again)")
    click.echo("cannot be re-keyed:")
    click.echo(f"  - codes already sent ({done.codes} open): expired; visitors ask for a new one")
    click.echo("  - the memory of repeated wrong codes (in the throttle): it starts afresh")
    click.echo("  - decoys (names that are no usable account) are drawn from the key: each now "
               "looks different (other masked contacts and methods), real accounts do not")
    if source.kind == "env":
        click.echo("next: set KIOSK_SECRET_KEY to the new key on every instance, then start them")
    else:
        click.echo(f"next: copy {source.path} to every instance that has its own copy, then "
                   "start them (each reads the key once, at start)")
