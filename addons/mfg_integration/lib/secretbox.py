"""Encryption at rest of webhook secrets (Fernet), with a key kept in a file."""

import contextlib
import os
import tempfile

from cryptography.fernet import Fernet, InvalidToken


def generate_key() -> bytes:
    return Fernet.generate_key()


class SecretBox:
    """Encrypts short texts (webhook secrets) so that a database dump alone does not reveal them."""

    def __init__(self, key: bytes):
        try:
            self._fernet = Fernet(key)
        except (TypeError, ValueError) as error:
            raise ValueError("invalid encryption key: expected 32 url-safe base64-encoded bytes") from error

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError, AttributeError) as error:
            raise ValueError("cannot decrypt: wrong key or corrupted value") from error


def _read_key(path: str) -> bytes:
    with open(path, "rb") as key_file:
        return key_file.read().strip()


def _write_new_file(directory: str, content: bytes) -> str:
    """A complete private (0600) temporary file next to the key file; returns its path."""
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".mfg-key-")  # O_CREAT|O_EXCL, mode 0600
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(content)
        key_file.flush()
        os.fsync(key_file.fileno())
    return temporary


class MissingKeyError(Exception):
    """The key file is gone while secrets encrypted with it exist: a new key could not decrypt them."""


def exposure(path: str) -> str | None:
    """Why the key file at ``path`` is readable by others than its owner, or None."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    if mode & 0o077:
        return f"key file {path} has mode {mode & 0o777:o}: readable by group or other (chmod 600 it)"
    return None


def load_or_create_key(path: str, secrets_exist: bool = False) -> bytes:
    """The key stored at ``path``, created (mode 0600) when the file does not exist yet.

    When ``secrets_exist`` (secrets were encrypted with a key), a missing file is an error:
    a new key would silently make every stored secret undecryptable.

    Several Odoo workers may start at once: the key is written completely to a temporary
    file first, then published with os.link, which fails when the file exists. So a worker
    either wins and uses its key, or loses and reads the winner's key, never a half-written one."""
    if os.path.exists(path):
        return _read_key(path)
    if secrets_exist:
        raise MissingKeyError(
            f"The key file {path} is missing but encrypted secrets exist: restore it from the backup "
            "(or rotate every secret after deleting them); no new key was created."
        )
    key = generate_key()
    temporary = _write_new_file(os.path.dirname(os.path.abspath(path)), key)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return _read_key(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return key
