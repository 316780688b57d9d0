"""Audience views of a practitioner (owner, public) as plain data for the schemas and templates.

Credential badges and ratings always come from the database here, never from the search index.
"""

from directory.practitioners import service
from directory.practitioners.models import Practitioner


def empty_rating() -> dict:
    return {"average": None, "count": 0, "verified_clients": 0, "histogram": {str(n): 0 for n in range(1, 6)}}


def _rating(practitioner_id: int) -> dict:
    from directory.reviews.service import ratings

    summary = ratings([practitioner_id])[practitioner_id]
    return {k: summary[k] for k in ("average", "count", "verified_clients", "histogram")}


def owner_view(practitioner: Practitioner) -> dict:
    return {
        "id": practitioner.id,
        "display_name": practitioner.display_name,
        "legal_name": practitioner.legal_name,
        "headline": practitioner.headline,
        "approach": practitioner.approach,
        "techniques": [t.slug for t in practitioner.techniques],
        "conditions": [c.slug for c in practitioner.conditions],
        "client_groups": [g.slug for g in practitioner.client_groups],
        "practicing_since": practitioner.practicing_since,
        "languages": list(practitioner.languages or []),
        "accepting_clients": service.is_accepting(practitioner),
        "accepting_confirmed_at": practitioner.accepting_confirmed_at,
        "accepting_lapses_at": service.accepting_lapses_at(practitioner),
        "mobile": practitioner.mobile,
        "price_min": practitioner.price_min,
        "price_max": practitioner.price_max,
        "phone": practitioner.phone,
        "website": practitioner.website,
        "locations": list(practitioner.locations),
    }


def public_view(practitioner: Practitioner) -> dict:
    from directory.credentials import present as credentials

    badges = credentials.summary(credentials.of_practitioners([practitioner.id])[practitioner.id])
    verified_techniques = badges["verified_techniques"]
    terms = service.listed_terms(practitioner.id)
    return {
        "id": practitioner.id,
        "display_name": practitioner.display_name,
        "headline": practitioner.headline,
        "approach": practitioner.approach,
        "techniques": [
            {"slug": slug, "name": name, "verified": slug in verified_techniques}
            for slug, name in terms["techniques"]
        ],
        "conditions": [{"slug": slug, "name": name} for slug, name in terms["conditions"]],
        "client_groups": [{"slug": slug, "name": name} for slug, name in terms["client_groups"]],
        "languages": list(practitioner.languages or []),
        "years_experience": service.years_experience(practitioner),
        "verified_years_experience": badges["verified_years_experience"],
        "accepting_clients": service.is_accepting(practitioner),
        "accepting_confirmed_at": practitioner.accepting_confirmed_at,
        "mobile": practitioner.mobile,
        "price_min": practitioner.price_min,
        "price_max": practitioner.price_max,
        "phone": practitioner.phone,
        "website": practitioner.website,
        "locations": list(practitioner.locations),
        "credentials": badges["credentials"],
        "rating": _rating(practitioner.id),
        "verified": badges["verified"],
    }
