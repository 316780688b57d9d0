from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, SelectChoice

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
