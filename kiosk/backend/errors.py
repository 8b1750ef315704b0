"""Every error the UI can show: a stable `code`, plain English, and the HTTP status the API
maps it to. Each class registers itself in ERRORS by its code, so the HTTP client turns a
problem response back into the same class."""

from __future__ import annotations

from typing import Any


class KioskError(Exception):
    """Base of every error the UI can show. `code` is stable; `message` is plain English."""

    code = "error"
    status = 400  # the HTTP status the API maps it to

    def __init_subclass__(cls, *, code: str, status: int = 400, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code, cls.status = code, status
        ERRORS[code] = cls

    def __init__(self, message: str = "", *, support_code: str = "", **params: Any) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.support_code = support_code
        self.params = params

    def to_problem(self) -> dict[str, Any]:
        """RFC 9457 problem details body (without secrets)."""
        return {
            "type": f"https://kiosk.example.org/problems/{self.code}",
            "title": self.code.replace("_", " "),
            "status": self.status,
            "detail": self.message,
            "code": self.code,
            "support_code": self.support_code,
            "params": self.params,
        }


ERRORS: dict[str, type[KioskError]] = {KioskError.code: KioskError}


class InvalidInput(KioskError, code="invalid_input", status=422): ...
class FlowNotFound(KioskError, code="flow_not_found", status=404): ...
class FlowExpired(KioskError, code="flow_expired", status=410): ...
class StepOutOfOrder(KioskError, code="step_out_of_order", status=409): ...
class WrongCode(KioskError, code="wrong_code"): ...
class CodeExpired(KioskError, code="code_expired"): ...
class ResendTooSoon(KioskError, code="resend_too_soon", status=429): ...


class SlowDown(KioskError, code="slow_down", status=429):
    """Too many wrong entries at this terminal lately: the next attempt waits (retry_after)."""


class WrongAnswers(KioskError, code="wrong_answers"):
    """Any wrong answer: a new question set was drawn (in `state`)."""


class WrongPassword(KioskError, code="wrong_password"): ...
class Blocked(KioskError, code="blocked", status=403): ...
class NotEligible(KioskError, code="not_eligible", status=403): ...
class NotRegistered(KioskError, code="not_registered", status=403): ...
class PasswordRejected(KioskError, code="password_rejected", status=422): ...
class DeliveryFailed(KioskError, code="delivery_failed", status=502): ...
class NotAvailable(KioskError, code="not_available", status=404): ...
class ServiceUnavailable(KioskError, code="service_unavailable", status=503): ...
