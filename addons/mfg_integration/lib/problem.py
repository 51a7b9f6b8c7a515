"""RFC 9457 problem details."""

from typing import Any

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:mfg-integration:problem:"


def problem(
    status: int | None,
    title: str,
    detail: str | None = None,
    *,
    slug: str | None = None,
    instance: str | None = None,
    errors: list | None = None,
    **extensions: Any,
) -> dict:
    """A problem details object; None values are left out (RFC 9457 members are all optional).

    ``status`` None: a transport-neutral document (the inbox's refusals), whose transport sets it
    (``with_status``)."""
    if "type" in extensions:
        raise TypeError("pass slug= to set a problem's type")
    body = {
        # 'about:blank' means "the HTTP status says it all" (RFC 9457 section 4.2.1).
        "type": TYPE_PREFIX + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": errors,
        **extensions,
    }
    return {key: value for key, value in body.items() if value is not None}


def with_status(body: dict, status: int) -> dict:
    """``body`` (a problem document) with its ``status`` member set, placed after ``title`` as
    problem() places it."""
    result = {}
    for key, value in body.items():
        if key != "status":
            result[key] = value
        if key == "title":
            result["status"] = status
    if "status" not in result:
        result["status"] = status
    return result
