from flask.views import MethodView
from flask_smorest import Blueprint

from directory.accounts import service
from directory.accounts.auth import api_login_required, current_api_user
from directory.accounts.limits import register_limit, sign_in_limit
from directory.accounts.schemas import MeSchema, RegisterSchema, TokenRequestSchema, TokenSchema, UserSchema

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Accounts and API tokens")


@blp.route("/auth/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, description="The email is taken")
    @blp.alt_response(429, description="Too many registrations from this address")
    @register_limit
    def post(self, data):
        """Create a client or practitioner account."""
        return service.register(data["email"], data["password"], data["role"])


@blp.route("/auth/tokens")
class Tokens(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="Wrong email or password")
    @blp.alt_response(
        429, description="Too many failed sign-ins for this account, or tries from this address"
    )
    @sign_in_limit
    def post(self, data):
        """Exchange email and password for a bearer token."""
        user = service.authenticate(data["email"], data["password"])
        token, row = service.issue_api_token(user)
        return {"token": token, "expires_at": row.expires_at}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @blp.alt_response(401, description="No valid token")
    @blp.doc(security=[{"bearerAuth": []}])
    @api_login_required()
    def get(self):
        """Who the token belongs to."""
        user = current_api_user()
        practitioner = user.practitioner
        return {
            "id": user.id,
            "email": user.email,
            "role": user.role,
            "practitioner_id": practitioner.id if practitioner else None,
        }
