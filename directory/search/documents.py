"""What the index holds about a practitioner: the Whoosh schema and the document builder.

The fields and the packed `meta` layout are the search record (record.py). Text goes into `text`
(stemmed, for matching and scoring); the unstemmed words the spelling suggester draws on go into
`words` documents of their own (see schema()). Vocabulary slugs and languages are keywords, used as
postings for synonyms, filters and facets. Everything numeric a query filters, scores or sorts on is
packed into one column (`meta`) that arrays.py reads once per segment.
"""

import re
import time
from collections.abc import Iterable, Iterator

from whoosh import fields
from whoosh.analysis import Analyzer, Token
from whoosh.analysis.filters import STOP_WORDS
from whoosh.codec.whoosh3 import W3Codec
from whoosh.columns import VarBytesColumn
from whoosh.lang.porter import stem as porter_stem

from directory.search import spelling
from directory.search.record import (
    LANG,
    META,
    PID,
    TEXT,
    VOCAB,
    WORDS,
    WORDS_PID_PREFIX,
    PractitionerDocument,
    SearchFacts,
    WordsDocument,
    pack_meta,
)
from directory.search.synonyms import PLAIN_WORDS, normalize

# Words that carry no meaning in a search for a therapist ("someone near me for my back").
EXTRA_STOP = {
    "my",
    "me",
    "i",
    "im",
    "our",
    "need",
    "needs",
    "want",
    "looking",
    "someone",
    "who",
    "near",
    "help",
    "please",
    "some",
    "very",
    "really",
    "get",
    "got",
    "am",
    "do",
    "does",
}
STOPLIST = frozenset(STOP_WORDS) | EXTRA_STOP
TOKEN_PATTERN = r"[^\W_]+(?:['’][^\W_]+)?"  # noqa: S105  # nosec B105: a regex, not a password
WORD = re.compile(TOKEN_PATTERN)


def text_analyzer() -> Analyzer:
    return TextAnalyzer()


class TextAnalyzer(Analyzer):
    """The terms of Whoosh's RegexTokenizer | LowercaseFilter | StopFilter | StemFilter in one loop: each word matched, lower-cased, dropped when shorter than
    two letters or a stop word, and stemmed (Porter), with the stems remembered. Whoosh's chain passes
    every token through four generators and a cache wrapper; at a million practitioners that was a
    sixth of a rebuild. The schema in each index's table of contents pickles the analyzer: the stems
    it remembered stay out of the pickle (__getstate__)."""

    STOP_MIN = 2  # StopFilter's default minsize
    REMEMBERED = 100_000  # stems kept before the memory is cleared

    def __init__(self) -> None:
        self.expression = re.compile(TOKEN_PATTERN)
        self.stems: dict[str, str] = {}

    def __getstate__(self) -> dict[str, object]:
        return {"expression": self.expression}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.stems = {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(  # noqa: PLR0913  (Whoosh's tokenizer arguments, all of them)
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        stems, stoplist, shortest = self.stems, STOPLIST, self.STOP_MIN
        pos = None  # StopFilter's renumbering: the first word kept keeps its place, the rest follow it
        words = (
            [(value, 0, len(value))]
            if not tokenize
            else ((m.group(), m.start(), m.end()) for m in self.expression.finditer(value))
        )
        for place, (word, start, end) in enumerate(words, start_pos):
            text = word.lower()
            stopped = len(text) < shortest or text in stoplist
            if stopped and removestops:
                continue
            if not stopped:
                stem = stems.get(text)
                if stem is None:
                    if len(stems) >= self.REMEMBERED:
                        stems.clear()
                    stem = stems[text] = porter_stem(text)
                text = stem
            t.text, t.boost, t.stopped = text, 1.0, stopped
            if keeporiginal or not tokenize:  # Whoosh's tokenizer keeps an untokenized value's original
                t.original = word
            if positions:
                if stopped:
                    t.pos = place
                else:
                    pos = place if pos is None else pos + 1
                    t.pos = pos
            if chars:
                t.startchar, t.endchar = start_char + start, start_char + end
            yield t


def codec() -> W3Codec:
    """Whoosh's codec for every writer, without its per-block length statistics. Only Whoosh's own
    collectors read them (to skip blocks that cannot make the top N); this engine reads postings into
    arrays and scores them itself (arrays.py), and working the statistics out took an eighth of a build.
    Set on the instance, not in a subclass: the table of contents pickles the codec with each segment,
    and reading it back then needs Whoosh's class only."""
    found = W3Codec()
    found.length_stats = False
    return found


def schema() -> fields.Schema:
    return fields.Schema(
        **{
            PID: fields.ID(stored=True, unique=True),
            TEXT: fields.TEXT(analyzer=text_analyzer(), phrase=False),
            # The spelling vocabulary: not one posting per practitioner and word (that doubled the
            # cost of indexing) but one small document per batch listing the words it brought in;
            # stored too, so a segment's spelling table reads its words in one go (arrays.py).
            WORDS: fields.KEYWORD(lowercase=True, commas=False, stored=True),
            VOCAB: fields.KEYWORD(lowercase=True, commas=False),
            LANG: fields.KEYWORD(lowercase=True, commas=False),
            META: fields.COLUMN(VarBytesColumn()),
        }
    )


def text_length(text: str) -> int:
    """Close to the number of terms Whoosh indexes, at a fraction of the cost of analysing twice."""
    return sum(1 for w in WORD.findall(text.lower()) if w not in STOPLIST)


def spelling_words(facts: SearchFacts) -> set[str]:
    """The words of one profile that enter the spelling vocabulary: its approach text's, bounded
    (spelling.py). Names, cities and issuers are found as typed but never offered as a correction."""
    text = normalize(facts.spelling_text).lower()
    return set(spelling.learnable(w for w in WORD.findall(text) if w not in STOPLIST))


def domain_words(names: Iterable[str]) -> set[str]:
    """The spelling words every index holds whoever is listed: the catalog's term names given, and
    every word of the plain-words table, so a misspelt complaint is corrected to a complaint. All of
    them: the domain's own data is not held to a profile's budget of variants."""
    text = normalize(" ".join([*names, *PLAIN_WORDS])).lower()
    return {w for w in WORD.findall(text) if w not in STOPLIST and spelling.spellable(w)}


def document_text(facts: SearchFacts) -> str:
    return normalize("\n".join(t for t in facts.texts if t))


def words_document(words: set[str]) -> WordsDocument:
    """A document that only carries spelling words; its pid marks it as not a practitioner."""
    return {PID: f"{WORDS_PID_PREFIX}{time.time_ns()}", WORDS: " ".join(sorted(words))}


def to_document(facts: SearchFacts, text: str) -> PractitionerDocument:
    return {
        PID: str(facts.pid),
        TEXT: text,
        VOCAB: " ".join(facts.slugs),
        LANG: " ".join(facts.languages),
        META: pack_meta(facts, text_length(text)),
    }
