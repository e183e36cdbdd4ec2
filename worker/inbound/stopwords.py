"""Recognising a guest's request to stop WhatsApp messages.

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

_NON_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", _NON_WORD.sub(" ", without_accents)).strip()


def is_stop_request(text: str | None) -> bool:
    return bool(text) and normalise(text or "") in STOP_WORDS
