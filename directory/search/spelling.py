"""The bounds of the spelling suggester, in one place, so that no profile and no query can make it costly.

Suggestions are symmetric-delete spelling (arrays.py): every known word is filed under each of its
deletion variants (the word with up to two letters taken out), and a typed word is looked up under its
own. A word of n letters has up to 1 + n + n(n-1)/2 variants: 301 at 24 letters, but 125,251 at 500
(the longest query) and 12.5 million at 5,000 (a profile's approach may be one 5,000-letter word), so
the vocabulary, and each lookup, grows with the square of the longest word unless words are bounded:

- only words of MIN_LETTERS to MAX_LETTERS letters enter the vocabulary or are corrected. A longer word
  is still indexed and found as typed; it is only never suggested, and never corrected. No word a
  client means is that long ("neuromuscular" has 13 letters, "craniosacral" 12);
- one profile brings at most PROFILE_VARIANTS variants, its words taken in reading order (name,
  headline, approach, ...): room for an approach of 5,000 characters of ordinary words, but not for
  thousands of made-up ones;
- at most MAX_WORDS words of a query are looked up for a correction.
"""

from collections.abc import Iterable
from math import comb

MIN_LETTERS = 3  # shorter words are never corrected, nor suggested
MAX_LETTERS = 24  # longer words neither (a word of 24 letters has at most 301 variants)
MAX_WORDS = 8  # query words looked up for a correction
PROFILE_VARIANTS = 20_000  # deletion variants one profile may bring into the vocabulary
DEPTH = 2  # letters a variant may lack: suggestions are at most two edits away


def spellable(word: str) -> bool:
    """May this word be in the vocabulary, or be corrected? Letters only, MIN_LETTERS to MAX_LETTERS."""
    return MIN_LETTERS <= len(word) <= MAX_LETTERS and word.isalpha()


def variant_count(word: str) -> int:
    """At most how many deletion variants `word` has (repeated letters make some coincide)."""
    return sum(comb(len(word), k) for k in range(DEPTH + 1))


def learnable(words: Iterable[str]) -> list[str]:
    """The spellable words of one profile, in the order given, until PROFILE_VARIANTS is spent; a word
    that would overspend it is passed over (a shorter one after it may still fit)."""
    budget = PROFILE_VARIANTS
    kept: list[str] = []
    seen: set[str] = set()
    for word in words:
        if word in seen or not spellable(word):
            continue
        cost = variant_count(word)
        if cost > budget:
            continue
        seen.add(word)
        kept.append(word)
        budget -= cost
    return kept


def deletes(word: str, depth: int = DEPTH) -> set[str]:
    """The word and every string made by deleting up to `depth` of its letters. Callers pass spellable
    words only: the set grows with the square of the word's length."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier if len(w) > 1 for i in range(len(w))}
        found |= frontier
    return found
