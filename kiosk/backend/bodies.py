"""The request bodies of the flow calls over HTTP (the operation table names one per call).

The engine checks every value itself (lengths, control characters, enum values) and names the
field in its `invalid_input` error. The API leaves those checks to it, so a value the embedded
engine refuses is refused by the API with the very same error: here only the JSON shape is
checked (which fields, and that they are strings / lists). Enumerations are still published in
the OpenAPI document. The request body limit bounds everything. A body's fields are named as
the Backend call's arguments, so a call's arguments fill its body one to one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from kiosk.backend.vocabulary import Channel, MethodKind, Purpose


def _one_of(enum: type[StrEnum], description: str = "", example: str = "") -> Any:
    """A string the engine validates, documented as one of the enumeration's values."""
    return Field(description=description or None, examples=[example] if example else None,
                 json_schema_extra={"enum": [m.value for m in enum]})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartBody(_Body):
    purpose: str = _one_of(Purpose, example="reset")
    username: str = Field(description="at most 256 characters", examples=["alice"])
    language: str | None = Field(
        None, description="the visitor's language (a tag such as de or de-AT) for the flow's "
        "codes and notices; one the organisation does not offer gives its default",
        examples=["de"])


class SendCodeBody(_Body):
    method: str = _one_of(MethodKind, "email, mobile or office", "email")
    channel: str = _one_of(Channel, "email for email; text or call for mobile; call for office",
                           "email")


class CodeBody(_Body):
    code: str = Field(description="the digits; spaces and dashes are ignored",
                      examples=["1234 5678"])


class PassBody(_Body):
    access_pass: str = Field(description="the helpdesk's temporary access pass; spaces, dashes "
                             "and case are ignored", examples=["KX7P 4RTQ 9MZA"])


class AnswersBody(_Body):
    answers: list[str] = Field(description="one answer per drawn question, in their order "
                                           "(each at most 200 characters)")


class PasswordBody(_Body):
    password: str = Field(description="any Unicode, at most 4096 characters accepted")


class EmailBody(_Body):
    address: str = Field(description="at most 254 characters", examples=["alice@example.org"])


class PhoneBody(_Body):
    kind: str = _one_of(MethodKind, "mobile or office", "mobile")
    number: str = Field(description="with the country code", examples=["+1 425 555 0142"])
    channel: str = _one_of(Channel, "text or call (office: call)", "text")


class QuestionEntry(_Body):
    question_id: str | None = Field(None, description="a predefined question's id",
                                    examples=["pet"])
    custom_text: str | None = Field(None, description="or the person's own question "
                                                      "(3-200 characters)")
    answer: str = Field(description="3-40 characters after normalisation")


class QuestionsBody(_Body):
    entries: list[QuestionEntry]


class OperatorExitBody(_Body):
    ok: StrictBool = Field(description="whether the passphrase the kiosk checked was right")
