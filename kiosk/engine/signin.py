"""Sign-in names as people type them: `alice`, `alice@contoso.org`, `CONTOSO\\alice`.

People type their sign-in email or their Windows `DOMAIN\\user` form (Entra accepts both). The
organisation's own mail domains and NetBIOS prefixes are stripped to the directory's sign-in
name *before* anything else happens, so every accepted form of a name is one name: the same
account, the same throttle subject (account:<id>, or the canonical name of an unknown one),
the same decoy. Any other domain or prefix is left as typed, so it stays an unknown name.

The forms come from `[directory] domains / netbios`, else are learnt from the directory
(LDAP: the dc= parts of the user base; built-in: the domains of registered addresses written
`<sign-in name>@<domain>`), cached like the decoy shape (never read per request).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy import Engine as Database

from kiosk.engine.config import DirectorySettings
from kiosk.engine.learnt import Learnt
from kiosk.engine.schema import methods, users
from kiosk.engine.text import normalize_username

SAMPLE = 5000  # registered addresses read to learn from
MIN_ACCOUNTS = 2  # a domain is the organisation's once this many accounts use name@domain
MAX_LEARNT = 5


@dataclass(frozen=True)
class SignInForms:
    """The accepted suffixes and prefixes, normalised (casefolded) for matching; `shown_*` keep
    the spelling for the hint (CONTOSO, contoso.org)."""

    domains: tuple[str, ...] = ()
    netbios: tuple[str, ...] = ()

    @property
    def shown_netbios(self) -> tuple[str, ...]:
        return tuple(n.upper() for n in self.netbios)


def learn_builtin_domains(conn: Connection) -> list[str]:
    """Domains of registered addresses whose local part is the account's own sign-in name
    (alice → alice@contoso.org), used by at least MIN_ACCOUNTS accounts: a personal address
    (alice.a.1987@mail.example) teaches nothing."""
    rows = conn.execute(select(users.c.username, methods.c.value).join(
        methods, methods.c.user_id == users.c.id).where(methods.c.kind == "email")
        .limit(SAMPLE)).all()
    count: Counter[str] = Counter()
    for username, value in rows:
        local, at, domain = normalize_username(value).rpartition("@")
        if at and local == username and domain:
            count[domain] += 1
    return [d for d, n in count.most_common(MAX_LEARNT) if n >= MIN_ACCOUNTS]


def domains_of_dn(dn: str) -> list[str]:
    """`ou=people,dc=contoso,dc=org` → ['contoso.org']."""
    parts = [p.strip() for p in dn.split(",")]
    dcs = [p.split("=", 1)[1].strip() for p in parts if p.lower().startswith("dc=")]
    return [".".join(dcs)] if dcs else []


class SignInNames:
    """Canonical sign-in names and the forms accepted, learnt once every few minutes."""

    def __init__(self, settings: DirectorySettings, learn: Callable[[Connection], list[str]],
                 *, keep_domain: bool = False) -> None:
        self._settings = settings
        self._learn = learn
        # directories whose sign-in names are themselves addresses (AD's userPrincipalName):
        # `CONTOSO\alice` becomes alice@<first domain>, an address stays as typed
        self._keep_domain = keep_domain
        self._forms = Learnt(self._read)

    def forms(self, conn: Connection, now: datetime) -> SignInForms:
        return self._forms.get(conn, now)

    def forms_from(self, db: Database, now: datetime) -> SignInForms:
        forms = self._forms.fresh(now)
        if forms is not None:
            return forms
        with db.connect() as conn:
            return self.forms(conn, now)

    def forget(self) -> None:
        self._forms.forget()

    def _read(self, conn: Connection) -> SignInForms:
        given = [d.casefold().strip(".") for d in self._settings.domains]
        domains = given or [normalize_username(d) for d in self._learn(conn)]
        netbios = [n.casefold() for n in self._settings.netbios] or [
            d.split(".", 1)[0] for d in domains]
        return SignInForms(tuple(dict.fromkeys(domains)), tuple(dict.fromkeys(netbios)))

    def canonical(self, forms: SignInForms, name: str) -> str:
        """The directory's sign-in name for a normalised typed name; unchanged when it is not
        one of the organisation's forms (so an unknown domain stays an unknown name)."""
        prefix, backslash, rest = name.partition("\\")
        if backslash:
            if prefix in forms.netbios and rest and "\\" not in rest and "@" not in rest:
                if self._keep_domain and forms.domains:
                    return f"{rest}@{forms.domains[0]}"
                return rest if not self._keep_domain else name
            return name
        local, at, domain = name.rpartition("@")
        if at and local and domain in forms.domains and not self._keep_domain:
            return local
        return name
