"""Per-address limits on the doors anyone can knock on; the page and the API share each count.
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
