def test_vocabulary_lists_the_domain_terms(client):
    body = client.get("/api/v1/vocabulary").get_json()
    slugs = {t["slug"] for t in body["techniques"]}
    assert {"neuromuscular-therapy", "trigger-point-therapy", "swedish-massage"} <= slugs
    assert all(t["description"] for t in body["techniques"])
    assert {"headaches", "nerve-compression"} <= {c["slug"] for c in body["conditions"]}
    assert {"office-workers", "athletes"} <= {g["slug"] for g in body["client_groups"]}


def test_issuers_are_listed_with_kind_and_jurisdiction(client):
    issuers = {i["slug"]: i for i in client.get("/api/v1/issuers").get_json()}
    assert issuers["camtc"] == {
        "slug": "camtc",
        "name": "California Massage Therapy Council",
        "kind": "licensing-board",
        "jurisdiction": "US-CA",
        "number_format": {"pattern": r"CMT\d{4,8}", "separators": " -", "example": "CMT-12345"},
    }
    assert issuers["st-john-nmt"]["kind"] == "training-program"
    assert len(issuers) == 10
