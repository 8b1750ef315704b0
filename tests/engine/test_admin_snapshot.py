"""The admin core's in-memory group resolution (kiosk.engine.admin.snapshot)."""

from __future__ import annotations

from kiosk.engine.admin.snapshot import reach


def test_reach_follows_nesting_to_any_depth_and_ends_on_a_cycle() -> None:
    parents = {1: [2], 2: [3], 3: [1, 4], 5: [6]}
    assert reach([1], parents) == {1, 2, 3, 4}
    assert reach([5], parents) == {5, 6}
    assert reach([], parents) == set()
    assert reach([7], parents) == {7}
