"""Which language a guest writes in, when a short message tells it.

A small, honest heuristic rather than a model: hotel guests write short messages ("Can I check
in early?", "Wo kann ich parken?"), where statistical detectors guess wildly, and the answer only
suggests a template language to staff. So it knows the languages the product has templates in,
counts each one's most common words (and letters only it uses), and answers only when one
language clearly wins: at least two signs of it and twice as many as of any other. Anything less
("ok", "👍", a name) is "can't tell" (None). A dependency such as lingua (hundreds of MB of
models) or langdetect (random on short texts unless seeded) would cost more than it tells here.
"""

from __future__ import annotations

import re
import unicodedata


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COMMON_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the a an is are was i you we my me your our it this that to of in on for with can could would "
        "please thanks thank hello hi where when what how do does there here and or not have has will room "
        "check early late parking park breakfast yes no see tomorrow today tonight just"
    ),
    "de": _words(
        "der die das ein eine ist sind war ich du sie wir mein mir dich ihr unser es dies zu von im in auf "
        "fur mit kann konnte wurde bitte danke hallo wo wann was wie gibt es hier und oder nicht habe hat "
        "wird zimmer fruh spat parken fruhstuck ja nein ankunft anreise uhr schon noch auch "
        "bis morgen heute gerne fruher"
    ),
    "fr": _words(
        "le la les un une est sont etait je tu vous nous mon ma mes votre notre ce cette a de du des en "
        "sur pour avec peux pouvez puis merci bonjour bonsoir ou quand quoi comment il y ici et pas ai "
        "chambre tot tard parking petit dejeuner oui non arrivee heure demain aujourd hui"
    ),
    "es": _words(
        "el la los las un una es son era yo tu usted nosotros mi mis su nuestro esto esta a de del en "
        "para por con puedo puede podria gracias hola donde cuando que como hay aqui y o no tengo tiene "
        "habitacion temprano tarde aparcamiento desayuno si llegada hora manana hoy hasta"
    ),
    "it": _words(
        "il lo la i gli le un una e sono era io tu lei noi mio mia suo nostro questo questa a di del della "
        "in su per con posso puo potrei grazie ciao buongiorno dove quando che come c ci qui o non ho ha "
        "camera presto tardi parcheggio colazione si arrivo ora prima fare domani oggi"
    ),
    "nl": _words(
        "de het een is zijn was ik jij u wij mijn mij uw ons dit dat te van in op voor met kan kunnen "
        "zou alstublieft graag bedankt dank hallo waar wanneer wat hoe er hier en of niet heb heeft kamer "
        "vroeg laat parkeren ontbijt ja nee aankomst morgen vandaag bij"
    ),
    "pt": _words(
        "o a os as um uma e sao era eu voce nos meu minha seu nosso isto esta de do da em no na para por "
        "com posso pode poderia obrigado obrigada ola onde quando que como ha aqui ou nao tenho tem quarto "
        "cedo tarde estacionamento cafe manha sim chegada hora ate amanha hoje"
    ),
}

# Letters (before accents are stripped) that point at one language.
_LETTERS: dict[str, str] = {"ß": "de", "ä": "de", "ö": "de", "ü": "de", "ñ": "es", "¿": "es", "¡": "es",
                            "ç": "fr", "œ": "fr", "è": "fr", "ê": "fr", "ã": "pt", "õ": "pt", "ò": "it",
                            "ì": "it", "ĳ": "nl"}  # fmt: skip

_WORD = re.compile(r"[a-z]+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of the language `text` is written in, or None when it can't be told."""
    if not text:
        return None
    scores = dict.fromkeys(_COMMON_WORDS, 0)
    for char in text.casefold():
        language = _LETTERS.get(char)
        if language is not None:
            scores[language] += 1
    for word in _WORD.findall(_fold(text)):
        for language, words in _COMMON_WORDS.items():
            if word in words:
                scores[language] += 1
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top >= 2 and top >= 2 * second:
        return best
    return None
