"""Encryption at rest of webhook secrets (Fernet), with a key kept in a file."""

import os

from cryptography.fernet import Fernet, InvalidToken


def generate_key():
    return Fernet.generate_key()


class SecretBox:
    def __init__(self, key):
        self._fernet = Fernet(key)

    def encrypt(self, plaintext):
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token):
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError) as error:
            raise ValueError("cannot decrypt: wrong key or corrupted value") from error


def _read_key(path):
    with open(path, "rb") as key_file:
        return key_file.read().strip()


def load_or_create_key(path):
    if os.path.exists(path):
        return _read_key(path)
    key = generate_key()
    try:
        # O_EXCL: when two processes race, one creates the key and the other reads it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key)
    return key
