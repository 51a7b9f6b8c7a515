import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.fernet import Fernet
from mfg_integration_lib import secretbox


@pytest.fixture
def box():
    return secretbox.SecretBox(secretbox.generate_key())


def test_generated_key_is_a_fernet_key():
    key = secretbox.generate_key()
    assert isinstance(key, bytes) and len(key) == 44
    Fernet(key)  # raises if not


@pytest.mark.parametrize("plaintext", ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "", "caf\u00e9 \u2713"])
def test_round_trip(box, plaintext):
    token = box.encrypt(plaintext)
    assert isinstance(token, str)
    assert box.decrypt(token) == plaintext


def test_token_hides_the_plaintext_and_differs_each_time(box):
    first, second = box.encrypt("whsec_abc"), box.encrypt("whsec_abc")
    assert "whsec_abc" not in first and first != second


def test_token_is_standard_fernet():
    key = secretbox.generate_key()
    assert Fernet(key).decrypt(secretbox.SecretBox(key).encrypt("x").encode()) == b"x"
    assert secretbox.SecretBox(key).decrypt(Fernet(key).encrypt(b"y").decode()) == "y"


def test_wrong_key_cannot_decrypt(box):
    token = box.encrypt("whsec_abc")
    with pytest.raises(ValueError, match=r"^cannot decrypt: wrong key or corrupted value$"):
        secretbox.SecretBox(secretbox.generate_key()).decrypt(token)


def _flip_one_char(token):
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


@pytest.mark.parametrize(
    "corrupt",
    [
        _flip_one_char,
        lambda token: token[:-4],
        lambda token: "not a token",
        lambda token: "",
        lambda token: "\u00e9t\u00e9",
        lambda token: None,
    ],
)
def test_corrupted_token_cannot_decrypt(box, corrupt):
    with pytest.raises(ValueError, match="cannot decrypt"):
        box.decrypt(corrupt(box.encrypt("whsec_abc")))


@pytest.mark.parametrize("key", [b"", b"short", "x" * 44, None])
def test_invalid_key_is_refused_clearly(key):
    with pytest.raises(ValueError, match="invalid encryption key"):
        secretbox.SecretBox(key)


def test_key_file_is_created_private_then_reused(tmp_path):
    key_path = tmp_path / "mfg.key"
    old_umask = os.umask(0)  # even with a permissive umask the key stays private
    try:
        key = secretbox.load_or_create_key(str(key_path))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes() == key
    assert secretbox.load_or_create_key(str(key_path)) == key
    assert os.listdir(tmp_path) == ["mfg.key"], "no temporary file left behind"
    secretbox.SecretBox(key)


def test_existing_key_file_is_read_with_its_newline(tmp_path):
    key = secretbox.generate_key()
    key_path = tmp_path / "mfg.key"
    key_path.write_bytes(key + b"\n")
    assert secretbox.load_or_create_key(str(key_path)) == key


def test_the_loser_of_a_creation_race_uses_the_winners_key(tmp_path, monkeypatch):
    # Another worker created the file between our existence check and our creation.
    winner = secretbox.generate_key()
    key_path = tmp_path / "mfg.key"
    key_path.write_bytes(winner)
    monkeypatch.setattr(secretbox.os.path, "exists", lambda path: False)
    assert secretbox.load_or_create_key(str(key_path)) == winner
    assert key_path.read_bytes() == winner
    assert os.listdir(tmp_path) == ["mfg.key"]


def test_concurrent_creation_gives_everyone_the_same_complete_key(tmp_path):
    for round_number in range(10):
        key_path = str(tmp_path / f"race-{round_number}.key")
        with ThreadPoolExecutor(max_workers=8) as pool:
            keys = set(pool.map(secretbox.load_or_create_key, [key_path] * 8))
        assert len(keys) == 1
        Fernet(keys.pop())
    assert sorted(os.listdir(tmp_path)) == sorted(f"race-{n}.key" for n in range(10))


def test_a_missing_key_file_with_encrypted_secrets_is_an_error_not_a_new_key(tmp_path):
    path = tmp_path / "db.key"
    with pytest.raises(secretbox.MissingKeyError, match="missing"):
        secretbox.load_or_create_key(str(path), secrets_exist=True)
    assert not path.exists(), "no new key was written"


def test_a_key_file_readable_by_others_is_reported(tmp_path):
    path = tmp_path / "db.key"
    secretbox.load_or_create_key(str(path))
    assert secretbox.exposure(str(path)) is None
    path.chmod(0o640)
    assert "readable by group or other" in secretbox.exposure(str(path))
    assert secretbox.exposure(str(tmp_path / "absent.key")) is None
