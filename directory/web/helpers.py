"""Template filters shared by the pages."""

from urllib.parse import urlencode

from flask import Flask, url_for


def urlencode_multi(args: dict) -> str:
    """A query string from {name: [values]}, dropping empty values (keeps repeatable parameters)."""
    pairs = [(k, v) for k, values in args.items() for v in (values if isinstance(values, list) else [values])]
    return urlencode([(k, v) for k, v in pairs if v not in ("", None)])


def map_marker(result: dict) -> dict:
    return {
        "lat": result["lat"],
        "lon": result["lon"],
        "name": result["display_name"],
        "url": url_for("practitioners.profile", practitioner_id=result["id"]),
    }


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(urlencode_multi)
    app.add_template_filter(map_marker)
