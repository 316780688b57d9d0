from flask.views import MethodView

from directory.accounts.auth import api_login_required, api_user
from directory.apibase import SECURED, Blueprint
from directory.practitioners import present, service
from directory.practitioners.schemas import (
    LocationInSchema,
    LocationSchema,
    OwnerProfileSchema,
    ProfileInSchema,
    PublicPractitionerSchema,
)

blp = Blueprint("practitioners_api", __name__, url_prefix="/api/v1", description="Practitioner profiles")
NO_PROFILE = "No profile saved yet (PUT /api/v1/me/profile first)"


@blp.route("/me/profile")
class MyProfile(MethodView):
    decorators = [api_login_required("practitioner")]

    @blp.response(200, OwnerProfileSchema)
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.doc(**SECURED)
    def get(self):
        """Your own profile."""
        return present.owner_view(service.require_profile(api_user()))

    @blp.arguments(ProfileInSchema)
    @blp.response(200, OwnerProfileSchema)
    @blp.doc(**SECURED)
    def put(self, data):
        """Create or replace your profile. Saving also confirms that you accept clients."""
        return present.owner_view(service.save_profile(api_user(), data))


@blp.route("/me/profile/confirm-accepting")
class ConfirmAccepting(MethodView):
    decorators = [api_login_required("practitioner")]

    @blp.response(200, OwnerProfileSchema)
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.doc(**SECURED)
    def post(self):
        """Confirm again that you accept new clients (it lapses after 30 days)."""
        return present.owner_view(service.confirm_accepting(api_user()))


@blp.route("/me/locations")
class MyLocations(MethodView):
    decorators = [api_login_required("practitioner")]

    @blp.response(200, LocationSchema(many=True))
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.doc(**SECURED)
    def get(self):
        """Your places."""
        return service.require_profile(api_user()).locations

    @blp.arguments(LocationInSchema)
    @blp.response(201, LocationSchema)
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.alt_response(409, description=f"The profile lists {service.MAX_LOCATIONS} places already")
    @blp.alt_response(422, description="Nothing locatable")
    @blp.doc(**SECURED)
    def post(self, data):
        """Add a place: lat and lon, or an address, city or postal code that geocodes."""
        return service.add_location(api_user(), data)


@blp.route("/me/locations/<id:location_id>")
class MyLocation(MethodView):
    decorators = [api_login_required("practitioner")]

    @blp.response(204)
    @blp.alt_response(404, description="Not one of your places")
    @blp.doc(**SECURED)
    def delete(self, location_id):
        """Remove one of your places."""
        service.delete_location(api_user(), location_id)


@blp.route("/practitioners/<id:practitioner_id>")
@blp.response(200, PublicPractitionerSchema)
@blp.alt_response(404, description="No such practitioner")
def public_profile(practitioner_id):
    """A practitioner's public profile."""
    return present.public_view(service.get_public(practitioner_id))
