"""Every XSS payload in xss_payloads.py goes into a review's text, its author's name and the
practitioner's answer; the JSON API returns them as plain data, and every HTML page that shows them,
parsed, has no element, event handler or script URL that the same page without payloads lacks."""

import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from directory.extensions import db
from directory.reviews.models import Review, ReviewResponse
from tests.reviews.xss_payloads import PAYLOADS

PER_PRACTITIONER = 5  # small enough that any paging of the profile still shows them all
RATINGS = [5, 4, 3, 2, 1]
DANGEROUS_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "svg", "math", "img", "image", "base",
    "meta", "link", "style", "form", "input", "button", "select", "textarea", "keygen", "isindex",
    "video", "audio", "source", "details", "marquee", "template", "noscript", "xmp", "plaintext", "a",
    "body", "html", "animate", "set", "use", "foreignobject", "maction", "xss", "table",
}  # fmt: skip
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster", "to"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


class Page(HTMLParser):
    """Every start tag with its attributes, and the text as a reader sees it."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return squash("".join(self.chunks))

    def attrs(self):
        return {(tag, name, value or "") for tag, attrs in self.tags for name, value in attrs}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def script_url(value: str) -> bool:
    cleaned = re.sub(r"[\x00-\x20\u200b\u200c\u200d\ufeff]", "", value).lower()
    return cleaned.startswith(BAD_SCHEMES)


def unsafe_differences(html: str, baseline_html: str) -> list[str]:
    """What the page has that the same page without payloads has not, and a browser would run."""
    page, base = Page(html), Page(baseline_html)
    problems = []
    counts, base_counts = Counter(t for t, _ in page.tags), Counter(t for t, _ in base.tags)
    for tag in sorted(DANGEROUS_TAGS):
        if counts[tag] != base_counts[tag]:
            problems.append(f"<{tag}> elements: {counts[tag]}, without payloads {base_counts[tag]}")
    base_attrs = base.attrs()
    base_names = {(tag, name) for tag, name, _ in base_attrs}
    for tag, name, value in sorted(page.attrs() - base_attrs):
        if name.startswith("on"):
            problems.append(f"event handler <{tag} {name}={value!r}>")
        elif name in URL_ATTRS and script_url(value):
            problems.append(f"script URL <{tag} {name}={value!r}>")
        elif (tag, name) not in base_names:
            problems.append(f"new attribute <{tag} {name}={value!r}>")
    return problems


def texts(i: int, payload: str) -> dict:
    return {
        "body": f"[xss-{i:03d}] {payload} -- padded so the review is long enough.",
        "author_name": f"{i:03d} {payload}"[:60].strip(),
        "response": f"[rsp-{i:03d}] {payload}",
    }


BENIGN = {
    "body": "A perfectly ordinary review of a good session.",
    "author_name": "Sam T.",
    "response": "Thank you kindly.",
}


@pytest.fixture
def pages(factory):
    """Practitioners with PER_PRACTITIONER reviews each, every one answered, all payloads used once;
    and a baseline practitioner whose reviews have the same ratings, names and answers in plain words.
    Rows go in through the models: the API's input rules are test_api.py's business."""
    clients = [factory.user("client") for _ in range(PER_PRACTITIONER)]
    batches = [
        list(enumerate(PAYLOADS))[i : i + PER_PRACTITIONER] for i in range(0, len(PAYLOADS), PER_PRACTITIONER)
    ]
    made = []

    def fill(practitioner, items: list[dict]):
        for slot in range(PER_PRACTITIONER):
            t = items[slot] if slot < len(items) else BENIGN
            review = Review(
                practitioner_id=practitioner.id,
                author_id=clients[slot].id,
                author_name=t["author_name"],
                rating=RATINGS[slot],
                body=t["body"],
                verified_client=slot % 2 == 0,
            )
            review.response = ReviewResponse(body=t["response"])
            db.session.add(review)

    baseline = factory.practitioner(display_name="Plain Practice")
    fill(baseline, [])
    for batch in batches:
        practitioner = factory.practitioner(display_name="Plain Practice")
        items = [texts(i, payload) for i, payload in batch]
        fill(practitioner, items)
        made.append((practitioner, items))
    db.session.commit()
    return baseline, made


def test_the_corpus_is_big_enough():
    assert len(PAYLOADS) >= 100


def test_the_json_api_returns_payloads_as_plain_data(client, pages):
    _, made = pages
    seen = 0
    for practitioner, items in made:
        response = client.get(f"/api/v1/practitioners/{practitioner.id}/reviews")
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        results = response.get_json()["results"]
        got = {(r["body"], r["author"], r["response"]["body"]) for r in results}
        for t in items:
            assert (t["body"], t["author_name"], t["response"]) in got
            seen += 1
    assert seen == len(PAYLOADS)


def _render(client, factory, kind: str, practitioner) -> str:
    if kind == "profile":
        response = client.get(f"/practitioners/{practitioner.id}")
    else:  # the practitioner's own reviews page
        factory.login(practitioner.user)
        response = client.get("/account/reviews")
        client.post("/logout")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["profile", "account"])
def test_pages_showing_reviews_never_run_the_payloads(client, factory, pages, kind):
    baseline, made = pages
    _render(client, factory, kind, baseline)  # the second rendering carries the same flashes as the rest
    baseline_html = _render(client, factory, kind, baseline)
    problems, shown, missing = [], 0, []
    for practitioner, items in made:
        html = _render(client, factory, kind, practitioner)
        for problem in unsafe_differences(html, baseline_html):
            problems.append(f"practitioner {practitioner.id}: {problem}")
        text = Page(html).text
        for t in items:
            for payload_text in t.values():
                if "<" in payload_text and payload_text in html:
                    problems.append(f"unescaped in the HTML: {payload_text!r}")
            if t["body"][:9] in text:  # the "[xss-NNN]" marker: this page shows reviews
                shown += 1
                for key, value in t.items():
                    if squash(value) not in text:
                        missing.append(f"{key} {value!r} not shown as text (escaped) on the page")
            else:
                missing.append(f"review {t['body'][:9]} not on the page")
    assert not problems, "\n".join(problems[:40])
    assert not missing, "\n".join(missing[:40])
    assert shown == len(PAYLOADS)


SAMPLE = PAYLOADS[::15]


def test_payloads_written_through_the_api_come_back_verbatim(client, factory, app):
    """A sample through the real endpoints (trimming, schemas), answered by the practitioner."""
    app.config["REVIEWS_PER_HOUR"] = len(SAMPLE) + 1
    author = factory.headers(factory.user("client"))
    for i, payload in enumerate(SAMPLE):
        practitioner = factory.practitioner()
        t = texts(i, payload)
        written = client.post(
            f"/api/v1/practitioners/{practitioner.id}/reviews",
            json={"rating": 3, "body": t["body"], "author_name": t["author_name"]},
            headers=author,
        )
        assert written.status_code == 201, written.get_json()
        answered = client.post(
            f"/api/v1/reviews/{written.get_json()['id']}/response",
            json={"body": t["response"]},
            headers=factory.headers(practitioner.user),
        )
        assert answered.status_code == 201, answered.get_json()
        [listed] = client.get(f"/api/v1/practitioners/{practitioner.id}/reviews").get_json()["results"]
        assert (listed["body"], listed["author"], listed["response"]["body"]) == (
            t["body"],
            t["author_name"],
            t["response"],
        )
