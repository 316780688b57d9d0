"""Page forms for credentials. WTForms renders fields and checks CSRF; the API's schemas
(CredentialInSchema, DecisionSchema, LookupArgsSchema) and the service judge the values."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.widgets import DateInput

from directory.credentials.models import KINDS
from directory.practitioners.forms import CheckboxList

EVIDENCE_ACCEPT = ".pdf,.png,.jpg,.jpeg"
EVIDENCE_HINT = "A PDF, PNG or JPEG of the licence or certificate, at most 5 MB."
KIND_LABELS = {"license": "Licence", "certification": "Certification"}


def _issuer_choices(issuers) -> list[SelectChoice]:
    return [SelectChoice("", "Choose the issuer…")] + [SelectChoice(i.slug, i.name) for i in issuers]


def _given(value) -> str | None:
    """A blank field is a missing value, so the schema says so as it does to API clients."""
    value = (value or "").strip()
    return value or None


class CredentialForm(FlaskForm):
    issuer = SelectField("Issuer", validate_choice=False)
    kind = RadioField(
        "Kind",
        choices=[SelectChoice(k, KIND_LABELS[k]) for k in KINDS],
        default="license",
        validate_choice=False,
    )
    title = StringField("Title (as printed, e.g. Licensed Massage Therapist)")
    number = StringField("Licence or certificate number")
    issued_on = StringField("Issued on", widget=DateInput())
    expires_on = StringField("Expires on (leave empty if it does not expire)", widget=DateInput())
    techniques = CheckboxList("Techniques this certificate covers (training programs only)")
    evidence = FileField("Evidence file", render_kw={"accept": EVIDENCE_ACCEPT})

    def set_catalog(self, issuers, techniques) -> None:
        self.issuer.choices = _issuer_choices(issuers)
        self.techniques.choices = [SelectChoice(t.slug, t.name) for t in techniques]

    def payload(self) -> dict:
        """The fields CredentialInSchema takes, in the API's shape; blanks left out."""
        values = {
            "issuer": _given(self.issuer.data),
            "kind": _given(self.kind.data),
            "title": _given(self.title.data),
            "number": _given(self.number.data),
            "issued_on": _given(self.issued_on.data),
            "expires_on": _given(self.expires_on.data),
        }
        data: dict[str, object] = {name: value for name, value in values.items() if value is not None}
        data["techniques"] = list(self.techniques.data or [])
        return data


class ResubmitForm(FlaskForm):
    evidence = FileField("New evidence file", render_kw={"accept": EVIDENCE_ACCEPT})


class DecisionForm(FlaskForm):
    # The buttons carry the action; `seen_version` is the version the admin was looking at, so a
    # decision made on a page that has since changed is refused instead of winning silently.
    action = StringField()  # never rendered as a field: the buttons carry it
    reason = TextAreaField("Reason (required to reject or revoke; the practitioner sees it)")
    # What the document shows, typed by the admin from the document (empty: it shows none).
    issued_on = StringField("Issue date the document shows", widget=DateInput())
    expires_on = StringField("Expiry the document shows", widget=DateInput())
    techniques = CheckboxList("Techniques the certificate confirms (tick each one you checked)")
    seen_version = HiddenField()

    def set_claim(self, credential) -> None:
        self.techniques.choices = [SelectChoice(t.slug, t.name) for t in credential.techniques]

    def payload(self, training_program: bool) -> dict:
        data = {"action": self.action.data or "", "reason": self.reason.data or ""}
        if data["action"] == "verify":
            data.update(issued_on=_given(self.issued_on.data), expires_on=_given(self.expires_on.data))
            if training_program:
                data["techniques"] = list(self.techniques.data or [])
        return data

    def seen(self) -> int | None:
        try:
            return int(self.seen_version.data)
        except (TypeError, ValueError):
            return None


class LegalNameForm(FlaskForm):
    legal_name = StringField("Legal name (as on your licences)")

    def payload(self) -> dict:
        return {"legal_name": self.legal_name.data or ""}


class LookupForm(FlaskForm):
    """A read-only GET form: nothing changes, so no CSRF token (it would only leak into URLs)."""

    class Meta:
        csrf = False

    issuer = SelectField("Issuer", validate_choice=False)
    number = StringField("Licence or certificate number")

    def set_catalog(self, issuers) -> None:
        self.issuer.choices = _issuer_choices(issuers)

    def given(self) -> bool:
        return bool(self.issuer.raw_data or self.number.raw_data)

    def payload(self) -> dict:
        values = {"issuer": _given(self.issuer.data), "number": _given(self.number.data)}
        return {name: value for name, value in values.items() if value is not None}
