"""Template filters and globals shared by the pages."""

from urllib.parse import urlencode

from flask import Flask, url_for

from directory import timeutil


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
    # The one set of date formats (timeutil), for every template: `day(x)` or `x|day`.
    for format_ in (timeutil.day, timeutil.long_day, timeutil.stamp):
        app.add_template_global(format_)
        app.add_template_filter(format_)
