"""RFC 9457 problem details."""

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:mfg-integration:problem:"


def problem(status, title, detail=None, *, slug=None, instance=None, errors=None, **extensions):
    body = {
        "type": TYPE_PREFIX + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": errors,
        **extensions,
    }
    return {key: value for key, value in body.items() if value is not None}
