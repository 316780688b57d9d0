"""Signed records of a credential's verified state, and the public keys to check them (being built)."""

from flask import Blueprint as FlaskBlueprint
from flask_smorest import Blueprint

blp = Blueprint("attestation_api", __name__, url_prefix="/api/v1", description="Signed credential records")
wellknown = FlaskBlueprint("wellknown", __name__)
