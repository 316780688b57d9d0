"""What the OpenAPI document says beyond each view's own decorators, in one place.

Every API error has one shape (errors.py), and most statuses follow from how an operation is made:
a bearer token means 401 and 403, an id in the path means 404, a body means 400, 413 and 422. An
apispec plugin adds those to each operation as it is registered, gives every error response the
Error body, and adds the OpenAPI links that chain one call's answer into the next (register →
token → profile → place, credential, review…), which clients and contract tests can follow.

It also mends multipart bodies: flask-smorest documents only the first of an operation's body
arguments (`form` fields beside `files`) and leaves the others as OpenAPI 2 `formData`
parameters, which OpenAPI 3 does not have; the plugin makes them one multipart/form-data schema.
"""

from apispec import BasePlugin

PREFIX = "/api/v1"
ERROR = "#/components/schemas/Error"

UNAUTHORIZED = ("401", "No valid bearer token (send `Authorization: Bearer <token>`)")
FORBIDDEN = ("403", "Signed in, but this account may not do this (another role's operation)")
NOT_FOUND = ("404", "No such object, or not one this account may see")
MALFORMED = ("400", "The body is not valid JSON or not a well-formed form")
TOO_LARGE = ("413", "The request body is larger than the service accepts")
INVALID = ("422", "Some values are not valid: `errors` names each field at fault")


def _ref(method: str, path: str) -> str:
    return f"#/paths/{(PREFIX + path).replace('/', '~1')}/{method}"


def _link(method: str, path: str, description: str, parameters=None, body=None) -> dict:
    link = {"operationRef": _ref(method, path), "description": description}
    if parameters:
        link["parameters"] = parameters
    if body:
        link["requestBody"] = body
    return link


BEARER = {"header.Authorization": "Bearer {$response.body#/token}"}
# (method, path without the prefix) → {status: {link name: link}}
LINKS = {
    ("post", "/auth/register"): {
        "202": {
            "SignIn": _link(
                "post",
                "/auth/tokens",
                "Sign in as the account just made",
                body={"email": "$request.body#/email", "password": "$request.body#/password"},  # nosec B105: a link expression
            )
        }
    },
    ("post", "/auth/tokens"): {
        "201": {
            "Me": _link("get", "/me", "Who the token belongs to", BEARER),
            "SaveProfile": _link("put", "/me/profile", "Save a profile with the token", BEARER),
            "AddPlace": _link("post", "/me/locations", "Add a place with the token", BEARER),
            "SubmitCredential": _link("post", "/me/credentials", "Submit a credential", BEARER),
            "MyCredentials": _link("get", "/me/credentials", "List your credentials", BEARER),
        }
    },
    ("get", "/me"): {
        "200": {
            "PublicProfile": _link(
                "get",
                "/practitioners/{practitioner_id}",
                "Your public profile (when you have one)",
                {"path.practitioner_id": "$response.body#/practitioner_id"},
            )
        }
    },
    ("put", "/me/profile"): {
        "200": {
            "PublicProfile": _link(
                "get",
                "/practitioners/{practitioner_id}",
                "The profile as the public sees it",
                {"path.practitioner_id": "$response.body#/id"},
            ),
            "Reviews": _link(
                "get",
                "/practitioners/{practitioner_id}/reviews",
                "Its reviews",
                {"path.practitioner_id": "$response.body#/id"},
            ),
            "WriteReview": _link(
                "post",
                "/practitioners/{practitioner_id}/reviews",
                "Review this practitioner",
                {"path.practitioner_id": "$response.body#/id"},
            ),
        }
    },
    ("post", "/me/locations"): {
        "201": {
            "RemovePlace": _link(
                "delete",
                "/me/locations/{location_id}",
                "Remove the place just added",
                {"path.location_id": "$response.body#/id"},
            )
        }
    },
    ("post", "/me/credentials"): {
        "201": {
            name: _link(method, path, description, {"path.credential_id": "$response.body#/id"})
            for name, method, path, description in (
                ("Evidence", "get", "/me/credentials/{credential_id}/evidence/file", "Its evidence"),
                ("Resubmit", "post", "/me/credentials/{credential_id}/evidence", "New evidence"),
                ("Review", "get", "/admin/credentials/{credential_id}", "The admin's view of it"),
                ("Decide", "post", "/admin/credentials/{credential_id}/decision", "Decide on it"),
                ("Attestation", "get", "/credentials/{credential_id}/attestation", "Its signed record"),
            )
        }
    },
    ("post", "/admin/credentials/{credential_id}/decision"): {
        "200": {
            "Attestation": _link(
                "get",
                "/credentials/{credential_id}/attestation",
                "The signed record of a verified credential",
                {"path.credential_id": "$response.body#/id"},
            ),
            "Audit": _link(
                "get",
                "/admin/audit",
                "The credential's audit trail",
                {"query.credential_id": "$response.body#/id"},
            ),
        }
    },
    ("post", "/practitioners/{practitioner_id}/reviews"): {
        "201": {
            name: _link(method, path, description, {"path.review_id": "$response.body#/id"})
            for name, method, path, description in (
                ("Edit", "put", "/reviews/{review_id}", "Edit the review"),
                ("Flag", "post", "/reviews/{review_id}/flags", "Flag it"),
                ("Answer", "post", "/reviews/{review_id}/response", "Answer it (its practitioner)"),
                ("Moderate", "post", "/admin/reviews/{review_id}/moderation", "Hide or restore it"),
            )
        }
    },
}


def generic_responses(operation: dict, path: str) -> list[tuple[str, str]]:
    """The statuses an operation can answer because of how it is made, not what it does."""
    found = []
    if operation.get("security"):
        found += [UNAUTHORIZED, FORBIDDEN]
    if "{" in path:
        found.append(NOT_FOUND)
    if "requestBody" in operation:
        found += [MALFORMED, TOO_LARGE, INVALID]
    elif any(p.get("in") == "query" for p in operation.get("parameters", [])):
        found.append(INVALID)
    return found


class ContractPlugin(BasePlugin):
    """Runs after the marshmallow plugin, on each path flask-smorest registers."""

    def init_spec(self, spec):
        self.spec = spec

    def _properties(self, schema: dict) -> tuple[dict, list]:
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        schema = self.spec.components.schemas.get(name, schema) if name else schema
        return dict(schema.get("properties", {})), list(schema.get("required", []))

    def merge_form_body(self, operation: dict) -> None:
        """The requestBody and the `formData` parameters as one multipart/form-data object: file
        parts and text fields together, and nothing else (the API refuses unknown fields)."""
        fields = [p for p in operation.get("parameters", []) if p.get("in") == "formData"]
        if not fields:
            return
        properties, required = {}, []
        for content in operation.get("requestBody", {}).get("content", {}).values():
            more, needed = self._properties(content.get("schema", {}))
            properties.update(more)
            required += needed
        for field in fields:
            described = {"description": field["description"]} if "description" in field else {}
            # A form part is sent or left out; it cannot be null.
            declared = {
                k: v for k, v in field["schema"].items() if k != "nullable" and (k, v) != ("default", None)
            }
            properties[field["name"]] = {**declared, **described}
            if field.get("required"):
                required.append(field["name"])
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = list(dict.fromkeys(required))
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
        operation["parameters"] = [p for p in operation["parameters"] if p not in fields]

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            self.merge_form_body(operation)
            if operation.get("parameters") == []:
                del operation["parameters"]
            # Decorators give statuses as ints or strings; one key per status.
            responses = {str(status): doc for status, doc in operation.get("responses", {}).items()}
            operation["responses"] = responses
            for status, description in generic_responses(operation, path):
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                # A response given by reference (flask-smorest's 422) already names the Error body.
                if status.startswith(("4", "5")) and isinstance(response, dict):
                    response.setdefault("content", {"application/json": {"schema": {"$ref": ERROR}}})
            local = path.removeprefix(PREFIX)
            for status, links in LINKS.get((method, local), {}).items():
                responses[status].setdefault("links", {}).update(links)
