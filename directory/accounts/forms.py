from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField
from wtforms.validators import DataRequired, Email, Length

from directory.accounts.service import MIN_PASSWORD


class RegisterForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        f"Password (at least {MIN_PASSWORD} characters)",
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=1000)],
    )
    role = RadioField(
        "I am",
        choices=[("client", "looking for a practitioner"), ("practitioner", "a practitioner")],
        default="client",
        validators=[DataRequired()],
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])

