from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, StringField

from directory.accounts.service import MIN_PASSWORD


class RegisterForm(FlaskForm):
    email = EmailField("Email")
    password = PasswordField(f"Password (at least {MIN_PASSWORD} characters)")
    role = RadioField(
        "I am",
        choices=[
            SelectChoice("client", "looking for a practitioner"),
            SelectChoice("practitioner", "a practitioner"),
        ],
        default="client",
        validate_choice=False,  # RegisterSchema judges the role, for the page and the API alike
    )

    def payload(self) -> dict:
        return {"email": self.email.data or "", "password": self.password.data or "", "role": self.role.data}


class LoginForm(FlaskForm):
    email = EmailField("Email")
    password = PasswordField("Password")

    def payload(self) -> dict:
        return {"email": self.email.data or "", "password": self.password.data or ""}


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField(f"New password (at least {MIN_PASSWORD} characters)")

    def payload(self) -> dict:
        return {
            "current_password": self.current_password.data or "",
            "new_password": self.new_password.data or "",
        }


class ResetRequestForm(FlaskForm):
    email = EmailField("Email")

    def payload(self) -> dict:
        return {"email": self.email.data or ""}


class ResetNewForm(FlaskForm):
    password = PasswordField(f"New password (at least {MIN_PASSWORD} characters)")

    def __init__(self, *args, token: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.reset_token = token  # from the session, never from the form

    def payload(self) -> dict:
        return {"token": self.reset_token, "password": self.password.data or ""}


class TotpForm(FlaskForm):
    totp = StringField(
        "Code from your authenticator", render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"}
    )

    def payload(self) -> dict:
        return {"totp": self.totp.data or ""}


class ConfirmForm(FlaskForm):
    password = PasswordField("Password")
    totp = StringField(
        "Code from your authenticator", render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"}
    )

    def payload(self) -> dict:
        return {"password": self.password.data or "", "totp": self.totp.data or ""}


class EmptyForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
