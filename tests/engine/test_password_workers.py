"""`kiosk serve-api` checks passwords in worker processes (kiosk/engine/password_workers.py).

The attack they answer: zxcvbn and the banned-list scan hold the GIL, so in one process one
kiosk pasting l33t-dense strings made every other kiosk's check wait (`bench/password.py
--attack` measures it). Here: the workers give the very answers of an in-process check, the
check really leaves the process, and a worker that dies costs no visitor an answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kiosk.engine import password_workers, passwords
from kiosk.engine.config import Password
from kiosk.engine.passwords import PasswordPolicy

INPUTS = [
    ("Tr0ub4dor&3", ("Ada", "Lovelace")),
    ("correct horse battery staple", ("Ada", "Lovelace")),
    ("AdaLovelace1815!", ("Ada", "Lovelace")),
    ("4@8({[<3691!|70$5+%2" * 5, ("Mallory", "Attacker")),
    ("Contoso-Winter-2026", ("Bob", "Builder")),
    ("tab\there-and-long-enough", ("Bob", "Builder")),
    ("", ()),
]


@pytest.fixture
def workers() -> Iterator[int]:
    count = password_workers.start(1)
    try:
        yield count
    finally:
        password_workers.stop()


def _policy() -> PasswordPolicy:
    return PasswordPolicy(Password(min_score=3, banned_terms=["contoso"]), "Contoso")


def test_workers_answer_as_the_process_itself_does(workers: int) -> None:
    assert workers == 1
    policy = _policy()
    for password, names in INPUTS:
        here = policy.check_here(password, user_terms=names, current_password="Old-Password-1")
        there = policy.check(password, user_terms=names, current_password="Old-Password-1")
        assert there == here, password


def test_a_check_runs_in_another_process(workers: int) -> None:
    seen: list[int] = []
    original = passwords.PasswordPolicy.check_here

    def spy(self: PasswordPolicy, *args: object, **kwargs: object) -> object:
        seen.append(os.getpid())
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    passwords.PasswordPolicy.check_here = spy  # type: ignore[assignment,method-assign]
    try:
        result = _policy().check("correct horse battery staple", user_terms=("Ada",))
    finally:
        passwords.PasswordPolicy.check_here = original  # type: ignore[method-assign]
    assert result.score == 4
    assert seen == []  # this process's check_here was never called: a worker's was


def test_a_dead_worker_costs_no_answer(workers: int) -> None:
    policy = _policy()
    pool = password_workers._pool
    assert pool is not None
    for process in list(pool._processes.values()):  # the kernel's OOM killer, say
        process.kill()
        process.join()
    result = policy.check("correct horse battery staple", user_terms=("Ada",))
    assert result == policy.check_here("correct horse battery staple", user_terms=("Ada",))
    assert password_workers._pool is not None and password_workers._pool is not pool
    again = policy.check("Tr0ub4dor&3", user_terms=("Ada",))  # the new pool answers
    assert again == policy.check_here("Tr0ub4dor&3", user_terms=("Ada",))


def test_stopped_workers_leave_checks_in_process() -> None:
    assert password_workers.start(0) == 0
    assert passwords._offload is None
    password_workers.start(1)
    password_workers.stop()
    assert passwords._offload is None
    assert _policy().check("correct horse battery staple").score == 4
