"""Canonical JSON text for storage and hashing, and bounded text for display."""

import hashlib
import json
import math
import re
from typing import Any


def refuse_non_json(value: Any):
    """``default`` hook of json.dumps: a datetime or a record must be converted by the mapper,
    never stringified silently (the receiver would get a format nobody agreed on)."""
    raise TypeError(f"{type(value).__name__} is not JSON serialisable: convert it in the mapper")


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text):
    # 1e999 would parse as infinity: no quantity, time or measure is infinite.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def parse_json(raw: str | bytes) -> Any:
    """Strict JSON as received from a system: NaN, Infinity and numbers out of float range are
    refused (ValueError), nesting past Python's limit raises RecursionError."""
    return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)


def canonical_json(data: Any) -> str:
    """Stable text for hashing and storage: sorted keys, no spaces, UTF-8 kept as is.

    NaN and Infinity are refused (ValueError): they are not JSON and PostgreSQL's jsonb,
    like most receivers, rejects them."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=refuse_non_json
    )


# Line breaks (\n, \r, \v, \f, NEL, U+2028/9) and other control characters end or forge log lines.
_LOG_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def log_safe(text: Any) -> str:
    """External text for a log line: control characters escaped (``\\n``), so that a reason
    or code sent by an external system cannot start a forged log line."""
    return _LOG_UNSAFE.sub(lambda match: match.group().encode("unicode_escape").decode(), str(text))


def unstorable(value: Any, max_depth: int) -> tuple[str, str] | None:
    """(JSON pointer, reason) of the first part of parsed JSON ``value`` that must not be
    stored or processed: a NUL (PostgreSQL refuses it), a lone UTF-16 surrogate (no UTF-8
    for it), in a string or a member name, or nesting deeper than ``max_depth``; else None.
    Iterative: deep nesting is what it checks, so it must not recurse itself."""
    stack = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > max_depth:
            return path, f"nested deeper than {max_depth} levels"
        if isinstance(item, dict):
            children = []
            for key, child in item.items():
                child_path = f"{path}/{_pointer_segment(key)}"
                reason = _bad_text(key)
                if reason:
                    return child_path, reason
                children.append((child, child_path, depth + 1))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, f"{path}/{index}", depth + 1) for index, child in enumerate(item)]))
        elif isinstance(item, str):
            reason = _bad_text(item)
            if reason:
                return path, reason
    return None


def _pointer_segment(key: str) -> str:
    # Escaped so that the pointer itself can be answered as UTF-8.
    return key.replace("~", "~0").replace("/", "~1").encode("utf-8", "backslashreplace").decode()


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate"
    return None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _bounded(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}… (truncated, {len(text)} chars)"


def pretty_json(data_or_text: Any, max_chars: int = 100_000) -> str:
    """Indented JSON for a support user; text that is not JSON is shown as is. Bounded by ``max_chars``."""
    data = data_or_text
    if isinstance(data_or_text, str):
        try:
            data = json.loads(data_or_text)
        except ValueError:
            return _bounded(data_or_text, max_chars)
    # default=str: display only, it must never fail on an odd value.
    return _bounded(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str), max_chars)


def excerpt(text: str | bytes | None, max_chars: int = 2000) -> str:
    """A bounded excerpt of a response body or error, safe to store whatever the receiver sent."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return _bounded(str(text), max_chars)
