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

import secrets
from collections.abc import Iterable
from math import comb

import numpy as np

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
    return _variants(len(word))


def _variants(letters: int) -> int:
    return sum(comb(letters, k) for k in range(DEPTH + 1))


# variant_count by length, for the words spellable() lets through (a build asks for every word it reads).
_COST = [_variants(n) for n in range(MAX_LETTERS + 1)]


def learnable(words: Iterable[str]) -> list[str]:
    """The spellable words of one profile, in the order given, until PROFILE_VARIANTS is spent; a word
    that would overspend it is passed over (a shorter one after it may still fit)."""
    budget = PROFILE_VARIANTS
    kept: list[str] = []
    seen: set[str] = set()
    for word in words:
        if word in seen or not spellable(word):
            continue
        cost = _COST[len(word)]
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


# Variants are kept as 64-bit polynomial hashes, sum(c_k * P^k) mod 2^64 over the code points c_k, so
# that a deletion's hash follows from prefix sums of the word's (no string is made): taking out
# position i leaves prefix(i) + P^-1 * (whole - prefix(i + 1)). P is odd (so invertible mod 2^64) and
# drawn per process, so no one can aim words at a collision; one would only add a candidate, which
# the edit distance check drops.
_P = secrets.randbits(64) | 1
_POWERS = np.array([pow(_P, k, 2**64) for k in range(MAX_LETTERS)], dtype=np.uint64)
_INV = np.uint64(pow(_P, -1, 2**64))
_INV2 = np.uint64(pow(_P, -2, 2**64))
CHUNK = 4096  # words of one length hashed at once: 276 pairs each at 24 letters make arrays of 9 MB


def variant_hashes(words: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hashes of every deletion variant (spelling.deletes) of each word, for each the position of
    its word in `words`, and whether it lacks at most one letter: what a table files, and, for one
    word, what a lookup probes. Only spellable words have variants. Repeated letters make some
    variants of a word coincide; each comes once."""
    by_length: dict[int, list[int]] = {}
    for number, word in enumerate(words):
        if not spellable(word):
            raise ValueError(f"only spellable words have variants, not {word[:40]!r}")
        by_length.setdefault(len(word), []).append(number)
    keys, owners, shallow = [np.empty(0, np.uint64)], [np.empty(0, np.int64)], [np.empty(0, bool)]
    for length, numbers in sorted(by_length.items()):
        # The word and its 1-deletions come first in a row, then its 2-deletions.
        depth_one = np.arange(1 + length + length * (length - 1) // 2) <= length
        for start in range(0, len(numbers), CHUNK):
            chosen = np.asarray(numbers[start : start + CHUNK], dtype=np.int64)
            found = _hashes("".join(words[n] for n in chosen), len(chosen), length)
            order = np.argsort(found, axis=1)
            found = np.take_along_axis(found, order, axis=1)
            once = np.ones(found.shape, dtype=bool)
            once[:, 1:] = found[:, 1:] != found[:, :-1]
            keys.append(found[once])
            owners.append(np.repeat(chosen, once.sum(axis=1)))
            shallow.append(depth_one[order][once])
    return np.concatenate(keys), np.concatenate(owners).astype(np.int32), np.concatenate(shallow)


def _hashes(joined: str, n: int, length: int) -> np.ndarray:
    """For n words of `length` letters, joined: one row per word, its variants' hashes (the word,
    each 1-deletion, each 2-deletion)."""
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64).reshape(n, length)
    prefix = np.zeros((n, length + 1), dtype=np.uint64)  # prefix[:, k]: the hash of the first k letters
    np.cumsum(codes * _POWERS[:length], axis=1, out=prefix[:, 1:])
    whole = prefix[:, length:]
    one = prefix[:, :-1] + (whole - prefix[:, 1:]) * _INV
    i, j = np.triu_indices(length, 1)
    two = prefix[:, i] + (prefix[:, j] - prefix[:, i + 1]) * _INV + (whole - prefix[:, j + 1]) * _INV2
    return np.concatenate([whole, one, two], axis=1)
