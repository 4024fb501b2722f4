"""OpenAPI post-processing: what every endpoint shares is documented once, here."""

from __future__ import annotations

from typing import Any

from django.conf import settings

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def invalid_json_text() -> str:
    limits = settings.PARLEY
    return (
        f"`invalid_json`: the body is not JSON, over {limits['JSON_MAX_BYTES'] // 1024} KiB "
        f"or nested over {limits['JSON_MAX_DEPTH']} deep (`details.max_bytes`, "
        "`details.max_depth`)"
    )


def document_invalid_json(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation taking a JSON body may answer 400 `invalid_json`
    (parley/common/jsonbody.py refuses such a body before the view runs)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" not in content:
                continue
            responses = operation.setdefault("responses", {})
            bad = responses.setdefault(
                "400",
                {"content": {"application/json": {"schema": ERROR_REF}}, "description": ""},
            )
            bad["description"] = "; ".join(filter(None, [bad["description"], invalid_json_text()]))
    return result
