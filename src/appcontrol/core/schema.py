"""OpenAPI helpers: operation ids in the apps/v3 style, and a hook documenting ids and errors."""

from drf_spectacular.utils import extend_schema

from .fields import ID_INPUT_SCHEMA

_VERBS = {
    "list": "List{plural}",
    "retrieve": "Get{noun}",
    "create": "Create{noun}",
    "update": "Update{noun}",
    "partial_update": "PartialUpdate{noun}",
    "destroy": "Delete{noun}",
}


def operation_ids(noun: str, plural: str, actions) -> dict:
    """`extend_schema_view(**operation_ids("Region", "Regions", ["list"]))` names ListRegions."""
    return {action: extend_schema(operation_id=_VERBS[action].format(noun=noun, plural=plural)) for action in actions}


_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION_ERROR = {
    "type": "object",
    "description": ("Field name (or `non_field_errors`) to a list of messages; malformed requests carry `detail`."),
    "additionalProperties": {},
}
_ERROR_RESPONSES = {
    "400": ("Invalid input: a body field or query filter was rejected.", "ValidationError"),
    "401": ("No token, or an unknown, expired or revoked one.", "Error"),
    "403": ("The token is read-only, or your role does not allow this.", "Error"),
    "404": ("No such object, or not visible to you; or no such page.", "Error"),
    "413": ("The body is larger than the server accepts (2.5 MB for API requests).", "Error"),
    "415": ("The body is not JSON, form or multipart data, or cannot be read as such.", "Error"),
}


def _add_error(operation: dict, status: str) -> None:
    description, component = _ERROR_RESPONSES[status]
    operation["responses"].setdefault(
        status,
        {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
        },
    )


def document_ids_and_errors(result, generator, request, public):
    """Postprocessing hook: ids in paths accept both spellings; the error answers are documented."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = _ERROR
    schemas["ValidationError"] = _VALIDATION_ERROR
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                if parameter["in"] == "path" and parameter["name"] == "uuid":
                    parameter["schema"] = dict(ID_INPUT_SCHEMA)
            if not any(operation.get("security", [])):
                continue  # public: the API root needs no token
            _add_error(operation, "401")
            if method != "get":
                _add_error(operation, "403")
            if method in {"post", "put", "patch"}:
                _add_error(operation, "413")
                _add_error(operation, "415")
            if method in {"post", "put", "patch"} or any(p["in"] == "query" for p in parameters):
                _add_error(operation, "400")
            if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
                _add_error(operation, "404")
    return result
