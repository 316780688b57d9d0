"""Profile and place schemas: what a practitioner may send, and what owners and the public see."""

import re

import marshmallow as ma

from directory.catalog import service as catalog
from directory.catalog.models import ClientGroup, Condition, Technique
from directory.practitioners.languages import ISO_639_1
from directory.schemas_base import Float, Integer, PersonName, StrictSchema, TrimmedString
from directory.timeutil import today_utc

PHONE = re.compile(r"^[0-9+().\- ]{7,40}$")


class StrictBoolean(ma.fields.Boolean):
    """JSON true/false only: "yes" or 1 is a mistake worth naming, not a guess."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _slug_list(model, label: str) -> ma.fields.List:
    def check(slugs):
        unknown = catalog.unknown_slugs(model, slugs)
        if unknown:
            raise ma.ValidationError(f"Unknown {label}: {', '.join(unknown)}. See /api/v1/vocabulary.")

    return ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        load_default=list,
        validate=[ma.validate.Length(max=30), check],
    )


class ProfileInSchema(StrictSchema):
    display_name = PersonName(required=True, validate=ma.validate.Length(min=1, max=120))
    headline = TrimmedString(load_default="", validate=ma.validate.Length(max=200))
    approach = TrimmedString(load_default="", validate=ma.validate.Length(max=5000))
    techniques = _slug_list(Technique, "technique")
    conditions = _slug_list(Condition, "condition")
    client_groups = _slug_list(ClientGroup, "client group")
    practicing_since = Integer(strict=True, load_default=None, allow_none=True)
    languages = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(sorted(ISO_639_1), error="Not an ISO 639-1 code.")),
        load_default=lambda: ["en"],
        validate=ma.validate.Length(max=20),
    )
    accepting_clients = StrictBoolean(load_default=False)
    mobile = StrictBoolean(load_default=False)
    price_min = Integer(
        strict=True, load_default=None, allow_none=True, validate=ma.validate.Range(min=0, max=10000)
    )
    price_max = Integer(
        strict=True, load_default=None, allow_none=True, validate=ma.validate.Range(min=0, max=10000)
    )
    phone = TrimmedString(load_default="", validate=ma.validate.Length(max=40))
    website = TrimmedString(load_default="", validate=ma.validate.Length(max=300))

    @ma.validates("practicing_since")
    def _year(self, value, **kwargs):
        if value is not None and not 1950 <= value <= today_utc().year:
            raise ma.ValidationError(f"Give a year from 1950 to {today_utc().year}.")

    @ma.validates("phone")
    def _phone(self, value, **kwargs):
        if value and not PHONE.match(value):
            raise ma.ValidationError("Use digits, spaces and + ( ) - only.")

    @ma.validates("website")
    def _website(self, value, **kwargs):
        if value:
            ma.validate.URL(schemes={"http", "https"}, error="Give a web address starting with https://.")(
                value
            )

    @ma.validates_schema
    def _prices(self, data, **kwargs):
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError("The lowest price must not be above the highest.", "price_max")

    @ma.post_load
    def _dedupe(self, data, **kwargs):
        for key in ("techniques", "conditions", "client_groups", "languages"):
            data[key] = list(dict.fromkeys(data[key]))
        return data


class LocationInSchema(StrictSchema):
    label = TrimmedString(load_default="", validate=ma.validate.Length(max=120))
    address = TrimmedString(load_default="", validate=ma.validate.Length(max=300))
    city = TrimmedString(load_default="", validate=ma.validate.Length(max=120))
    region = TrimmedString(load_default="", validate=ma.validate.Length(max=120))
    postal_code = TrimmedString(load_default="", validate=ma.validate.Length(max=20))
    country = TrimmedString(
        load_default="US",
        validate=ma.validate.Regexp(r"^[A-Za-z]{2}$", error="Use a two-letter country code."),
    )
    lat = Float(
        load_default=None, allow_none=True, allow_nan=False, validate=ma.validate.Range(min=-90, max=90)
    )
    lon = Float(
        load_default=None, allow_none=True, allow_nan=False, validate=ma.validate.Range(min=-180, max=180)
    )

    @ma.validates_schema
    def _pair(self, data, **kwargs):
        if (data.get("lat") is None) != (data.get("lon") is None):
            missing = "lon" if data.get("lon") is None else "lat"
            raise ma.ValidationError("Give lat and lon together.", missing)

    @ma.post_load
    def _upper_country(self, data, **kwargs):
        data["country"] = data["country"].upper()
        return data


class LocationSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    label = ma.fields.String(dump_only=True)
    address = ma.fields.String(dump_only=True)
    city = ma.fields.String(dump_only=True)
    region = ma.fields.String(dump_only=True)
    postal_code = ma.fields.String(dump_only=True)
    country = ma.fields.String(dump_only=True)
    lat = ma.fields.Float(dump_only=True)
    lon = ma.fields.Float(dump_only=True)
    geocoded_from = ma.fields.String(dump_only=True)


class PublicLocationSchema(LocationSchema):
    """The public sees the place, not the street address a mobile practitioner may work from."""

    class Meta:
        exclude = ("address",)


class OwnerProfileSchema(ma.Schema):
    """What the practitioner sees of their own profile: slugs, so a GET can be PUT back as it is."""

    id = ma.fields.Integer(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    legal_name = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Set it with PUT /api/v1/me/legal-name (a profile PUT leaves it alone)"},
    )
    headline = ma.fields.String(dump_only=True)
    approach = ma.fields.String(dump_only=True)
    techniques = ma.fields.List(ma.fields.String(), dump_only=True)
    conditions = ma.fields.List(ma.fields.String(), dump_only=True)
    client_groups = ma.fields.List(ma.fields.String(), dump_only=True)
    practicing_since = ma.fields.Integer(dump_only=True, allow_none=True)
    languages = ma.fields.List(ma.fields.String(), dump_only=True)
    accepting_clients = ma.fields.Boolean(dump_only=True)
    accepting_confirmed_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    accepting_lapses_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    mobile = ma.fields.Boolean(dump_only=True)
    price_min = ma.fields.Integer(dump_only=True, allow_none=True)
    price_max = ma.fields.Integer(dump_only=True, allow_none=True)
    phone = ma.fields.String(dump_only=True)
    website = ma.fields.String(dump_only=True)
    locations = ma.fields.List(ma.fields.Nested(LocationSchema), dump_only=True)


class PublicTechniqueSchema(ma.Schema):
    slug = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    verified = ma.fields.Boolean(dump_only=True)


class PublicTermSchema(ma.Schema):
    slug = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)


class PublicIssuerSchema(ma.Schema):
    slug = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)


class PublicCredentialSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    issuer = ma.fields.Nested(PublicIssuerSchema, dump_only=True)
    kind = ma.fields.String(dump_only=True)
    title = ma.fields.String(dump_only=True)
    number = ma.fields.String(dump_only=True)
    number_key = ma.fields.String(dump_only=True, allow_none=True)
    techniques = ma.fields.List(ma.fields.String(), dump_only=True)
    confirmed_techniques = ma.fields.List(
        ma.fields.String(),
        dump_only=True,
        metadata={"description": "Those an admin confirmed on the certificate (the others are a claim)"},
    )
    status = ma.fields.String(dump_only=True)
    label = ma.fields.String(dump_only=True, metadata={"description": "The status in words"})
    recheck_due = ma.fields.Boolean(
        dump_only=True, metadata={"description": "Verified, and due for its re-check (the badge still shows)"}
    )
    method = ma.fields.String(dump_only=True, allow_none=True)
    verified_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    next_check_due = ma.fields.Date(dump_only=True, allow_none=True)
    issued_on = ma.fields.Date(
        dump_only=True,
        allow_none=True,
        metadata={"description": "As the source showed it; null if it did not"},
    )
    expires_on = ma.fields.Date(dump_only=True, allow_none=True)
    expires_on_verified = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "Whether the source showed this expiry (else the claimant said it)"},
    )


class RatingSchema(ma.Schema):
    average = ma.fields.Float(dump_only=True, allow_none=True)
    count = ma.fields.Integer(dump_only=True)
    verified_clients = ma.fields.Integer(
        dump_only=True, metadata={"description": "How many of the visible reviews are from verified clients"}
    )
    histogram = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), dump_only=True)


class PublicPractitionerSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    headline = ma.fields.String(dump_only=True)
    approach = ma.fields.String(dump_only=True)
    techniques = ma.fields.List(ma.fields.Nested(PublicTechniqueSchema), dump_only=True)
    conditions = ma.fields.List(ma.fields.Nested(PublicTermSchema), dump_only=True)
    client_groups = ma.fields.List(ma.fields.Nested(PublicTermSchema), dump_only=True)
    languages = ma.fields.List(ma.fields.String(), dump_only=True)
    years_experience = ma.fields.Integer(dump_only=True, allow_none=True)
    verified_years_experience = ma.fields.Integer(dump_only=True, allow_none=True)
    accepting_clients = ma.fields.Boolean(dump_only=True)
    accepting_confirmed_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    mobile = ma.fields.Boolean(dump_only=True)
    price_min = ma.fields.Integer(dump_only=True, allow_none=True)
    price_max = ma.fields.Integer(dump_only=True, allow_none=True)
    phone = ma.fields.String(dump_only=True)
    website = ma.fields.String(dump_only=True)
    locations = ma.fields.List(ma.fields.Nested(PublicLocationSchema), dump_only=True)
    credentials = ma.fields.List(ma.fields.Nested(PublicCredentialSchema), dump_only=True)
    rating = ma.fields.Nested(RatingSchema, dump_only=True)
    verified = ma.fields.Boolean(dump_only=True)
