from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, StringField

from directory.accounts.passwords import MIN_LENGTH as MIN_PASSWORD


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

    def payload(self) -> dict:
        return {"password": self.password.data or ""}


CODE_LABEL = "Code from your authenticator (or a recovery code)"


class TotpForm(FlaskForm):
    totp = StringField(CODE_LABEL, render_kw={"autocomplete": "one-time-code"})

    def payload(self) -> dict:
        return {"totp": self.totp.data or ""}


class ConfirmForm(FlaskForm):
    password = PasswordField("Password")
    totp = StringField(CODE_LABEL, render_kw={"autocomplete": "one-time-code"})

    def payload(self) -> dict:
        return {"password": self.password.data or "", "totp": self.totp.data or ""}


class EmptyForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
