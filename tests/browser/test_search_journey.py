import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_search_by_zip_then_open_a_profile(live_server, page, factory, artifacts):
    near = factory.practitioner(display_name="Dana Reyes", approach="I release knots in stiff shoulders.")
    factory.location(near, lat=30.2713, lon=-97.7426, city="Austin", region="TX")
    far = factory.practitioner(display_name="Far Away", approach="Knots in shoulders too.")
    factory.location(far, lat=47.6, lon=-122.3, city="Seattle", region="WA")

    page.goto(live_server + "/")
    page.get_by_label("What bothers you?").fill("knots in my shoulders")
    page.get_by_label("Near").fill("78701")
    page.get_by_role("button", name="Search").click()

    results = page.locator("ol.results li.result")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Dana Reyes")
    expect(results.first.locator("mark").first).to_have_text("knots")
    expect(results.first.locator(".why")).to_contain_text("km from Austin, TX 78701")
    marker = page.locator("#map .leaflet-marker-icon")
    expect(marker).to_have_count(1)
    marker.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r))")
    page.screenshot(path=str(artifacts / "search-results.png"), full_page=True)

    results.first.get_by_role("link", name="Dana Reyes").click()
    expect(page.get_by_role("heading", name="Dana Reyes")).to_be_visible()
    expect(page.get_by_text("Austin, TX")).to_be_visible()
