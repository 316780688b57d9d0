import re

import pytest


@pytest.fixture
def austin(factory):
    p = factory.practitioner(
        display_name="Dana <b>Reyes</b>",
        approach="Knots in shoulders, gently.",
        techniques=["trigger-point-therapy"],
    )
    factory.location(p, lat=30.2713, lon=-97.7426, city="Austin", region="TX")
    return p


def test_the_search_page_works_without_javascript(client, austin):
    html = client.get("/", query_string={"q": "knots in my shoulders", "near": "78701"}).get_data(
        as_text=True
    )
    html = re.sub(r"\s+", " ", html)
    assert "<strong>1</strong> practitioner within 25 km of Austin, TX 78701" in html
    assert f'href="/practitioners/{austin.id}"' in html
    assert "Dana &lt;b&gt;Reyes&lt;/b&gt;" in html and "<b>Reyes</b>" not in html
    assert "<mark>Knots</mark>" in html
    assert "km from Austin, TX 78701" in html


def test_map_markers_are_data_not_markup(client, austin):
    html = client.get("/", query_string={"near": "78701"}).get_data(as_text=True)
    markers = re.search(r"data-markers='([^']*)'", html).group(1)
    assert "<b>" not in markers and "\\u003cb\\u003e" in markers


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"near": "qwzx plorb"}, "could not find"),
        ({"radius_km": "9000"}, "radius_km"),
        ({"page": "0"}, "page"),
        ({"sort": "distance"}, "Sorting by distance needs a place"),
        ({"min_rating": "9"}, "min_rating"),
    ],
)
def test_bad_search_input_is_explained_on_the_page(client, params, message):
    response = client.get("/", query_string=params)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_paging_links_keep_the_query(client, factory):
    for i in range(3):
        p = factory.practitioner(display_name=f"Runner {i}", approach="Sports massage for runners.")
        factory.location(p, lat=30.27, lon=-97.74)
    html = client.get("/", query_string={"q": "runner", "near": "78701", "per_page": 2}).get_data(
        as_text=True
    )
    assert "Page 1 of 2" in html
    nxt = re.search(r'href="(/\?[^"]*page=2[^"]*)">Next', html).group(1)
    assert "q=runner" in nxt and "near=78701" in nxt
    second = client.get(nxt.replace("&amp;", "&")).get_data(as_text=True)
    assert "Page 2 of 2" in second
