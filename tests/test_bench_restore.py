"""The restore benchmark still runs end to end at tiny sizes (as tests/test_bench_smoke.py does
for the others): what its figure rests on was really done - the backup restored, every gap
booking synced back, every gap send found in WAHA's history. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import restore
from bench.common import SMOKE

pytestmark = pytest.mark.slow


def test_restore_restores_the_backup_and_recovers_the_whole_gap(clean_db: str, tmp_path: Path) -> None:
    [result] = restore.run(clean_db, tmp_path, SMOKE)
    data = result.data
    assert data["gap_bookings"] == SMOKE.restore_hotels * SMOKE.restore_gap_bookings
    assert data["gap_bookings_synced"] == data["gap_bookings"], "every booking of the gap is back"
    assert data["gap_messages_found_sent"] == SMOKE.restore_gap_messages, "every gap send is recorded, none resent"
    assert data["syncs_failed"] == 0
    assert result.notes == []
    assert result.ratio is not None
