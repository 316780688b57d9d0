"""Credential pages: practitioners' own, the admin queue and decisions, the public lookup (being built)."""

from flask import Blueprint

bp = Blueprint("credentials", __name__)
