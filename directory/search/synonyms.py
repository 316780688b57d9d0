"""Plain words → vocabulary slugs (the catalog's table, directory/catalog/plain_words.toml), and how a
query is cut into concepts: a known phrase ("desk job") or a single word, each of which must match."""

import re
import tomllib
from importlib import resources


def parse(text: str) -> dict[str, tuple[str, ...]]:
    """The plain-words table (directory/catalog/plain_words.toml's format): phrase → slugs. A phrase
    is keyed as a query's words are looked up, so one listed twice, in any spelling, is refused."""
    found: dict[str, tuple[str, ...]] = {}
    for entry in tomllib.loads(text)["entry"]:
        for phrase in entry["phrases"]:
            key = " ".join(WORD.findall(normalize(phrase).lower()))
            if not key or key in found:
                raise ValueError(f"the plain words list {phrase!r} twice, or it has no word")
            found[key] = tuple(entry["slugs"])
    return found


WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def split_concepts(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The query's words, longest known phrase first: [("desk job", slugs), ("headaches", slugs), ("calf", ())]."""
    # Words stay as typed (the analyzer lower-cases them as it lower-cased the documents: "İzmir"
    # lower-cased first would split in two); only the phrase lookup is case-blind.
    words = WORD.findall(normalize(text))
    concepts: list[tuple[str, tuple[str, ...]]] = []
    i = 0
    while i < len(words):
        for size in range(min(MAX_PHRASE, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + size])
            if phrase.lower() in PLAIN_WORDS:
                concepts.append((phrase, PLAIN_WORDS[phrase.lower()]))
                i += size
                break
        else:
            concepts.append((words[i], ()))
            i += 1
    return concepts


APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})
POSSESSIVE = re.compile(r"(?<=[^\W_])'s\b", re.IGNORECASE)


def normalize(text: str) -> str:
    """One apostrophe (phones type ’), and no possessive 's, on both sides of the index."""
    return POSSESSIVE.sub("", text.translate(APOSTROPHES))


PLAIN_WORDS = parse(resources.files("directory.catalog").joinpath("plain_words.toml").read_text("utf-8"))
MAX_PHRASE = max(len(p.split()) for p in PLAIN_WORDS)
