"""The takeover benchmark still runs end to end at tiny sizes (no timing asserted: what its
figures rest on is that the killed worker's sessions were taken over and nothing went twice)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import takeover
from bench.common import SMOKE

pytestmark = pytest.mark.slow


def test_takeover_kills_a_worker_and_its_sessions_send_again(clean_db: str, tmp_path: Path) -> None:
    [result] = takeover.run(clean_db, tmp_path, SMOKE)
    data = result.data
    assert data["held_sessions"] > 0, "the killed worker held sessions"
    assert math.isfinite(data["every_held_session_sending_again_seconds"]), "each of them sent again"
    assert data["duplicate_sends"] == 0
