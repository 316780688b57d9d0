"""Small built-in lists for demo people and places: names by background (which also hints at a second
language spoken, as a client searching in Vietnamese would hope), streets, and location labels."""

import random
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class NamePool:
    language: str  # the second language this background speaks more often than most
    weight: float
    language_chance: float
    first: tuple[str, ...]
    last: tuple[str, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# The first pool is everyone else: mostly English-speaking, sometimes Spanish as well.
NAME_POOLS: tuple[NamePool, ...] = (
    NamePool(
        language="es",
        weight=0.62,
        language_chance=0.04,
        first=_words(
            "James Mary Michael Jennifer David Sarah Robert Emily Daniel Jessica Matthew Ashley Chris"
            " Amanda Ryan Megan Kevin Rachel Brian Laura Tyler Hannah Aisha Jamal Keisha Marcus Nicole"
            " Olivia Ethan Grace"
        ),
        last=_words(
            "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore"
            " Jackson Martin Thompson White Harris Clark Lewis Walker Hall Allen Young King Wright"
            " Scott Green Baker Adams Campbell Mitchell Roberts Carter Phillips Evans Turner Parker"
            " Collins Edwards"
        ),
    ),
    NamePool(
        language="es",
        weight=0.17,
        language_chance=0.6,
        first=_words(
            "María José Carlos Ana Luis Sofía Miguel Gabriela Javier Lucía Diego Valeria Alejandro"
            " Camila Ricardo Isabel"
        ),
        last=_words(
            "García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres Flores"
            " Rivera Gómez Díaz Reyes Morales Cruz Ortiz"
        ),
    ),
    NamePool(
        language="zh",
        weight=0.05,
        language_chance=0.5,
        first=_words("Wei Li Jing Ming Xiu Hui Lei Yan Jun Mei"),
        last=_words("Chen Wang Zhang Liu Huang Lin Wu Zhou Yang Xu"),
    ),
    NamePool(
        language="vi",
        weight=0.04,
        language_chance=0.5,
        first=_words("Linh Minh Thao Hung Lan Tuan Mai Duc Huong Quang"),
        last=_words("Nguyen Tran Le Pham Hoang Vu Dang Bui Do Ngo"),
    ),
    NamePool(
        language="ko",
        weight=0.04,
        language_chance=0.5,
        first=_words("Ji-woo Min-jun Seo-yeon Hyun Soo-jin Dong-hyun Eun-ji Jae"),
        last=_words("Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim"),
    ),
    NamePool(
        language="fr",
        weight=0.04,
        language_chance=0.4,
        first=_words("Camille Julien Chloé Étienne Manon Antoine Élodie Mathieu"),
        last=_words("Dubois Lefebvre Moreau Laurent Fontaine Girard Bonnet Rousseau"),
    ),
    NamePool(
        language="de",
        weight=0.04,
        language_chance=0.25,
        first=_words("Anna Lukas Katrin Jonas Heidi Stefan Greta Tobias"),
        last=_words("Müller Schmidt Schneider Fischer Weber Becker Hoffmann Wagner"),
    ),
)
_POOL_WEIGHTS = tuple(pool.weight for pool in NAME_POOLS)

STREETS = _words(
    "Main Oak Maple Cedar Park Elm Washington Lake Hill Pine Walnut Sunset Lincoln Jefferson Madison"
    " Franklin Highland Church Spring Mill River Willow Chestnut Center Broad Market Union Grand Valley Ridge"
)
STREET_KINDS = ("St", "Ave", "Blvd", "Rd", "Dr", "Ln", "Way", "Pl")
FIRST_LABELS = ("Main studio", "Studio", "Clinic", "Treatment rooms", "Practice")
SECOND_LABELS = ("Second studio", "Satellite clinic", "Wellness center", "Gym clinic", "Home studio")
WEBSITE_WORDS = ("massage", "bodywork", "nmt", "therapy", "wellness")


def pick_name(rng: random.Random) -> tuple[str, NamePool]:
    """First and last name, mostly from one background; a fifth mix first names across pools."""
    pool = rng.choices(NAME_POOLS, weights=_POOL_WEIGHTS)[0]
    first_pool = rng.choices(NAME_POOLS, weights=_POOL_WEIGHTS)[0] if rng.random() < 0.2 else pool
    return f"{rng.choice(first_pool.first)} {rng.choice(pool.last)}", pool


def pick_address(rng: random.Random) -> str:
    street = f"{rng.randint(1, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}"
    return f"{street}, Suite {rng.randint(100, 450)}" if rng.random() < 0.35 else street


def ascii_slug(text: str) -> str:
    """Plain ASCII for synthetic website hostnames: "José García" -> "jose-garcia"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in plain.lower()).split())
