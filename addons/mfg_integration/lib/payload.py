"""Canonical JSON text for storage and hashing, and bounded text for display."""

import hashlib
import json


def _refuse(value):
    raise TypeError(f"{type(value).__name__} is not JSON serialisable: convert it in the mapper")


def canonical_json(data):
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_refuse)


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _bounded(text, max_chars):
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}… (truncated, {len(text)} chars)"


def pretty_json(data_or_text, max_chars=100_000):
    data = data_or_text
    if isinstance(data_or_text, str):
        try:
            data = json.loads(data_or_text)
        except ValueError:
            return _bounded(data_or_text, max_chars)
    return _bounded(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False), max_chars)


def excerpt(text, max_chars=2000):
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return _bounded(text, max_chars)
