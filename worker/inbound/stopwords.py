"""Recognising a guest's request to stop WhatsApp messages, or to get them again.

Only a reply that *is* a stop word counts ("STOP", "Stopp!", "unsubscribe"); a sentence that
merely contains one ("please don't stop the towels") does not.
"""

from __future__ import annotations

import re
import unicodedata

STOP_WORDS = frozenset(
    {
        # en
        "stop", "stop all", "unsubscribe", "opt out", "optout", "stop messages", "end", "quit",
        # de
        "stopp", "stoppen", "abmelden", "abbestellen", "keine nachrichten",
        # fr
        "arret", "arreter", "stop sms", "desabonner", "desinscrire",
        # es / pt
        "baja", "parar", "detener", "cancelar suscripcion", "sair", "pare",
        # it / nl
        "basta", "disiscrivi", "cancellami", "afmelden",
    }
)  # fmt: skip

# Opting back in (where the hotel allows it: tenants.guest_opt_in_by_message).
START_WORDS = frozenset(
    {
        # en
        "start", "unstop", "resume", "subscribe", "opt in", "optin",
        # de
        "starten", "anmelden", "fortsetzen",
        # fr
        "commencer", "reprendre", "demarrer",
        # es / pt
        "alta", "comenzar", "reanudar", "iniciar", "voltar",
        # it / nl
        "inizia", "iscrivimi", "riprendi", "aanmelden", "hervatten",
    }
)  # fmt: skip

_NON_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", _NON_WORD.sub(" ", without_accents)).strip()


def is_stop_request(text: str | None) -> bool:
    return bool(text) and normalise(text or "") in STOP_WORDS


def is_start_request(text: str | None) -> bool:
    return bool(text) and normalise(text or "") in START_WORDS
