"""What people type into search: odd text, bad parameters, plain words and their synonyms,
partial matches, and what a result says about itself (snippet, why, facets, suggestion)."""

import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.search.node import node
from directory.timeutil import today_utc
from tests.factories import PNG, submission

AUSTIN = {"lat": 30.2672, "lon": -97.7431}
NEITHER = {"approach": "Long relaxing strokes for a quiet hour.", "techniques": ["swedish-massage"]}


def get(client, **params):
    return client.get("/api/v1/search", query_string=params)


def found(client, **params) -> dict:
    response = get(client, **params)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert not body.get("degraded"), "answered from the database scan, not the index"
    return body


def ids_of(body: dict) -> list[int]:
    return [r["id"] for r in body["results"]]


def assert_error_shape(response, field: str | None = None) -> None:
    body = response.get_json()
    assert body["code"] == response.status_code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert field in body.get("errors", {}), body
        assert all(isinstance(m, str) for m in body["errors"][field]), body


def person(factory, places=((AUSTIN["lat"], AUSTIN["lon"]),), **profile):
    p = factory.practitioner(**profile)
    for lat, lon in places:
        factory.location(p, lat=lat, lon=lon, city="Austin")
    return p


# -- (a) any q, however odd ---------------------------------------------------------------------
ODD = [
    '"', '"unclosed phrase', "(back pain", "[neck] {pain}", "AND", "OR", "NOT", "back AND NOT neck OR",
    "*", "?", "sci*", "sciat?ca", "a:b", "text:knots", "pid:1", "~", "knots~2", "knots^4", "\\", "%", "'",
    "don't", "\x00", "knots\x00shoulders", "😀 🙂 💆‍♀️", "مساج العلاج العصبي العضلي", "עיסוי \u200f\u202e",
    "マッサージ 肩こり", "Straße Œuvre ǅ İstanbul", "ﬁbromyalgia", "\u0301\u0301\u0301", "x" * 3000,
    "sciatica " * 333
]  # fmt: skip
ODD_Q = st.one_of(
    st.sampled_from(ODD),
    st.text(),
    st.lists(
        st.one_of(st.sampled_from([w for w in ODD if len(w) < 40]), st.text(max_size=12)), max_size=6
    ).map(" ".join),
)
NEAR = st.one_of(st.none(), st.sampled_from(["Austin, TX", "78701", "30.2672,-97.7431", "Seattle"]))


@pytest.fixture
def seeded(factory):
    person(
        factory,
        approach="Knots in the shoulders, sciatica and <b>tension</b> work.",
        techniques=["deep-tissue"],
    )
    person(factory, approach="Gentle and slow.", conditions=["nerve-compression", "stress"])
    person(factory, places=(), approach="Runner's recovery, AND OR NOT a:b *")
    return factory


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=ODD_Q, near=NEAR)
def test_any_q_gets_an_answer_or_a_4xx_never_a_500(client, seeded, q, near):
    params = {"q": q} if near is None else {"q": q, "near": near}
    response = get(client, **params)
    assert response.status_code == 200 or 400 <= response.status_code < 500, (q, response.status_code)
    body = response.get_json()
    if response.status_code == 200:
        assert isinstance(body["total"], int) and isinstance(body["results"], list)
        assert all(isinstance(r["snippet"], str) and "<script" not in r["snippet"] for r in body["results"])
    else:
        assert_error_shape(response, "q")
    # Every other parameter is valid, so only a q longer than the schema allows, or holding a NUL (which
    # no text in a request may: directory/web/inputs.py), may be refused.
    assert (response.status_code == 200) is (len(q) <= 500 and "\x00" not in q), (q, body)


def test_a_q_too_long_is_refused_by_name(client, seeded):
    response = get(client, q="x" * 3000)
    assert response.status_code in (400, 422)
    assert_error_shape(response, "q")


# -- (b) bad parameters ---------------------------------------------------------------------------
BAD = [
    ({"radius_km": 501, **AUSTIN}, "radius_km"),
    ({"radius_km": 0, **AUSTIN}, "radius_km"),
    ({"radius_km": -1, **AUSTIN}, "radius_km"),
    ({"radius_km": "far", **AUSTIN}, "radius_km"),
    ({"radius_km": "nan", **AUSTIN}, "radius_km"),
    ({"radius_km": "inf", **AUSTIN}, "radius_km"),
    ({"lat": 200, "lon": 0}, "lat"),
    ({"lat": -91, "lon": 0}, "lat"),
    ({"lat": "north", "lon": 0}, "lat"),
    ({"lat": "nan", "lon": 0}, "lat"),
    ({"lat": 0, "lon": 181}, "lon"),
    ({"lat": 30.2}, "lon"),
    ({"lon": -97.7}, "lat"),
    ({"per_page": 1000}, "per_page"),
    ({"per_page": 0}, "per_page"),
    ({"page": 0}, "page"),
    ({"page": -1}, "page"),
    ({"page": "x"}, "page"),
    ({"page": "1.5"}, "page"),
    ({"sort": "best"}, "sort"),
    ({"min_rating": 6}, "min_rating"),
    ({"min_rating": 0}, "min_rating"),
    ({"min_years": -1}, "min_years"),
    ({"min_years": "ten"}, "min_years"),
    ({"language": "english"}, "language"),
    ({"verified": "maybe"}, "verified"),
    ({"accepting": "perhaps"}, "accepting"),
    ({"as_typed": "exactly", "q": "sciatcia"}, "as_typed"),
    ({"as_typed": "2"}, "as_typed"),
    ({"client_group": ["athletes"] * 11}, "client_group"),
    ({"client_group": "x" * 65}, "client_group"),
    ({"max_price": 0}, "max_price"),
    ({"max_price": -5}, "max_price"),
    ({"max_price": 100_001}, "max_price"),
    ({"max_price": "cheap"}, "max_price"),
    ({"max_price": "9.5"}, "max_price"),
    ({"home_visits": "sometimes"}, "home_visits"),
    ({"min_verified_years": -1}, "min_verified_years"),
    ({"min_verified_years": 81}, "min_verified_years"),
    ({"min_verified_years": "many"}, "min_verified_years"),
    ({"near": "qwzx plorb"}, "near"),
    ({"near": "00000"}, "near"),
    ({"near": "91,0"}, "near"),
    ({"near": "0,181"}, "near"),
    ({"near": "nan,0"}, "near"),
    ({"sort": "distance"}, "sort"),
    ({"sort": "distance", "q": "knots"}, "sort"),
]


@pytest.mark.parametrize(("params", "field"), BAD, ids=[f"{f}={p.get(f)!r}" for p, f in BAD])
def test_a_bad_parameter_is_refused_by_name(client, params, field):
    response = get(client, **params)
    assert response.status_code in (400, 422), response.get_json()
    assert_error_shape(response, field)


@pytest.mark.parametrize("near", ["!!!", "?", "*", "-", "🙂"])
def test_a_near_without_letters_or_digits_is_unlocatable(client, near):
    response = get(client, near=near)
    assert response.status_code == 422, response.get_json()["location"]
    assert_error_shape(response, "near")


def test_an_invisible_near_counts_as_no_place(client):
    response = get(client, near="\u200f")
    assert response.status_code == 200
    assert response.get_json()["location"] is None


@pytest.mark.parametrize("near", ["Austin\x00", "\x00"])
def test_a_near_with_a_nul_is_answered_not_a_500(client, near):
    response = get(client, near=near)
    assert response.status_code in (200, 422)


# -- (c) plain words and their synonyms (directory/catalog/plain_words.toml)---------------------------------
# Each row: a query, and a profile whose own words do not say it but whose vocabulary does
# (plus, for words that are no synonym, like "shoulders", a text that holds them).
SYNONYMS = [
    (
        "knots in my shoulders",
        {"techniques": ["trigger-point-therapy"], "approach": "Slow work on the shoulders."},
    ),
    ("headaches from my desk job", {"conditions": ["headaches"], "client_groups": ["office-workers"]}),
    ("stiff neck", {"conditions": ["neck-pain"]}),
    ("sciatica", {"conditions": ["nerve-compression"]}),
    ("lower back", {"conditions": ["back-pain"]}),
    ("after surgery", {"client_groups": ["post-surgery"]}),
    ("anxiety", {"conditions": ["stress"]}),
    ("runner", {"client_groups": ["athletes"]}),
    ("carpal tunnel", {"conditions": ["repetitive-strain"]}),
    ("NMT", {"techniques": ["neuromuscular-therapy"]}),
    ("PNF", {"techniques": ["pnf-stretching"]}),
    ("migraine", {"conditions": ["headaches"]}),
    ("pinched nerve", {"conditions": ["nerve-compression"]}),
    ("scar tissue", {"techniques": ["friction-techniques"]}),
    ("lumbar", {"conditions": ["back-pain"]}),
    ("burnout", {"client_groups": ["stress-sufferers"]}),
    ("RSI", {"conditions": ["repetitive-strain"]}),
    ("tight spots", {"techniques": ["neuromuscular-therapy"]}),
    ("range of motion", {"conditions": ["limited-mobility"]}),
    ("posture", {"conditions": ["postural-imbalance"]}),
    ("referred pain", {"conditions": ["chronic-pain"]}),
    # The complaints people type, each found whole (not relaxed to "pain"), wherever the phrase stands.
    ("jaw pain", {"techniques": ["myofascial-release"]}),
    ("TMJ", {"techniques": ["trigger-point-therapy"]}),
    ("whiplash", {"conditions": ["soft-tissue-injury"]}),
    ("plantar fasciitis", {"conditions": ["soft-tissue-injury"]}),
    ("tennis elbow", {"techniques": ["friction-techniques"]}),
    ("golfer's elbow", {"conditions": ["repetitive-strain"]}),
    ("carpal tunnel syndrome", {"conditions": ["nerve-compression"]}),
    ("frozen shoulder", {"conditions": ["limited-mobility"]}),
    ("sciatic", {"conditions": ["nerve-compression"]}),
    ("my tennis elbow", {"techniques": ["friction-techniques"]}),
    ("pain from whiplash", {"conditions": ["neck-pain"], "approach": "Pain that lingers."}),
    ("Lower Back Pain", {"conditions": ["back-pain"]}),
    ("shin splints from running", {"client_groups": ["athletes"]}),
]


@pytest.mark.parametrize(("q", "profile"), SYNONYMS, ids=[q for q, _ in SYNONYMS])
def test_plain_words_find_the_vocabulary_they_mean(client, factory, q, profile):
    meant = person(factory, **{"approach": "Careful, attentive hands.", **profile})
    other = person(factory, **NEITHER)
    body = found(client, q=q)
    assert meant.id in ids_of(body), body
    assert other.id not in ids_of(body)
    assert body["relaxed"] is False


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("Dee O'Brien", "O'Brien"),
        ("Dee O’Brien", "O’Brien"),
        ("Dee O’Brien", "O'Brien"),
        ("Dee O'Brien", "O’Brien"),
        ("Works with runners", "runner's"),
        ("Works with runners", "runner’s"),
        ("Trained in İzmir and Ankara", "Ankara"),
        ("Trained in İzmir and Ankara", "İzmir"),
    ],
)
def test_a_word_typed_as_written_finds_the_profile(client, factory, written, typed):
    p = person(factory, display_name=written, approach=written)
    body = found(client, q=typed)
    assert ids_of(body) == [p.id] and body["relaxed"] is False


RELAXED = [
    # (query, profiles, ids expected (indexes into profiles), relaxed)
    ("shoulders zebrafish", [{"approach": "Shoulders and hips."}, NEITHER], [0], True),
    ("sciatica zebrafish", [{"conditions": ["nerve-compression"]}, NEITHER], [0], True),
    (
        "knots shoulders",
        [{"techniques": ["trigger-point-therapy"], "approach": "Shoulders."}, NEITHER],
        [0],
        False,
    ),
    (
        "knots shoulders",
        [{"techniques": ["trigger-point-therapy"], "approach": "Shoulders."}, {"approach": "Shoulders."}],
        [0],
        False,
    ),
    (
        "knots shoulders",
        [{"techniques": ["trigger-point-therapy"]}, {"approach": "Shoulders."}],
        [0, 1],
        True,
    ),
    (
        "quiet hips",
        [{"approach": "Quiet room."}, {"approach": "Hips."}, {"approach": "Quiet hips."}],
        [2],
        False,
    ),
    ("quiet hips", [{"approach": "Quiet room."}, {"approach": "Hips."}, NEITHER], [0, 1, 2], True),
]


@pytest.mark.parametrize(("q", "profiles", "expected", "relaxed"), RELAXED)
def test_partial_matches_only_when_nothing_matches_every_word(
    client, factory, q, profiles, expected, relaxed
):
    people = [person(factory, **profile) for profile in profiles]
    body = found(client, q=q)
    assert sorted(ids_of(body)) == sorted(people[i].id for i in expected)
    assert body["relaxed"] is relaxed
    if relaxed:  # the first reason owns up to matching only part: "… 1 of your 2 words …"
        words = len(q.split())
        assert all(str(words) in r["why"][0] and "1" in r["why"][0] for r in body["results"]), body


# -- (d) what a result says about itself ----------------------------------------------------------
@pytest.mark.parametrize(
    ("approach", "q", "marked"),
    [
        ("Tension release. <script>alert(1)</script> Then rest.", "tension", "Tension"),
        ("<script>alert(1)</script><b>tension</b> & \"quotes\" 'too'", "tension", "tension"),
        ("I <img src=x onerror=alert(1)> loosen knots", "loosen", "loosen"),
        ("Calm words. " * 30 + "<script>x</script> stubborn tension <i>here</i>", "stubborn", "stubborn"),
        ("<script>alert(1)</script>", "script", "script"),
    ],
)
def test_the_snippet_is_escaped_and_marks_the_matched_word(client, factory, approach, q, marked):
    person(factory, approach=approach)
    [result] = found(client, q=q)["results"]
    snippet = result["snippet"]
    assert f"<mark>{marked}</mark>" in snippet
    assert "&lt;" in snippet
    without_marks = snippet.replace(f"<mark>{marked}</mark>", "")
    assert "<" not in without_marks and ">" not in without_marks, snippet
    assert '"' not in without_marks and "'" not in without_marks


def test_why_says_which_words_matched_and_how_far(client, factory):
    near = person(factory, places=((30.30, -97.74),), approach="Stubborn tension in the calves.")
    body = found(client, q="tension", near="30.2672,-97.7431", radius_km=50)
    [result] = body["results"]
    assert result["id"] == near.id
    why = result["why"]
    assert isinstance(why, list) and why and all(isinstance(w, str) and w for w in why)
    assert any("tension" in w for w in why), why
    assert any(f"{result['distance_km']:.1f} km" in w for w in why), why
    body = found(client, q="tension")
    assert not any(" km" in w for w in body["results"][0]["why"])


def test_facets_count_the_whole_result_set_not_the_page(client, factory):
    profiles = [
        {"techniques": ["deep-tissue", "sports-massage"], "conditions": ["back-pain"]},
        {"techniques": ["deep-tissue"], "conditions": ["back-pain", "stress"]},
        {"techniques": ["deep-tissue"], "conditions": []},
        {"techniques": ["swedish-massage"], "conditions": ["stress"]},
        {"techniques": ["myofascial-release"], "conditions": ["arthritis"], "accepting_clients": True},
    ]
    for profile in profiles:
        person(factory, approach="Patient tension work.", **profile)
    person(factory, approach="Nothing alike.", techniques=["deep-tissue"], conditions=["back-pain"])
    body = found(client, q="tension", per_page=1)
    assert body["total"] == 5 and len(body["results"]) == 1
    techniques = {k: v for k, v in body["facets"]["technique"].items() if v}
    conditions = {k: v for k, v in body["facets"]["condition"].items() if v}
    assert techniques == {
        "deep-tissue": 3,
        "sports-massage": 1,
        "swedish-massage": 1,
        "myofascial-release": 1,
    }
    assert conditions == {"back-pain": 2, "stress": 2, "arthritis": 1}
    # Filters narrow the facets too: they describe the results, not the directory.
    body = found(client, q="tension", technique="deep-tissue", per_page=1)
    assert body["facets"]["condition"]["back-pain"] == 2 and body["facets"]["condition"]["stress"] == 1
    assert body["facets"]["technique"]["swedish-massage"] == 0


@pytest.fixture
def speller(factory):
    person(factory, approach="Sciatica, shoulder tension and stiffness; gentle pressure.")
    return factory


@pytest.mark.parametrize(("q", "word"), [("sciatcia", "sciatica"), ("shouldr tension", "shoulder")])
def test_a_misspelt_word_gets_a_suggestion(client, speller, q, word):
    body = found(client, q=q)
    assert body["suggestion"] and word in body["suggestion"].lower()


@pytest.mark.parametrize(("q", "word"), [("Sciatcia", "sciatica"), ("tension Shouldr", "shoulder")])
def test_a_capitalised_misspelt_word_gets_a_suggestion(client, speller, q, word):
    body = found(client, q=q)
    assert body["suggestion"] and word in body["suggestion"].lower(), body["suggestion"]


@pytest.mark.parametrize("q", ["sciatica", "tension", "Gentle pressure", "knots"])
def test_words_spelt_right_get_no_suggestion(client, speller, q):
    assert found(client, q=q)["suggestion"] is None


@pytest.mark.parametrize(
    ("q", "suggested"),
    [
        ("whiplsh", "whiplash"),  # a complaint of the plain-words table, in no profile
        ("fibromyalgai", "fibromyalgia"),  # a condition's name, in no profile
        ("plantar fascitis", "plantar fasciitis"),
        ("gentel", "gentle"),  # a word of an approach
    ],
)
def test_suggestions_come_from_the_domain_and_the_approach_texts(client, factory, q, suggested):
    person(factory, display_name="Jae Whiplesh", headline="Careful hands", approach="Gentle, slow work.")
    assert found(client, q=q)["suggestion"] == suggested


@pytest.mark.parametrize(
    ("q", "named"),
    [
        ("Marguerrite", {"display_name": "Marguerite Ollivander"}),
        ("Ollivandre", {"display_name": "Marguerite Ollivander"}),
        ("Springfeld", {"city": "Springfield"}),
        ("Zephyrine", {"headline": "Zephyrina's studio"}),
    ],
)
def test_no_name_city_or_headline_is_offered_as_a_correction(client, factory, q, named):
    city = named.pop("city", "Austin")
    p = factory.practitioner(approach="Gentle, slow work.", **named)
    factory.location(p, lat=AUSTIN["lat"], lon=AUSTIN["lon"], city=city)
    body = found(client, q=q)
    assert body["suggestion"] is None, body["suggestion"]


# -- results for the corrected query ----------------------------------------------------------------


def test_a_misspelt_query_that_finds_nothing_shows_the_corrections_results(client, speller):
    meant = ids_of(found(client, q="sciatica"))
    body = found(client, q="sciatcia")
    assert (body["suggestion"], body["showing_results_for"]) == ("sciatica", "sciatica")
    assert ids_of(body) == meant and body["total"] == len(meant) == 1 and body["relaxed"] is False
    # The typed words, one click away: asked for as typed, nothing is replaced.
    typed = found(client, q="sciatcia", as_typed="true")
    assert (typed["total"], typed["showing_results_for"], typed["suggestion"]) == (0, None, "sciatica")


def test_a_misspelt_word_whose_other_words_match_shows_the_whole_correction(client, factory, speller):
    other = person(factory, approach="Tension in the calves.")
    body = found(client, q="shouldr tension")
    assert body["showing_results_for"] == "shoulder tension" and body["relaxed"] is False
    assert other.id not in ids_of(body) and body["total"] == 1
    typed = found(client, q="shouldr tension", as_typed="true")
    assert typed["relaxed"] is True and other.id in ids_of(typed) and typed["showing_results_for"] is None


def test_a_correction_that_finds_only_partial_matches_leaves_the_typed_query(client, factory):
    person(factory, approach="Shoulder work.")
    person(factory, approach="Tension in the calves.")
    body = found(client, q="shouldr tension")
    assert body["suggestion"] == "shoulder tension" and body["showing_results_for"] is None
    assert body["relaxed"] is True and body["total"] == 1  # "tension" alone: the typed query's partial match


def test_the_page_says_whose_results_it_shows_and_links_the_typed_query(client, speller):
    page = client.get("/", query_string={"q": "sciatcia"}).get_data(as_text=True)
    assert "Showing results for <strong>sciatica</strong>" in page
    assert 'href="/?q=sciatcia&amp;as_typed=true&amp;page=1">sciatcia</a>' in page
    typed = client.get("/", query_string={"q": "sciatcia", "as_typed": "true"}).get_data(as_text=True)
    assert "Showing results for" not in typed and "Did you mean" in typed


# -- the client-group filter and the facets of every categorical filter ----------------------------


def test_client_groups_filter_by_every_group_given_on_the_api_and_the_page(client, factory):
    both = person(factory, client_groups=["athletes", "office-workers"])
    athletes = person(factory, client_groups=["athletes"])
    person(factory, client_groups=["post-surgery"])
    assert sorted(ids_of(found(client, client_group="athletes"))) == sorted([both.id, athletes.id])
    assert ids_of(found(client, client_group=["athletes", "office-workers"])) == [both.id]
    page = client.get("/", query_string=[("client_group", "athletes"), ("client_group", "office-workers")])
    shown = {int(i) for i in re.findall(r'data-id="(\d+)"', page.get_data(as_text=True))}
    assert page.status_code == 200 and shown == {both.id}


def test_facets_count_client_groups_and_languages_among_the_results(client, factory):
    person(factory, approach="Calm work.", client_groups=["athletes"], languages=["en", "es"])
    person(factory, approach="Calm work.", client_groups=["athletes", "office-workers"], languages=["en"])
    person(factory, approach="Busy work.", client_groups=["post-surgery"], languages=["fr"])
    facets = found(client, q="calm")["facets"]
    assert {k: v for k, v in facets["client_group"].items() if v} == {"athletes": 2, "office-workers": 1}
    assert facets["language"] == {"en": 2, "es": 1}  # French is spoken, but by no one found
    page = client.get("/", query_string={"q": "calm"}).get_data(as_text=True)
    assert 'aria-label="Works with"' in page and 'aria-label="Languages"' in page
    assert "client_group=office-workers" in page


def scanned(make_app, **params) -> dict:
    """A search answered by the database scan (an app whose first search does not wait for its index),
    returned once the rebuild that search started is done: a rebuild left running would still hold a
    database connection when the next test resets the database."""
    app = make_app(SEARCH_REBUILD_WAIT_SECONDS=0)
    with app.app_context():
        body = app.test_client().get("/api/v1/search", query_string=params).get_json()
        rebuilding = node()._rebuilding
        assert rebuilding is None or rebuilding.wait(30)
    return body


def test_the_database_scan_filters_client_groups_too(make_app, factory):
    meant = person(factory, client_groups=["athletes"])
    person(factory, client_groups=["post-surgery"])
    body = scanned(make_app, client_group="athletes")
    assert body["degraded"] is True and ids_of(body) == [meant.id]
    assert body["facets"]["client_group"] == {} and body["facets"]["language"] == {}


def test_price_and_home_visits_filter_on_the_api_the_page_and_the_scan(client, factory, make_app):
    cheap_mobile = person(factory, price_min=60, price_max=90, mobile=True)
    only_top = person(factory, price_max=70)  # only the end of the range given: that is its price
    dear = person(factory, price_min=120, mobile=True)
    unpriced = person(factory, mobile=True)
    # The database scan first (no index is built yet): the same answer while an index is rebuilt.
    body = scanned(make_app, max_price=80, home_visits="true")
    assert body["degraded"] is True and ids_of(body) == [cheap_mobile.id]
    assert sorted(ids_of(found(client, max_price=80))) == sorted([cheap_mobile.id, only_top.id])
    assert sorted(ids_of(found(client, home_visits="true"))) == sorted(
        [cheap_mobile.id, dear.id, unpriced.id]
    )
    assert ids_of(found(client, max_price=80, home_visits="true")) == [cheap_mobile.id]
    page = client.get("/", query_string={"max_price": 80, "home_visits": "true"}).get_data(as_text=True)
    assert {int(i) for i in re.findall(r'data-id="(\d+)"', page)} == {cheap_mobile.id}


def test_verified_experience_counts_from_a_licence_date_a_source_showed(client, factory):
    admin = factory.headers(factory.user("admin"))
    shown, typed = person(factory), person(factory)
    for n, (p, decided) in enumerate(((shown, {"issued_on": "2012-05-01"}), (typed, {}))):
        data = submission(number=f"CMT-{7100 + n}", issued_on="2010-01-01")
        data["evidence"] = (io.BytesIO(PNG), "licence.png")
        headers = factory.headers(p.user)
        cid = client.post("/api/v1/me/credentials", data=data, headers=headers).get_json()["id"]
        decision = client.post(
            f"/api/v1/admin/credentials/{cid}/decision", json={"action": "verify", **decided}, headers=admin
        )
        assert decision.status_code == 200, decision.get_json()
    years = today_utc().year - 2012
    assert ids_of(found(client, min_verified_years=years)) == [shown.id]
    assert ids_of(found(client, min_verified_years=years + 1)) == []
    # The claimant's own 2010 is not verified experience (practice years are the min_years filter).
    assert typed.id not in ids_of(found(client, min_verified_years=1))


def test_the_search_form_offers_every_new_filter_and_keeps_what_was_chosen(client):
    page = client.get(
        "/",
        query_string={
            "client_group": "athletes",
            "max_price": 80,
            "home_visits": "true",
            "min_verified_years": 5,
        },
    ).get_data(as_text=True)
    assert '<option value="athletes" selected>' in page
    assert 'name="max_price" type="number"' in page and 'value="80"' in page
    assert 'name="home_visits" value="true" checked' in page
    assert '<option value="5" selected>5+ years, checked</option>' in page
    refused = client.get("/", query_string={"max_price": "cheap"})
    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)


def test_facets_count_how_many_results_each_yes_or_no_filter_would_keep(client, factory):
    person(factory, approach="Calm work.", mobile=True)
    person(factory, approach="Calm work.", mobile=True, accepting_clients=True)
    person(factory, approach="Calm work.")
    person(factory, approach="Busy work.", mobile=True)
    facets = found(client, q="calm")["facets"]
    assert facets["home_visits"] == {"true": 2} and facets["verified"] == {"true": 0}
    assert facets["home_visits"]["true"] == found(client, q="calm", home_visits="true")["total"]
