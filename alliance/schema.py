"""Post-processing of the OpenAPI schema: what a 400 looks like.

A refused request answers 400 in one of two shapes: a refused state change ``{"message", "extra"}``
(the ``Error`` component), or bad input with one list of messages per field, nested for objects and
lists of objects (``FieldErrors``: ``{"round": ["Enter a whole number."]}``). Views document 400 with
``ErrorSerializer``; this hook widens every such response to either shape, so the schema says what the
API really sends (checked by schemathesis in tests/security)."""

ERROR_REF = "#/components/schemas/Error"
FIELD_ERRORS_REF = "#/components/schemas/FieldErrors"
FIELD_ERRORS = {
    "type": "object",
    "description": "Bad input: for each field refused, a list of messages (an object or a list of objects for "
                   "nested fields); `non_field_errors` for the input as a whole.",
    "minProperties": 1,
    "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
}


def document_field_errors(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if ERROR_REF.rsplit("/", 1)[1] not in schemas:
        return result
    schemas["FieldErrors"] = FIELD_ERRORS
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            bad_request = operation.get("responses", {}).get("400", {})
            for media in bad_request.get("content", {}).values():
                if media.get("schema") == {"$ref": ERROR_REF}:
                    media["schema"] = {"anyOf": [{"$ref": ERROR_REF}, {"$ref": FIELD_ERRORS_REF}]}
    return result
