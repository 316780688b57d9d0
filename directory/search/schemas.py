from typing import Any, TypedDict

import marshmallow as ma

from directory.practitioners.languages import ISO_639_1
from directory.schemas_base import Float, Integer, StrictSchema

SORTS = ("relevance", "distance", "rating")
REPEATABLE = ("technique", "condition", "client_group")  # the arguments given once per slug


class SearchArgs(TypedDict):
    """What SearchArgsSchema loads: every argument, None (or its default) when not given."""

    q: str | None
    near: str | None
    lat: float | None
    lon: float | None
    radius_km: float
    technique: list[str]
    condition: list[str]
    client_group: list[str]
    language: str | None
    verified: bool | None
    min_years: int | None
    min_rating: float | None
    accepting: bool | None
    max_price: int | None
    home_visits: bool | None
    min_verified_years: int | None
    as_typed: bool | None
    sort: str | None
    page: int
    per_page: int | None  # the page's schema loads 20; the API's None when not given (a walk's own)


class SearchArgsSchema(StrictSchema):
    class Meta:
        # Unknown query parameters (cache busters, trackers) are ignored, not refused.
        unknown = ma.EXCLUDE

    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500))
    near = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    lat = Float(load_default=None, allow_nan=False, validate=ma.validate.Range(min=-90, max=90))
    lon = Float(load_default=None, allow_nan=False, validate=ma.validate.Range(min=-180, max=180))
    radius_km = Float(load_default=25.0, allow_nan=False, validate=ma.validate.Range(min=0.1, max=500))
    technique = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=64)),
        load_default=list,
        validate=ma.validate.Length(max=10),
    )
    condition = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=64)),
        load_default=list,
        validate=ma.validate.Length(max=14),
    )
    client_group = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=64)),
        load_default=list,
        validate=ma.validate.Length(max=10),
        metadata={"description": "Repeatable slug: only practitioners who work with every group given"},
    )
    language = ma.fields.String(
        load_default=None, validate=ma.validate.OneOf(sorted(ISO_639_1), error="Not an ISO 639-1 code.")
    )
    verified = ma.fields.Boolean(load_default=None)
    min_years = Integer(load_default=None, validate=ma.validate.Range(min=0, max=80))
    min_rating = Float(load_default=None, allow_nan=False, validate=ma.validate.Range(min=1, max=5))
    accepting = ma.fields.Boolean(load_default=None)
    max_price = Integer(
        load_default=None,
        validate=ma.validate.Range(min=1, max=100_000),
        metadata={
            "description": "Only practitioners whose lowest price is at most this (none given: left out)"
        },
    )
    home_visits = ma.fields.Boolean(load_default=None, metadata={"description": "true: only those who visit"})
    min_verified_years = Integer(
        load_default=None,
        validate=ma.validate.Range(min=0, max=80),
        metadata={"description": "Years of experience counted from a licence date a source showed"},
    )
    as_typed = ma.fields.Boolean(
        load_default=None,
        metadata={"description": "true: results for q exactly as typed, never for its spelling correction"},
    )
    sort = ma.fields.String(load_default=None, validate=ma.validate.OneOf(SORTS))
    page = Integer(load_default=1, validate=ma.validate.Range(min=1, max=10_000))
    per_page = Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))

    @ma.validates_schema
    def _point(self, data: dict[str, object], **kwargs: object) -> None:
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise ma.ValidationError(
                "Give lat and lon together.", "lon" if data.get("lon") is None else "lat"
            )

    @ma.post_load
    def _clean(self, data: dict[str, object], **kwargs: object) -> dict[str, object]:
        for name in ("q", "near"):
            text = data.get(name)
            if isinstance(text, str):  # or None: not given
                # NUL and other control characters mean nothing in a search box.
                data[name] = "".join(ch if ch.isprintable() else " " for ch in text).strip() or None
        return data


class SearchApiArgs(SearchArgs):
    walk: bool | None
    cursor: str | None


class SearchApiArgsSchema(SearchArgsSchema):
    """The API's search arguments: the page's, and a walk's (walks.py)."""

    walk = ma.fields.Boolean(
        load_default=None,
        metadata={
            "description": "true: start a walk through every result; the answer's next_cursor leads to the "
            "next page, on the same index generation, for at least SEARCH_CURSOR_SECONDS (300)"
        },
    )
    # Not given: 20, or in a walk the size of its pages so far.
    per_page = Integer(load_default=None, validate=ma.validate.Range(min=1, max=100))
    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=4000),
        metadata={
            "description": "A next_cursor, given alone (per_page may change): the next page of its walk. "
            "410 when the walk has ended (too old, or another server): start again"
        },
    )

    @ma.pre_load
    def _cursor_alone(self, data: Any, **kwargs: object) -> Any:
        # Before defaults fill in: what was given, not what was loaded.
        if hasattr(data, "keys") and "cursor" in data:
            given = sorted(k for k in data if k in self.fields and k not in ("cursor", "per_page"))
            if given:
                raise ma.ValidationError(
                    f"A cursor carries its search: give it alone, without {', '.join(given)}.", "cursor"
                )
        return data

    @ma.validates_schema
    def _walk_from_the_start(self, data: dict[str, object], **kwargs: object) -> None:
        if data.get("walk") and data.get("page", 1) != 1:
            raise ma.ValidationError("A walk starts at the first page; its cursor gives the next.", "page")


class CredentialBadgeSchema(ma.Schema):
    issuer = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.String()
    label = ma.fields.String(metadata={"description": "The status in words: verified, re-check due, …"})


class ResultSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()
    headline = ma.fields.String()
    city = ma.fields.String(allow_none=True)
    region = ma.fields.String(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    distance_km = ma.fields.Float(allow_none=True)
    rating = ma.fields.Float(allow_none=True)
    review_count = ma.fields.Integer()
    verified = ma.fields.Boolean()
    credentials = ma.fields.List(ma.fields.Nested(CredentialBadgeSchema))
    techniques = ma.fields.List(ma.fields.String())
    snippet = ma.fields.String(metadata={"description": "HTML-escaped text; matched words wrapped in <mark>"})
    why = ma.fields.List(ma.fields.String(), metadata={"description": "Plain sentences explaining the place"})


class SearchLocationSchema(ma.Schema):
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    label = ma.fields.String()


class SearchResponseSchema(ma.Schema):
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    location = ma.fields.Nested(SearchLocationSchema, allow_none=True)
    suggestion = ma.fields.String(allow_none=True)
    showing_results_for = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The corrected query the results are for, when q as typed found nothing (or only "
            "partial matches) and its correction found full ones; null when they are for q as typed"
        },
    )
    relaxed = ma.fields.Boolean()
    degraded = ma.fields.Boolean(
        metadata={"description": "True while the index is rebuilt: answered from a database scan"}
    )
    sort = ma.fields.String()
    facets = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    )
    results = ma.fields.List(ma.fields.Nested(ResultSchema))
    next_cursor = ma.fields.String(
        allow_none=True,
        metadata={"description": "In a walk: the cursor of the next page; null at its end and outside walks"},
    )
