"""Page forms for reviews. WTForms renders fields and checks CSRF; the API's schemas
(ReviewInSchema, ResponseInSchema, FlagInSchema, ModerationInSchema) and the service judge the values."""

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectChoice, StringField, TextAreaField

RATING_LABELS = {5: "5 – excellent", 4: "4 – good", 3: "3 – fair", 2: "2 – poor", 1: "1 – bad"}


def _given(value) -> str | None:
    value = (value or "").strip()
    return value or None


class ReviewForm(FlaskForm):
    rating = RadioField(
        "Your rating",
        choices=[SelectChoice(str(n), label) for n, label in RATING_LABELS.items()],
        validate_choice=False,
    )
    body = TextAreaField("Your review (20 to 5000 characters)")
    invite_code = StringField("Invite code from your practitioner (optional)")
    author_name = StringField(
        "Name shown with your review (optional: first name and initial, or a pseudonym)"
    )

    def payload(self) -> dict:
        """The fields ReviewInSchema takes, in the API's shape; blanks left out."""
        data: dict = {}
        rating = _given(self.rating.data)
        if rating is not None:
            # ASCII digits only: str.isdigit() takes "５" too, which int() would read as 5.
            data["rating"] = int(rating) if rating.isascii() and rating.isdigit() else rating
        if self.body.data is not None:
            data["body"] = self.body.data
        code = _given(self.invite_code.data)
        if code is not None:
            data["invite_code"] = code
        name = _given(self.author_name.data)
        if name is not None:
            data["author_name"] = name
        return data


class FlagForm(FlaskForm):
    reason = StringField("Why should the moderators look at this review?")

    def payload(self) -> dict:
        return {"reason": self.reason.data or ""}


class ResponseForm(FlaskForm):
    body = TextAreaField("Your public answer (up to 2000 characters)")

    def payload(self) -> dict:
        return {"body": self.body.data or ""}


class InviteForm(FlaskForm):
    email = EmailField("Your client's email address")

    def payload(self) -> dict:
        return {"email": self.email.data or ""}


class ModerationForm(FlaskForm):
    action = StringField()  # never rendered as a field: the buttons carry it
    reason = StringField("Reason (kept on record)")

    def payload(self) -> dict:
        return {"action": self.action.data or "", "reason": self.reason.data or ""}
