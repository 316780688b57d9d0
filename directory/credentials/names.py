"""Whether two sources name the same person: a roster row or a document, and the legal name."""

import unicodedata
from functools import lru_cache

# Apostrophes join (O'Brien = OBrien); every other non-alphanumeric character separates words.
APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc`")
# One name may add this many words to the other: a middle or second surname, a title or "LMT".
MAX_EXTRA_WORDS = 2
# A name must keep this many words in common with the other: a lone surname is never enough.
MIN_SHARED_WORDS = 2


@lru_cache(maxsize=65536)  # a roster compares the same legal names again and again
def name_tokens(name: str) -> frozenset[str]:
    """Accents, case, punctuation, order and middle initials set aside: {"casey", "lin"}."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = plain.translate(APOSTROPHES)
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    return frozenset(w for w in words if len(w) > 1)


def names_match(a: str | None, b: str | None) -> bool:
    """The same person's name as two sources write it ("Lin, Casey A." and "Casey Lin").

    Equal word sets match; so does one name inside the other when the other adds at most two words
    (a middle or second surname one source leaves out, titles one adds: "Dr. Casey Lin, LMT"). Either
    way they share at least two words: a lone surname in common never matches, nor does a name inside a
    longer business name."""
    if not a or not b:
        return False
    x, y = name_tokens(a), name_tokens(b)
    smaller, larger = (x, y) if len(x) <= len(y) else (y, x)
    return (
        len(smaller) >= MIN_SHARED_WORDS
        and len(larger) - len(smaller) <= MAX_EXTRA_WORDS
        and smaller <= larger
    )
