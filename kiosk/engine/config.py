"""The policy file (TOML): its model, its defaults and its validation.

Every error names the key and what is allowed, so an operator can fix the file without the docs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from kiosk.backend import LANGUAGES, PHONE_KINDS, Language, MethodName, Theme

ALL_METHODS: tuple[MethodName, ...] = get_args(MethodName)  # = METHOD_KINDS (a test checks)


def _every(value: list[str], ok: Callable[[str], bool], problem: str) -> list[str]:
    """`value` when `ok` holds for each item; else `problem` (with {item} for the first bad
    one) as the field's error."""
    for item in value:
        if not ok(item):
            raise ValueError(problem.format(item=repr(item)))
    return value


def _calling_code(code: str) -> bool:
    return code.lstrip("+").isdigit() and 1 <= len(code.lstrip("+")) <= 3


def _mail_domain(domain: str) -> bool:
    return 1 <= len(domain) <= 253 and all(
        label and len(label) <= 63 and label.replace("-", "").isalnum()
        for label in domain.split("."))


def _netbios_name(name: str) -> bool:
    return 1 <= len(name) <= 15 and not any(c in name for c in "\\/:*?\"<>| @")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organization(_Section):
    name: str = Field("Example Corp", min_length=1, max_length=80)
    helpdesk: str = Field("Contact the IT helpdesk.", min_length=1, max_length=200)
    helpdesk_url: str = Field("", max_length=200)
    helpdesk_phone: str = Field("", max_length=40)
    helpdesk_email: str = Field("", max_length=120)
    languages: list[Language] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    theme: Theme = "default"


class Sspr(_Section):
    enabled: Literal["none", "selected", "all"] = "all"
    groups: list[str] = Field(default_factory=list)  # for enabled = "selected"; nested groups count
    methods_required: int = Field(1, ge=1, le=2)
    methods: list[MethodName] = Field(default_factory=lambda: list(ALL_METHODS), min_length=1)

    @model_validator(mode="after")
    def _groups_for_selected(self) -> Self:
        if self.enabled == "selected" and not self.groups:
            raise ValueError("sspr.groups: at least one group is needed when enabled = 'selected'")
        if len(set(self.methods)) < self.methods_required:
            raise ValueError(
                f"sspr.methods: offer at least {self.methods_required} methods "
                "(sspr.methods_required)"
            )
        return self


class Questions(_Section):
    to_register: int = Field(3, ge=3, le=5)
    to_reset: int = Field(3, ge=3, le=5)
    custom_allowed: bool = True

    @model_validator(mode="after")
    def _reset_le_register(self) -> Self:
        if self.to_reset > self.to_register:
            raise ValueError(
                f"questions.to_reset: must be at most questions.to_register "
                f"({self.to_register}), got {self.to_reset}"
            )
        return self


class Authenticator(_Section):
    required_if_registered: bool = True
    issuer: str = Field("Helpdesk Kiosk", min_length=1, max_length=60)


class Codes(_Section):
    length: int = Field(8, ge=6, le=10)
    lifetime_minutes: int = Field(10, ge=1, le=60)
    resend_after_seconds: int = Field(60, ge=10, le=600)


class Flow(_Section):
    lifetime_minutes: int = Field(15, ge=5, le=60)


class Throttle(_Section):
    # per user (the numbers of DESIGN.md)
    verify_failures: int = Field(5, ge=1, le=100)
    verify_window_minutes: int = Field(60, ge=1, le=1440)
    failed_flows: int = Field(5, ge=1, le=100)
    failed_flows_window_hours: int = Field(24, ge=1, le=168)
    sends: int = Field(10, ge=1, le=100)
    sends_window_minutes: int = Field(10, ge=1, le=1440)
    block_hours: int = Field(24, ge=1, le=720)
    # per terminal: a kiosk serves many people, so its limits are wider and its block shorter
    terminal_verify_failures: int = Field(30, ge=1, le=1000)
    terminal_failed_flows: int = Field(20, ge=1, le=1000)
    terminal_sends: int = Field(40, ge=1, le=1000)
    terminal_block_minutes: int = Field(60, ge=1, le=1440)
    # before that hard block, a growing wait: after this many failed verifications at one
    # terminal, each next attempt there waits delay × 2^(failures past it), at most the max
    terminal_delay_after: int = Field(10, ge=1, le=1000)
    terminal_delay_seconds: int = Field(15, ge=1, le=3600)
    terminal_delay_max_seconds: int = Field(300, ge=1, le=3600)


class Passes(_Section):
    """Temporary access passes issued by the helpdesk (kiosk.engine.passes; Entra's limits)."""

    enabled: bool = False  # off by default, as in Entra; "I have a pass" then shows to all
    default_lifetime_minutes: int = Field(60, ge=10, le=43200)
    default_length: int = Field(12, ge=8, le=48)
    one_time: bool = True  # the default for a new pass
    # whether a pass may count as two proofs (an administrator's only with a second agent)
    may_count_as_two: bool = False


class Registration(_Section):
    require: bool = True
    reconfirm_days: int = Field(180, ge=0, le=730)


class Notifications(_Section):
    user_on_reset: bool = True
    user_on_unlock: bool = True
    user_on_method_change: bool = True
    admins_on_admin_reset: bool = True
    admins_on_block: bool = True


class Privacy(_Section):
    enumeration_safe: bool = True
    # what decoys' masked contacts look like; empty: learnt from the registered contacts
    decoy_email_domains: list[str] = Field(default_factory=list, max_length=50)
    decoy_country_codes: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("decoy_country_codes")
    @classmethod
    def _calling_codes(cls, value: list[str]) -> list[str]:
        return _every(value, _calling_code, "{item} is not a country calling code (1-3 digits)")


class Password(_Section):
    min_length: int = Field(12, ge=8, le=256)
    max_length: int = Field(256, ge=8, le=256)
    history: int = Field(5, ge=0, le=24)
    min_score: int = Field(0, ge=0, le=4)
    require_classes: int = Field(0, ge=0, le=4)  # lower, upper, digit, other; 0 = none (NIST)
    banned_terms: list[str] = Field(default_factory=list, max_length=1000)
    fuzzy_min_points: int = Field(5, ge=1, le=20)

    @field_validator("banned_terms")
    @classmethod
    def _terms(cls, value: list[str]) -> list[str]:
        # a field check, so it is reported together with the section's other problems
        wrong = [term for term in value if not 4 <= len(term) <= 16]
        if wrong:
            raise ValueError("password.banned_terms: each term must be 4-16 characters, got "
                             + ", ".join(repr(t) for t in wrong[:10])
                             + (f" and {len(wrong) - 10} more" if len(wrong) > 10 else ""))
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.min_length > self.max_length:
            raise ValueError(
                f"password.min_length: must be at most password.max_length ({self.max_length})"
            )
        return self


class Database(_Section):
    url: str = "sqlite:///kiosk.db"


class Security(_Section):
    # argon2id cost; the defaults are RFC 9106's second recommended option
    argon2_time_cost: int = Field(3, ge=1, le=10)
    argon2_memory_kib: int = Field(65536, ge=1024, le=1048576)
    argon2_parallelism: int = Field(4, ge=1, le=16)


class Secrets(_Section):
    """Where the server key lives (see kiosk.engine.keys); env KIOSK_SECRET_KEY wins."""

    key_file: str = Field("", max_length=300)  # "": beside the SQLite file (kiosk.db -> kiosk.key)


def _one_of(value: str, file: str, key: str) -> None:
    if value and file:
        name = key.rsplit(".", 1)[1]
        raise ValueError(f"{key}_file: set either {name} or {name}_file, not both")


class Smtp(_Section):
    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password: str = ""
    password_file: str = Field("", max_length=300)  # read at start; else env KIOSK_SMTP_PASSWORD
    from_address: str = "kiosk@example.org"
    timeout_seconds: float = Field(10, gt=0, le=120)
    ca_file: str = ""  # PEM bundle to trust instead of the system CAs (a relay with a private CA)

    @model_validator(mode="after")
    def _password_once(self) -> Self:
        _one_of(self.password, self.password_file, "delivery.smtp.password")
        return self


class Gateway(_Section):
    url: str = ""
    secret: str = ""
    secret_file: str = Field("", max_length=300)  # read at start; else env KIOSK_GATEWAY_SECRET
    timeout_seconds: float = Field(5, gt=0, le=60)

    @model_validator(mode="after")
    def _secret_once(self) -> Self:
        _one_of(self.secret, self.secret_file, "delivery.gateway.secret")
        return self


class Delivery(_Section):
    kind: Literal["outbox", "real"] = "outbox"
    smtp: Smtp = Smtp()
    gateway: Gateway = Gateway()


class DirectorySettings(_Section):
    kind: Literal["builtin", "ldap"] = "builtin"  # "ldap": users live in [ldap]
    # the organisation's own sign-in forms: `alice@<domain>` and `<NETBIOS>\alice` name the
    # account `alice`; any other domain or prefix stays an unknown name. Empty `domains`:
    # learnt from the directory (LDAP: the dc= parts of ldap.user_base; built-in: the domains
    # of registered addresses written <sign-in name>@<domain>). Empty `netbios`: the first
    # label of each domain (contoso.org → CONTOSO).
    domains: list[str] = Field(default_factory=list, max_length=20)
    netbios: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return _every(value, _mail_domain, "directory.domains: {item} is not a mail domain "
                      "(e.g. 'contoso.org', without '@')")

    @field_validator("netbios")
    @classmethod
    def _netbios(cls, value: list[str]) -> list[str]:
        return _every(value, _netbios_name, "directory.netbios: {item} is not a NetBIOS domain "
                      "name (1-15 characters, no \\ / : * ? \" < > | @ or space)")


class LdapAttributes(_Section):
    """Which directory attribute holds what (empty = the flavour's default)."""

    display_name: str = Field("", max_length=64)  # displayName, then cn
    given_name: str = Field("givenName", max_length=64)
    family_name: str = Field("sn", max_length=64)
    email: str = Field("mail", max_length=64)
    mobile: str = Field("mobile", max_length=64)
    office: str = Field("telephoneNumber", max_length=64)


class Ldap(_Section):
    flavour: Literal["openldap", "ad"] = "openldap"
    urls: list[str] = Field(default_factory=list, max_length=10)  # tried in order (failover)
    starttls: bool = False  # ldaps:// URLs use TLS from the start
    ca_file: str = ""  # PEM bundle to trust instead of the system CAs
    bind_dn: str = ""
    bind_password: str = ""
    bind_password_file: str = ""  # read at start, instead of bind_password
    user_base: str = ""
    user_filter: str = ""  # ANDed with the name; "" = the flavour's default
    username_attribute: Literal["uid", "sAMAccountName", "userPrincipalName"] = "uid"
    group_base: str = ""  # "" = user_base
    group_filter: str = ""  # "" = the flavour's default
    group_member_attribute: str = Field("member", min_length=1, max_length=64)
    group_name_attribute: str = Field("cn", min_length=1, max_length=64)
    nested_depth: int = Field(8, ge=1, le=32)
    admin_group: str = ""  # members (nested too) are kiosk administrators
    attributes: LdapAttributes = LdapAttributes()
    use_directory_contacts: bool = True  # mail / mobile / telephoneNumber as registered methods
    phone_region: str = Field("", max_length=2)  # region of numbers written without +
    clear_failures: bool = False  # OpenLDAP: unlock also clears pwdFailureTime (needs manage)
    clear_must_change: bool = True  # OpenLDAP: drop pwdReset after a self-service reset
    ad_enforce_history: bool = True  # AD: the policy hints control, so history applies
    connect_timeout_seconds: float = Field(5, gt=0, le=60)
    timeout_seconds: float = Field(10, gt=0, le=120)
    retry_down_after_seconds: int = Field(30, ge=0, le=3600)
    pool_size: int = Field(4, ge=1, le=64)
    cache_seconds: float = Field(5, ge=0, le=300)

    @model_validator(mode="after")
    def _check(self) -> Self:
        for url in self.urls:
            if not url.startswith(("ldap://", "ldaps://")):
                raise ValueError(f"ldap.urls: {url!r} must start with ldap:// or ldaps://")
        if self.flavour == "ad" and not self.starttls and any(
                u.startswith("ldap://") for u in self.urls):
            raise ValueError("ldap.starttls: Active Directory sets passwords over TLS only; "
                             "use ldaps:// URLs or starttls = true")
        return self


class Kiosk(_Section):
    """This terminal: its name, where its engine is, how an operator may leave."""

    terminal: str = Field("", max_length=100)  # audit name; default: the host name
    remote_url: str = Field("", max_length=300)  # use the HTTP API instead of the database
    api_key_file: str = Field("", max_length=300)
    operator_exit_key: str = Field("", max_length=40)  # e.g. "ctrl+f12"; empty: no exit
    operator_passphrase_hash: str = Field("", max_length=300)  # argon2id of the passphrase

    @model_validator(mode="after")
    def _pairs(self) -> Self:
        if self.remote_url and not self.api_key_file:
            raise ValueError("kiosk.api_key_file: needed with kiosk.remote_url")
        if bool(self.operator_exit_key) != bool(self.operator_passphrase_hash):
            raise ValueError("kiosk.operator_passphrase_hash: the operator exit needs both a "
                             "key and an argon2 hash of the passphrase")
        if self.operator_passphrase_hash and not self.operator_passphrase_hash.startswith(
                "$argon2"):
            raise ValueError("kiosk.operator_passphrase_hash: must be an argon2 hash")
        return self


class Policy(_Section):
    kiosk: Kiosk = Kiosk()
    organization: Organization = Organization()
    sspr: Sspr = Sspr()
    questions: Questions = Questions()
    authenticator: Authenticator = Authenticator()
    codes: Codes = Codes()
    flow: Flow = Flow()
    throttle: Throttle = Throttle()
    registration: Registration = Registration()
    passes: Passes = Passes()
    notifications: Notifications = Notifications()
    privacy: Privacy = Privacy()
    password: Password = Password()
    database: Database = Database()
    security: Security = Security()
    secrets: Secrets = Secrets()
    delivery: Delivery = Delivery()
    directory: DirectorySettings = DirectorySettings()
    ldap: Ldap = Ldap()
    demo: bool = False

    @model_validator(mode="after")
    def _across_sections(self) -> Self:
        problems = cross_problems(self.model_dump())
        if problems:
            raise ValueError(CROSS_SEPARATOR.join(problems))
        return self


CROSS_SEPARATOR = "\n"


def cross_problems(data: dict[str, Any], invalid: frozenset[str] | set[str] = frozenset()
                   ) -> list[str]:
    """Problems spanning sections, every one of them (not only the first), for the sections
    that are valid on their own: so one `policy check` reports everything at once."""
    def section(name: str, model: type[_Section]) -> Any:
        return model.model_validate(data.get(name) or {})

    problems: list[str] = []
    if not invalid & {"directory", "ldap"}:
        directory, ldap = section("directory", DirectorySettings), section("ldap", Ldap)
        if directory.kind == "ldap":
            problems += [f"ldap.{key}: needed when directory.kind = 'ldap'"
                         for key in ("urls", "user_base") if not getattr(ldap, key)]
    if "delivery" not in invalid:
        delivery = section("delivery", Delivery)
        if delivery.kind == "real":
            offered = [] if "sspr" in invalid else section("sspr", Sspr).methods
            phones = [m for m in offered if m in PHONE_KINDS]
            if not delivery.smtp.host and not delivery.gateway.url:
                problems.append(
                    "delivery.smtp.host: delivery.kind = 'real' needs an SMTP relay "
                    "(delivery.smtp.host) and, for text messages and calls, an SMS/voice "
                    "gateway (delivery.gateway.url); neither is set, so no code could be sent "
                    "(use delivery.kind = 'outbox' to keep messages in the database)")
            else:
                if not delivery.smtp.host:
                    problems.append(
                        "delivery.smtp.host: needed when delivery.kind = 'real' (emailed codes "
                        "and every notice go through it)")
                if phones and not delivery.gateway.url:
                    problems.append(
                        "delivery.gateway.url: needed when delivery.kind = 'real' and "
                        f"sspr.methods offers {' and '.join(phones)} (or leave "
                        f"{' and '.join(phones)} out of sspr.methods)")
    return problems


class PolicyError(ValueError):
    """The policy file is invalid; `problems` lists one line per wrong key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _describe(err: ErrorDetails) -> str:
    key = ".".join(str(part) for part in err["loc"] if not str(part).startswith("function-"))
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        bounds = _bounds_for(err["loc"])
        got = err.get("input")
        return f"{key}: must be {bounds} (got {got!r})"
    if kind == "literal_error":
        return f"{key}: must be one of {ctx.get('expected')} (got {err.get('input')!r})"
    return f"{key}: {err['msg']} (got {err.get('input')!r})"


def _bounds_for(loc: tuple[Any, ...]) -> str:
    """The allowed range of a numeric field, read from the model itself."""
    model: Any = Policy
    field = None
    for part in loc:
        if not isinstance(part, str) or model is None:
            break
        field = model.model_fields.get(part)
        if field is None:
            break
        model = field.annotation if isinstance(field.annotation, type) else None
        if model is not None and not issubclass(model, BaseModel):
            model = None
    low = high = None
    for meta in getattr(field, "metadata", []):
        low = getattr(meta, "ge", low)
        high = getattr(meta, "le", high)
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return "in range"


def parse_policy(data: dict[str, Any]) -> Policy:
    """The policy, or a PolicyError listing every problem found in one round: each section's
    own, and those across sections that are valid on their own."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    # the model's check across sections runs only when every section is valid: run it here
    # over the sections that are, one problem a line
    problems = [_describe(e) for e in errors if e["loc"]]
    problems += cross_problems(data, {str(e["loc"][0]) for e in errors if e["loc"]})
    raise PolicyError(problems or [_describe(e) for e in errors])


def load_policy(path: str | Path | None, **overrides: Any) -> Policy:
    """Read and validate a policy file; `None` gives the defaults."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise PolicyError([f"{path}: cannot read ({exc.strerror})"]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise PolicyError([f"{path}: not valid TOML ({exc})"]) from None
    data.update(overrides)
    return parse_policy(data)
