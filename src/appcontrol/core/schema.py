"""OpenAPI helpers: operation ids in the apps/v3 style, and a hook documenting ids, errors and the HTTP
conventions every operation shares (rate limits, ETags, Idempotency-Key, If-Match)."""

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


_ERROR_RESPONSES |= {
    "409": ("The object's state blocks this, or a request with this Idempotency-Key is still running.", "Error"),
    "412": ("The object has changed since it was read: `If-Match` does not name its current `ETag`.", "Error"),
    "422": ("This Idempotency-Key was used with a different request.", "Error"),
    "429": ("Too many requests: see `Retry-After` and the `RateLimit-*` headers.", "Error"),
}

_INTEGER_HEADER = {"schema": {"type": "integer", "minimum": 0}}
_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {"description": "Requests allowed a minute to this caller.", **_INTEGER_HEADER},
    "RateLimit-Remaining": {"description": "Requests left in the current minute.", **_INTEGER_HEADER},
    "RateLimit-Reset": {"description": "Seconds until the current minute's count starts over.", **_INTEGER_HEADER},
}
_ETAG_HEADER = {
    "ETag": {
        "description": "The representation's tag, for `If-None-Match` and `If-Match`.",
        "schema": {"type": "string"},
    }
}
_RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds to wait before retrying.", **_INTEGER_HEADER}}

_HEADER_PARAMETERS = {
    "get": {
        "in": "header",
        "name": "If-None-Match",
        "required": False,
        "schema": {"type": "string"},
        "description": "The `ETag` of an earlier answer: 304 with no body while it is still current.",
    },
    "post": {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
        "description": (
            "Any unique string (a UUID): a retry with the same key and body gets the first answer (for 24 h, "
            "marked `Idempotent-Replayed: true`) instead of doing the work again. Only successes are kept."
        ),
    },
    "write": {
        "in": "header",
        "name": "If-Match",
        "required": False,
        "schema": {"type": "string"},
        "description": "The `ETag` you read: 412 if the object has changed since (protects against lost updates).",
    },
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


def _document_http_conventions(method: str, operation: dict) -> None:
    """Rate limits on every operation; ETags on reads; Idempotency-Key on POST; If-Match on writes."""
    responses = operation["responses"]
    for status, response in responses.items():
        if status.startswith("2"):
            response.setdefault("headers", {}).update(_RATE_LIMIT_HEADERS)
            if method == "get":
                response["headers"].update(_ETAG_HEADER)
    _add_error(operation, "429")
    responses["429"].setdefault("headers", {}).update(_RETRY_AFTER_HEADER | _RATE_LIMIT_HEADERS)
    kind = method if method in {"get", "post"} else "write"
    operation.setdefault("parameters", []).append(dict(_HEADER_PARAMETERS[kind]))
    if method == "get":
        responses.setdefault("304", {"description": "Not modified: the `If-None-Match` tag is still current."})
    elif method == "post":
        _add_error(operation, "409")
        _add_error(operation, "422")
    else:
        _add_error(operation, "412")


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
            _document_http_conventions(method, operation)
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
