"""From vendor data to the canonical reservation: statuses, local dates, phones, languages.

Pure functions only; every vendor module uses them so that "what a status means" or "which
calendar day a guest arrives" is decided in one place.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs in the lock file

from worker.errors import PayloadError, WorkerError
from worker.pms.base import CanonicalReservation

# The installed package (the container image) carries a copy next to this module; a checkout
# reads shared/, where the edge functions and the simulators read it too.
_PACKAGED_SCHEMA = Path(__file__).with_name("canonical-reservation.schema.json")
SCHEMA_PATH = (
    _PACKAGED_SCHEMA
    if _PACKAGED_SCHEMA.exists()
    else Path(__file__).resolve().parents[2] / "shared" / "schemas" / "canonical-reservation.schema.json"
)

# --------------------------------------------------------------------------------------------
# Statuses: each vendor's values -> confirmed | checked_in | checked_out | cancelled | no_show.
# A value not listed is a PayloadError (a new vendor status must be decided on, not guessed).
# --------------------------------------------------------------------------------------------
APALEO_STATUS = {
    "Confirmed": "confirmed",
    "InHouse": "checked_in",
    "CheckedOut": "checked_out",
    "Canceled": "cancelled",
    "NoShow": "no_show",
}
# Mews (Connector API 2023-06-06 `State`). Inquired/Requested/Optional are not yet bookings a
# guest should hear about; the adapter skips them. A no-show is Canceled with a no-show reason.
MEWS_STATUS = {
    "Confirmed": "confirmed",
    "Started": "checked_in",
    "Processed": "checked_out",
    "Canceled": "cancelled",
}
MEWS_UNBOOKED = frozenset({"Inquired", "Requested", "Optional", "Enquired"})
# Cloudbeds API v1.2 `status`. not_confirmed is a booking awaiting confirmation by the hotel;
# the guest has booked, so it is treated as confirmed.
CLOUDBEDS_STATUS = {
    "confirmed": "confirmed",
    "not_confirmed": "confirmed",
    "checked_in": "checked_in",
    "checked_out": "checked_out",
    "canceled": "cancelled",
    "no_show": "no_show",
}
# Guesty Open API `status`. Only confirmed and cancelled reservations are bookings; inquiries,
# requests, declined and expired ones are skipped by the adapter.
GUESTY_STATUS = {
    "confirmed": "confirmed",
    "checked_in": "checked_in",
    "checked_out": "checked_out",
    "canceled": "cancelled",
    "cancelled": "cancelled",
}
GUESTY_UNBOOKED = frozenset(
    {"inquiry", "reserved", "awaiting_payment", "declined", "expired", "closed", "pending", "awaitingPayment"}
)


class NotABooking(WorkerError):
    """A vendor record that is not (yet) a booking (an inquiry, an option): skipped, not failed."""


def status(table: Mapping[str, str], value: Any, vendor: str) -> str:
    if isinstance(value, str) and value in table:
        return table[value]
    raise PayloadError(f"unknown {vendor} reservation status {value!r}")


# --------------------------------------------------------------------------------------------
# Dates and times
# --------------------------------------------------------------------------------------------
def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PayloadError(f"unknown time zone {name!r}") from exc


def parse_instant(value: Any, what: str = "timestamp") -> dt.datetime:
    """An ISO 8601 instant with an offset (or Z) as an aware datetime."""
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{what} is missing")
    text = value.strip()
    # Python 3.11 reads 'Z' and offsets; vendors also send 7 fractional digits (.NET ticks).
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError as exc:
        raise PayloadError(f"{what} {value!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise PayloadError(f"{what} {value!r} has no UTC offset")
    return parsed


def iso_utc(value: dt.datetime) -> str:
    """The canonical form of an instant: UTC with 'Z', microseconds only when present."""
    utc = value.astimezone(dt.UTC)
    text = utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def local_date(value: Any, timezone: str | None, what: str) -> str:
    """The property's calendar date of a vendor date or time.

    A plain date is already local. A time with an offset is converted to the property's zone:
    Mews sends `2026-12-20T14:00:00Z` for a 15:00 check-in in Berlin, and an arrival at
    23:30 UTC is the next day in Asia. A time without an offset is taken as property-local.
    """
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{what} is missing")
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise PayloadError(f"{what} {value!r} is not a date") from exc
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError as exc:
        raise PayloadError(f"{what} {value!r} is not an ISO 8601 date or time") from exc
    if parsed.tzinfo is None:
        return parsed.date().isoformat()
    return parsed.astimezone(zone(timezone)).date().isoformat()


# --------------------------------------------------------------------------------------------
# Guests
# --------------------------------------------------------------------------------------------
def phone_e164(raw: Any, region: str | None = None) -> str | None:
    """A phone number in E.164, or None when it is missing or not a possible number.

    `region` (ISO 3166 alpha-2, e.g. the guest's address country) reads national numbers such
    as "0151 1234567"; without it only international numbers ("+49 ...", "0049 ...") parse.
    """
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    hint = region.upper() if isinstance(region, str) and len(region) == 2 else None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else hint)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def language(code: Any) -> str | None:
    """An ISO 639-1 language from a vendor code: 'en-US', 'de_DE', 'EN' -> 'en'; else None.

    None lets message planning fall back to the tenant's default template language.
    """
    if not isinstance(code, str):
        return None
    match = re.fullmatch(r"\s*([A-Za-z]{2})(?:[-_][A-Za-z0-9]{1,8})*\s*", code)
    return match.group(1).lower() if match else None


def full_name(*parts: Any) -> str | None:
    words = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
    return " ".join(words)[:300] if words else None


def email(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    return text[:320] if "@" in text else None


def guest(name: str | None, phone: Any, mail: Any, lang: Any, region: str | None = None) -> dict[str, str | None]:
    return {
        "full_name": name,
        "phone": phone_e164(phone, region),
        "email": email(mail),
        "language": language(lang),
    }


def count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# --------------------------------------------------------------------------------------------
# The canonical reservation
# --------------------------------------------------------------------------------------------
@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_canonical(doc: Any) -> CanonicalReservation:
    """`doc` if it is a valid canonical reservation, else PayloadError naming the first problem.

    Beyond the schema's patterns, the dates must be real dates in the right order and the
    modification time a real instant, as internal.upsert_reservation_v1 would otherwise fail.
    """
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise PayloadError(f"not a canonical reservation: {where}: {first.message}")
    assert isinstance(doc, dict)
    try:
        arrival = dt.date.fromisoformat(doc["arrival_date"])
        departure = dt.date.fromisoformat(doc["departure_date"])
    except ValueError as exc:
        raise PayloadError(f"not a canonical reservation: {exc}") from exc
    if departure < arrival:
        raise PayloadError(f"not a canonical reservation: departure {departure} is before arrival {arrival}")
    parse_instant(doc["pms_updated_at"], "pms_updated_at")
    return doc


def canonical(
    *,
    provider: str,
    pms_reservation_id: Any,
    pms_property_id: Any,
    status: str,
    arrival_date: str,
    departure_date: str,
    pms_updated_at: dt.datetime,
    guest: dict[str, str | None],
    adults: int | None = None,
    children: int | None = None,
    room: Any = None,
) -> CanonicalReservation:
    """Assembles and validates a canonical reservation from mapped vendor fields."""
    doc: CanonicalReservation = {
        "provider": provider,
        "pms_reservation_id": str(pms_reservation_id) if pms_reservation_id is not None else "",
        "pms_property_id": str(pms_property_id) if pms_property_id not in (None, "") else None,
        "status": status,
        "arrival_date": arrival_date,
        "departure_date": departure_date,
        "pms_updated_at": iso_utc(pms_updated_at),
        "adults": adults,
        "children": children,
        "room": str(room)[:100] if room not in (None, "") else None,
        "guest": guest,
    }
    return validate_canonical(doc)
