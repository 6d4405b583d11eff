"""The server's collector setting: the start-up heap frozen, young collections rarer, undone after."""

from __future__ import annotations

import gc

from lakeguard.api.collector import SERVER_THRESHOLDS, server_collector


def test_the_server_collector_freezes_and_restores() -> None:
    before = gc.get_threshold()
    assert before != SERVER_THRESHOLDS
    with server_collector():
        assert gc.get_threshold() == SERVER_THRESHOLDS
        assert gc.get_freeze_count() > 0  # the heap alive when it started
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
