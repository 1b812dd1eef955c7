"""The Aadhaar vault's keys rotate like the payload keys: the first seals, every one listed opens."""

from types import SimpleNamespace

import pytest
from cryptography.fernet import InvalidToken

from services.applications.documents import _fernet


def _ctx(keys: str):
    return SimpleNamespace(settings=SimpleNamespace(vault_keys=keys))


def test_a_number_sealed_before_a_rotation_still_opens_and_is_resealed_with_the_new_key():
    sealed = _fernet(_ctx("old-key")).encrypt(b"234123412346")
    rotated = _fernet(_ctx("new-key,old-key"))
    assert rotated.decrypt(sealed) == b"234123412346"
    resealed = rotated.rotate(sealed)
    assert _fernet(_ctx("new-key")).decrypt(resealed) == b"234123412346"
    with pytest.raises(InvalidToken):
        _fernet(_ctx("new-key")).decrypt(sealed)  # once the old key is dropped, only re-sealed rows open
