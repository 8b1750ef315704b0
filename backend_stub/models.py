"""Request bodies of the API. Responses reuse kiosk.backend's types unchanged.

Limits match the engine's own input checks, so the API refuses exactly what the embedded
engine refuses (both as `invalid_input`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kiosk.backend import Channel, MethodKind, Purpose

MAX_USERNAME = 256
MAX_PASSWORD = 4096  # kiosk.engine.complete.MAX_PASSWORD_INPUT
MAX_CODE = 64
MAX_ANSWER = 200
MAX_ANSWERS = 10


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartBody(_Body):
    purpose: Purpose
    username: str = Field(max_length=MAX_USERNAME, examples=["alice"])


class SendCodeBody(_Body):
    method: MethodKind = Field(examples=["email"])
    channel: Channel = Field(examples=["email"])


class CodeBody(_Body):
    code: str = Field(max_length=MAX_CODE, description="digits; spaces and dashes are ignored",
                      examples=["1234 5678"])


class AnswersBody(_Body):
    answers: list[str] = Field(max_length=MAX_ANSWERS,
                               description="one answer per drawn question, in their order")


class PasswordBody(_Body):
    password: str = Field(max_length=MAX_PASSWORD)


class EmailBody(_Body):
    address: str = Field(max_length=254, examples=["alice@example.org"])


class PhoneBody(_Body):
    kind: MethodKind = Field(description="mobile or office", examples=["mobile"])
    number: str = Field(max_length=40, examples=["+1 425 555 0142"])
    channel: Channel = Field(examples=["text"])


class QuestionEntry(_Body):
    question_id: str | None = Field(None, max_length=40, examples=["pet"])
    custom_text: str | None = Field(None, max_length=400)
    answer: str = Field(max_length=MAX_ANSWER)


class QuestionsBody(_Body):
    entries: list[QuestionEntry] = Field(max_length=MAX_ANSWERS)


class Health(BaseModel):
    status: str
