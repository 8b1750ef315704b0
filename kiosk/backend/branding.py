"""What the welcome screen is drawn from: the Backend's `branding()` answer.

A plain dataclass, unlike the other answers (pydantic models, kiosk.backend.types): the kiosk
draws its first frame from it before pydantic is loaded (start-up time, bench/startup.py).
pydantic still checks it wherever it crosses the HTTP API: FastAPI's response model and the
remote client both validate a dataclass by its field types.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, get_type_hints

from kiosk.backend.vocabulary import Purpose


@dataclass(kw_only=True)
class Branding:
    organization: str
    helpdesk: str  # free text: "Call the IT helpdesk on 555-0100"
    helpdesk_url: str = ""
    languages: list[str] = field(default_factory=lambda: ["en"])
    theme: str = "default"
    demo: bool = False
    password_min_length: int = 12
    password_max_length: int = 256
    code_length: int = 8
    purposes: list[Purpose] = field(default_factory=lambda: list(Purpose))
    # the organisation's own sign-in forms besides the bare name, for the hint under the field:
    # alice@<domain> and <PREFIX>\alice name the same account
    sign_in_domains: list[str] = field(default_factory=list)
    sign_in_prefixes: list[str] = field(default_factory=list)

    def without_sign_in_forms(self) -> Branding:
        """The branding as the welcome screen shows it: the sign-in forms are the identify
        screen's (learnt by the engine after the first frame)."""
        return replace(self, sign_in_domains=[], sign_in_prefixes=[])


def _strings(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _purposes(value: object) -> list[Purpose] | None:
    known = {purpose.value: purpose for purpose in Purpose}
    items = _strings(value)
    if items is None or any(item not in known for item in items):
        return None
    return [known[item] for item in items]


# each field type's JSON reading: the value, or None when it is not exactly that type
_READ: dict[Any, Any] = {
    str: lambda v: v if isinstance(v, str) else None,
    bool: lambda v: v if isinstance(v, bool) else None,
    int: lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None,
    list[str]: _strings,
    list[Purpose]: _purposes,
}
_FIELDS = get_type_hints(Branding)


def read_branding(data: object) -> Branding | None:
    """The API's JSON answer as a Branding when each field present has exactly its JSON type
    (unknown keys are ignored, as pydantic does); None otherwise. Pydantic-free, for the remote
    kiosk's first frame: the full client validates the answer again right after that frame,
    and is the judge of anything refused here."""
    if not isinstance(data, dict):
        return None
    given: dict[str, Any] = {}
    for each in fields(Branding):
        if each.name not in data:
            continue  # a required field missing: Branding(...) below says so
        value = _READ[_FIELDS[each.name]](data[each.name])
        if value is None:
            return None
        given[each.name] = value
    try:
        return Branding(**given)
    except TypeError:  # a required field is missing
        return None
