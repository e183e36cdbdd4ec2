"""Which of a chat's due messages WAHA's history shows were already sent.

Two ways to recognise one. A message that existed before the backup went out with the WhatsApp
message key derived from its row (message_key()), so its key finds it. A message for a booking
made after the backup was planned again by the recovery's PMS sync under a new row, so no key
can match: its text can. Each WAHA message settles at most one row, and never one WAHA id
already recorded. Two identical texts to the same guest in the gap count as two sends only if
WAHA has two: a guest is never sent a text the chat already shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from worker.recovery.store import Candidate
from worker.waha import OwnMessage


def settled_by_history(
    candidates: Sequence[Candidate],
    history: Sequence[OwnMessage],
    *,
    chat_id: str,
    key_of: Callable[[Candidate], str],
    recorded: set[str],
    now_epoch: float,
) -> list[tuple[int, str, float]]:
    """(message id, WAHA's id, when WAHA sent it) for each candidate the chat already has."""
    pool = [
        m for m in sorted(history, key=lambda m: (m.timestamp or 0.0, m.id)) if _waha_id(m, chat_id) not in recorded
    ]
    found: list[tuple[int, str, float]] = []
    left: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: c.id):
        key = key_of(candidate)
        match = next((m for m in pool if m.matches_key(key)), None)
        if match is None:
            left.append(candidate)
            continue
        pool.remove(match)
        found.append((candidate.id, match.serialized_id(chat_id, key), match.timestamp or now_epoch))
    for candidate in left:
        match = next((m for m in pool if candidate.body is not None and m.body == candidate.body), None)
        if match is None:
            continue
        pool.remove(match)
        found.append((candidate.id, _waha_id(match, chat_id), match.timestamp or now_epoch))
    return found


def _waha_id(message: OwnMessage, chat_id: str) -> str:
    # As stored in message_logs.waha_message_id: the serialised form.
    return message.serialized_id(chat_id, message.id)
