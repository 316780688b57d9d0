"""Headlines and approach texts written the way clients search: the catalog's techniques, conditions and
client groups, said in its plain words ("knots", "stiff neck", "sciatica", "desk job", "after surgery").

Every wording is tied to a slug the profile carries, and a wording that uses plain words belonging to
*another* slug (catalog/plain_words.toml) names what it needs, so a text only says "knots" when the
profile offers trigger point work or NMT. That keeps the demo honest: a search for "knots" that finds a
profile through its text also finds the matching technique on it.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass

# Rows of the catalog's "plain words -> vocabulary" table (catalog/plain_words.toml), named by their
# words: a wording that uses those words needs at least one of the slugs.
KNOTS = frozenset({"trigger-point-therapy", "neuromuscular-therapy"})
NEUROMUSCULAR = frozenset({"neuromuscular-therapy"})
STIFF = frozenset({"flexibility-stretching", "pnf-stretching", "limited-mobility"})
SCAR_TISSUE = frozenset({"friction-techniques", "post-surgical"})
SPORT = frozenset({"athletes", "sports-massage"})
STRESSED = frozenset({"stress", "stress-sufferers"})
DESK_JOB = frozenset({"office-workers", "repetitive-strain", "postural-imbalance"})
SURGERY = frozenset({"post-surgical", "post-surgery"})
PINCHED_NERVE = frozenset({"nerve-compression"})
LOWER_BACK = frozenset({"back-pain"})


@dataclass(frozen=True)
class Wording:
    text: str
    needs: tuple[frozenset[str], ...] = ()

    def fits(self, carried: frozenset[str]) -> bool:
        return all(alternatives & carried for alternatives in self.needs)


def w(text: str, *needs: frozenset[str]) -> Wording:
    return Wording(text, needs)


TECHNIQUES: dict[str, tuple[Wording, ...]] = {
    "neuromuscular-therapy": (
        w("neuromuscular therapy (NMT), firm and sustained pressure that releases trigger points"),
        w("NMT, sometimes called neuro massage, to find and release the trigger points behind your pain"),
        w("neuromuscular therapy to settle the knots that keep a muscle guarding"),
    ),
    "trigger-point-therapy": (
        w("trigger point therapy, holding each knot for 10 to 30 seconds until it lets go"),
        w("trigger point work that eases the referred pain a knot sends elsewhere"),
        w("myotherapy, which treats the trigger points that refer pain into the head, arm or leg"),
    ),
    "myofascial-release": (
        w("myofascial release, gentle and sustained pressure into the connective tissue"),
        w("myofascial release to restore easy movement to the fascia"),
        w("myofascial release to soften adhesions in the fascia", SCAR_TISSUE),
        w("myofascial release to win back range of motion", STIFF),
    ),
    "positional-release": (
        w("positional release, resting the body in a position of ease so the muscle can let go"),
        w("positional release, which is gentle enough for sensitive or acute pain"),
        w("positional release, a gentle way to calm a pinched nerve", PINCHED_NERVE),
    ),
    "pnf-stretching": (
        w("PNF stretching, a contract-relax method that improves range of motion"),
        w("PNF stretching to bring back range of motion"),
    ),
    "flexibility-stretching": (
        w("assisted stretching for stiffness and range of motion"),
        w("flexibility stretching so tight muscles stay loose between sessions"),
    ),
    "friction-techniques": (
        w("cross-fibre friction to break down scar tissue and adhesions"),
        w("friction techniques that loosen adhesions limiting how you move"),
    ),
    "deep-tissue": (
        w("deep tissue massage, slow strokes into the deeper layers of muscle"),
        w("deep tissue work for stubborn knots", KNOTS),
        w("deep tissue massage for muscles that feel tight after a long week", STIFF),
        w("deep tissue massage for a tired lower back", LOWER_BACK),
    ),
    "sports-massage": (
        w("sports massage before and after events and during training"),
        w("sports massage for faster recovery from training and injury"),
    ),
    "swedish-massage": (
        w("Swedish massage, long gliding strokes that calm the whole body down"),
        w("Swedish massage for clients who are stressed or worn out", STRESSED),
        w("Swedish massage to settle an anxious, overworked body", STRESSED),
    ),
}

CONDITIONS: dict[str, tuple[Wording, ...]] = {
    "chronic-pain": (
        w("chronic pain"),
        w("long-standing pain"),
        w("referred pain that never quite goes away"),
    ),
    "back-pain": (w("lower back pain"), w("back pain"), w("a sore lower back")),
    "neck-pain": (w("shoulder pain"), w("neck and shoulder pain"), w("a stiff neck", STIFF)),
    "headaches": (w("tension headaches"), w("migraines"), w("a headache that starts in the neck")),
    "muscle-spasms": (w("muscle spasms"), w("cramping muscles"), w("muscles that knot up and spasm", KNOTS)),
    "fibromyalgia": (w("fibromyalgia"), w("fibromyalgia flare-ups")),
    "arthritis": (w("arthritis"), w("arthritic joints that feel stiff in the morning", STIFF)),
    "repetitive-strain": (
        w("repetitive strain injuries"),
        w("RSI"),
        w("carpal tunnel symptoms"),
        w("wrist and forearm pain from computer work"),
    ),
    "postural-imbalance": (
        w("poor posture"),
        w("the aches that come from slouching"),
        w("postural imbalance"),
    ),
    "nerve-compression": (w("sciatica"), w("a pinched nerve"), w("nerve pain down the leg")),
    "soft-tissue-injury": (
        w("sprains and strains"),
        w("soft tissue injuries"),
        w("a pulled muscle from running", SPORT),
    ),
    "post-surgical": (w("recovery after surgery"), w("scar tissue after an operation")),
    "limited-mobility": (
        w("stiffness"),
        w("limited range of motion"),
        w("joints that no longer move freely"),
    ),
    "stress": (w("stress and tension"), w("anxiety that settles in the shoulders"), w("stress")),
}

CLIENT_GROUPS: dict[str, tuple[Wording, ...]] = {
    "office-workers": (
        w("office workers whose desk jobs leave knots in the shoulders", KNOTS),
        w("people whose desk job keeps them sitting all day"),
        w("office workers and anyone doing hours of computer work"),
    ),
    "athletes": (
        w("runners and weekend athletes"),
        w("athletes in training"),
        w("people who play sport at every level"),
    ),
    "chronic-conditions": (
        w("people living with chronic conditions"),
        w("clients managing long-term pain conditions"),
    ),
    "post-surgery": (
        w("people in rehab after surgery"),
        w("patients getting back on their feet after surgery"),
    ),
    "stress-sufferers": (
        w("people who are stressed, anxious or close to burnout"),
        w("clients who are stressed and carry it in their shoulders"),
    ),
}

LANGUAGE_NAMES = {
    "es": "Spanish",
    "fr": "French",
    "zh": "Mandarin",
    "vi": "Vietnamese",
    "ko": "Korean",
    "de": "German",
}

# Headline: a title from the first technique, a focus from the first client group or condition.
TITLES = {
    "neuromuscular-therapy": ("Neuromuscular therapist", "Certified NMT practitioner"),
    "trigger-point-therapy": ("Myotherapist", "Trigger point therapist"),
    "sports-massage": ("Sports massage therapist",),
}
DEFAULT_TITLES = ("Licensed massage therapist", "Massage therapist", "Bodywork therapist")
GROUP_FOCUS = {
    "office-workers": "desk workers",
    "athletes": "runners and athletes",
    "chronic-conditions": "chronic conditions",
    "post-surgery": "recovery after surgery",
    "stress-sufferers": "stress relief",
}
CONDITION_FOCUS = {
    "chronic-pain": "chronic pain",
    "back-pain": "back pain",
    "neck-pain": "neck and shoulder pain",
    "headaches": "tension headaches",
    "muscle-spasms": "muscle spasms",
    "fibromyalgia": "fibromyalgia",
    "arthritis": "arthritis",
    "repetitive-strain": "repetitive strain",
    "postural-imbalance": "posture",
    "nerve-compression": "sciatica",
    "soft-tissue-injury": "injury recovery",
    "post-surgical": "post-surgical rehab",
    "limited-mobility": "mobility",
    "stress": "stress and tension",
}


@dataclass(frozen=True)
class TextFacts:
    """What the texts may speak of: the profile's slugs (in choice order) and a few plain facts."""

    techniques: Sequence[str]
    conditions: Sequence[str]
    client_groups: Sequence[str]
    practicing_since: int
    mobile: bool
    languages: Sequence[str]

    @property
    def carried(self) -> frozenset[str]:
        return frozenset((*self.techniques, *self.conditions, *self.client_groups))


def headline(rng: random.Random, facts: TextFacts) -> str:
    title = rng.choice(TITLES.get(facts.techniques[0], DEFAULT_TITLES))
    if facts.client_groups and rng.random() < 0.5:
        focus = GROUP_FOCUS[facts.client_groups[0]]
    else:
        focus = ", ".join(CONDITION_FOCUS[slug] for slug in facts.conditions[:2])
    return f"{title} · {focus}"


def approach(rng: random.Random, facts: TextFacts) -> str:
    """Two to five sentences, in this order: who I work with, the conditions, the main technique,
    a second technique, a closing line. The first and the main technique always stay."""
    carried = facts.carried
    say = lambda table, slug: _say(rng, table[slug], carried)  # noqa: E731
    sentences = [(_opener(rng, facts, say), True)]  # (sentence, always kept)
    if facts.client_groups:  # otherwise the opener already named the conditions
        sentences.append((_conditions_sentence(rng, facts, say), False))
    sentences.append((_technique_sentence(rng, say(TECHNIQUES, facts.techniques[0]), first=True), True))
    if len(facts.techniques) > 1:
        sentences.append((_technique_sentence(rng, say(TECHNIQUES, facts.techniques[1]), first=False), False))
    sentences.append((_closing(rng, facts), False))
    optional = [i for i, (_, always) in enumerate(sentences) if not always]
    dropped = set(rng.sample(optional, rng.randint(0, len(optional))))
    return " ".join(sentence for i, (sentence, _) in enumerate(sentences) if i not in dropped)


def _say(rng: random.Random, wordings: tuple[Wording, ...], carried: frozenset[str]) -> str:
    # The first wording of each slug needs nothing, so there is always one that fits.
    return rng.choice([wording for wording in wordings if wording.fits(carried)]).text


def _opener(rng: random.Random, facts: TextFacts, say) -> str:
    if facts.client_groups:
        groups = _join([say(CLIENT_GROUPS, slug) for slug in facts.client_groups[:2]])
        template = rng.choice(
            ("I work with {}.", "I see mostly {}.", "My practice is built around {}.", "I mostly treat {}.")
        )
        return template.format(groups)
    conditions = _join([say(CONDITIONS, slug) for slug in facts.conditions[:3]])
    template = rng.choice(
        ("I help people with {}.", "Most clients come to me with {}.", "My work focuses on {}.")
    )
    return template.format(conditions)


def _conditions_sentence(rng: random.Random, facts: TextFacts, say) -> str:
    conditions = _join([say(CONDITIONS, slug) for slug in facts.conditions[:3]], last="or")
    template = rng.choice(
        ("They usually come in with {}.", "Many come to me for {}.", "Many are dealing with {}.")
    )
    return template.format(conditions)


def _technique_sentence(rng: random.Random, wording: str, *, first: bool) -> str:
    if first:
        template = rng.choice(("I use {}.", "Sessions are built on {}.", "My main tool is {}."))
    else:
        template = rng.choice(("I also use {}.", "Where it helps I add {}.", "Some sessions include {}."))
    return template.format(wording)


def _closing(rng: random.Random, facts: TextFacts) -> str:
    options = [
        f"I have been in practice since {facts.practicing_since}.",
        "Pressure is always adjusted to what feels right for you.",
        "Every first session starts with a careful assessment.",
        "You stay in charge of how deep we go.",
        "I will show you a few simple things to do at home between sessions.",
    ]
    if facts.mobile:
        options.append("I also travel to clients' homes.")
    spoken = [LANGUAGE_NAMES[code] for code in facts.languages if code in LANGUAGE_NAMES]
    if spoken:
        options.append(f"Sessions are also available in {_join(spoken)}.")
    return rng.choice(options)


def _join(parts: list[str], last: str = "and") -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {last} {parts[-1]}"
