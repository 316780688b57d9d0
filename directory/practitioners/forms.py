"""Page forms. WTForms renders fields and checks CSRF; the rules stay in the API's schemas."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Optional

from directory.web.forms import FloatField, IntegerField


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(self, *args, **kwargs):
        # ProfileInSchema judges the slugs, with the same message as the API.
        super().__init__(*args, validate_choice=False, **kwargs)


class ProfileForm(FlaskForm):
    display_name = StringField("Name shown to clients")
    headline = StringField("Headline")
    approach = TextAreaField("Your approach")
    techniques = CheckboxList("Techniques")
    conditions = CheckboxList("Conditions you work with")
    client_groups = CheckboxList("Client groups")
    practicing_since = IntegerField("Practising since (year)", validators=[Optional()])
    languages = StringField("Languages (ISO codes, comma separated, e.g. en, es)")
    accepting_clients = BooleanField("I am accepting new clients")
    mobile = BooleanField("I visit clients (mobile)")
    price_min = IntegerField("Lowest price per session (USD)", validators=[Optional()])
    price_max = IntegerField("Highest price per session (USD)", validators=[Optional()])
    phone = StringField("Phone")
    website = StringField("Website")

    def set_vocabulary(self, vocabulary: dict) -> None:
        for name in ("techniques", "conditions", "client_groups"):
            getattr(self, name).choices = [SelectChoice(t.slug, t.name) for t in vocabulary[name]]

    def payload(self) -> dict:
        """The same shape the API takes, so ProfileInSchema judges both."""
        data = {name: getattr(self, name).data for name in PROFILE_FIELDS}
        data["languages"] = [x.strip().lower() for x in (self.languages.data or "").split(",") if x.strip()]
        for name in ("display_name", "headline", "approach", "phone", "website"):
            data[name] = data[name] or ""
        return data


PROFILE_FIELDS = (
    "display_name",
    "headline",
    "approach",
    "techniques",
    "conditions",
    "client_groups",
    "practicing_since",
    "languages",
    "accepting_clients",
    "mobile",
    "price_min",
    "price_max",
    "phone",
    "website",
)


class LocationForm(FlaskForm):
    label = StringField("Label (e.g. Main studio)")
    address = StringField("Street address")
    city = StringField("City")
    region = StringField("State")
    postal_code = StringField("ZIP code")
    country = StringField("Country code", default="US")
    lat = FloatField("Latitude", validators=[Optional()])
    lon = FloatField("Longitude", validators=[Optional()])

    def payload(self) -> dict:
        data = {
            name: getattr(self, name).data
            for name in ("label", "address", "city", "region", "postal_code", "country", "lat", "lon")
        }
        for name in ("label", "address", "city", "region", "postal_code"):
            data[name] = data[name] or ""
        data["country"] = data["country"] or "US"
        return data
