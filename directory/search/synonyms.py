"""Plain words → vocabulary slugs, and how a query is cut
into concepts: a known phrase ("desk job") or a single word, each of which must match."""

import re

PLAIN_WORDS: dict[str, tuple[str, ...]] = {}


def _add(words: str, slugs: str) -> None:
    for phrase in words.split(","):
        PLAIN_WORDS[phrase.strip().lower()] = tuple(s.strip() for s in slugs.split(","))


_add("knots, knot, tight spots, trigger points", "trigger-point-therapy, neuromuscular-therapy")
_add("nmt, neuro massage, neuromuscular", "neuromuscular-therapy")
_add("pnf", "pnf-stretching")
_add("stiff, stiffness, tight, range of motion", "flexibility-stretching, pnf-stretching, limited-mobility")
_add("scar tissue, adhesions", "friction-techniques, post-surgical")
_add("headache, migraine, tension headache", "headaches")
_add("stiff neck, shoulder pain", "neck-pain")
_add("lower back, lumbar", "back-pain")
_add("sciatica, pinched nerve, nerve pain", "nerve-compression")
_add("desk job, office, computer work", "office-workers, repetitive-strain, postural-imbalance")
_add("posture, slouching", "postural-imbalance")
_add("rsi, carpal tunnel", "repetitive-strain")
_add("runner, running, sport, training", "athletes, sports-massage")
_add("after surgery, surgery, rehab", "post-surgical, post-surgery")
_add("anxious, anxiety, stressed, burnout", "stress, stress-sufferers")
_add("referred pain", "trigger-point-therapy, chronic-pain")

# Plural and simple inflections people type, pointing at the same entry.
for _word, _base in {
    "headaches": "headache",
    "migraines": "migraine",
    "runners": "runner",
    "sports": "sport",
    "trigger point": "trigger points",
    "tight spot": "tight spots",
    "stiff necks": "stiff neck",
    "pinched nerves": "pinched nerve",
    "desk jobs": "desk job",
}.items():
    PLAIN_WORDS[_word] = PLAIN_WORDS[_base]

MAX_PHRASE = max(len(p.split()) for p in PLAIN_WORDS)
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
