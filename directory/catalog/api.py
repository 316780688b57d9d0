from directory.apibase import Blueprint
from directory.catalog import service
from directory.catalog.schemas import IssuerSchema, VocabularySchema

blp = Blueprint("catalog_api", __name__, url_prefix="/api/v1", description="Vocabulary and issuers")


@blp.route("/vocabulary")
@blp.response(200, VocabularySchema)
def vocabulary():
    """Techniques, conditions and client groups that profiles may name."""
    return service.vocabulary()


@blp.route("/issuers")
@blp.response(200, IssuerSchema(many=True))
def issuers():
    """Licensing boards, certification boards and training programs."""
    return service.issuers()
