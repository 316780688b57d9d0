"""Per-address limits on the doors anyone can knock on; the page and the API share each count.
The per-account counts of wrong passwords and codes are in the database (accounts/throttle.py).
The numbers live in config."""

from flask import current_app

from directory.extensions import limiter

register_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_REGISTER"], scope="register", methods=["POST"]
)
sign_in_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_SIGN_IN"], scope="sign-in", methods=["POST"]
)
password_reset_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_PASSWORD_RESET"], scope="password-reset", methods=["POST"]
)
# Every page and call that checks an authenticator or recovery code (the per-account count of wrong
# codes is accounts/throttle.py's).
code_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_CODES"], scope="codes", methods=["POST"]
)
confirm_email_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_CONFIRM_EMAIL"], scope="confirm-email", methods=["GET", "POST"]
)
