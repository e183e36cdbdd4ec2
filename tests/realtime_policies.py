"""A policy on realtime.messages of the kind a dashboard feature adds, for Realtime tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest


@pytest.fixture
def hotel_topics_policy(db: psycopg.Connection[Any]) -> Iterator[None]:
    """A policy of the kind a dashboard feature would add: members read their hotel's topic."""
    db.execute(
        """
        create policy test_members_read_their_hotel on realtime.messages for select to authenticated
        using (
          realtime.topic() like 'hotel:%'
          and exists (
            select 1 from public.tenant_members m
            where m.user_id = (select auth.uid()) and 'hotel:' || m.tenant_id::text = realtime.topic()
          )
        )
        """
    )
    try:
        yield None
    finally:
        db.execute("drop policy test_members_read_their_hotel on realtime.messages")
