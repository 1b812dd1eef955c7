"""The payload codec: sealed with the newest key and its id, opened by any key still held (rotation), a
tampered, foreign or unsealed payload refused, two keys under one id refused."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from services.common.codec import ENCODING, KEY_ID, REFUSED, EncryptionCodec, data_converter, parse_keys

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"name": "Ram Kumar", "date_of_birth": "1985-03-02"}')


async def test_sealed_with_the_newest_key_and_opened_again():
    codec = EncryptionCodec(parse_keys("k2:second-secret,k1:first-secret"))
    [sealed] = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k2"
    assert b"Ram Kumar" not in sealed.data and b"1985" not in sealed.data
    assert (await codec.decode([sealed])) == [PLAIN]


async def test_rotation_keeps_running_cases_readable():
    old = EncryptionCodec(parse_keys("k1:first-secret"))
    [sealed_before] = await old.encode([PLAIN])
    rotated = EncryptionCodec(parse_keys("k2:second-secret,k1:first-secret"))
    assert (await rotated.decode([sealed_before])) == [PLAIN]
    [sealed_after] = await rotated.encode([PLAIN])
    with pytest.raises(ValueError, match="k2"):
        await old.decode([sealed_after])  # an old process cannot open the new key's payloads
    dropped = EncryptionCodec(parse_keys("k2:second-secret"))
    with pytest.raises(ValueError, match="k1"):
        await dropped.decode([sealed_before])


async def test_a_tampered_payload_or_one_under_a_relabelled_key_is_refused():
    codec = EncryptionCodec(parse_keys("k2:second-secret,k1:first-secret"))
    [sealed] = await codec.encode([PLAIN])
    tampered = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(InvalidTag):
        await codec.decode([tampered])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k1"}, data=sealed.data)
    with pytest.raises(InvalidTag):
        await codec.decode([relabelled])


async def test_an_unsealed_payload_is_refused_and_logged(caplog):
    """It passed straight through: anyone who could reach the Temporal frontend could signal a case in plain JSON."""
    codec = EncryptionCodec(parse_keys("k1:first-secret"))
    [opened] = await codec.decode([PLAIN])
    assert opened.metadata["encoding"] == REFUSED and opened.data == b""
    assert "refused an unsealed payload (encoding 'json/plain'" in caplog.text and "Ram Kumar" not in caplog.text
    with pytest.raises(KeyError, match="Unknown payload encoding"):  # no converter reads it: the SDK drops it
        DataConverter.default.payload_converter.from_payloads([opened], [dict])


def test_two_keys_with_one_id_are_refused_at_start():
    with pytest.raises(ValueError, match="k1"):
        EncryptionCodec(parse_keys("k1:new-secret,k1:old-secret"))


def test_keys_must_be_given_as_id_and_secret():
    for bad in ("", "nosecret", ":secret", "k1:"):
        with pytest.raises(ValueError):
            parse_keys(bad)


async def test_the_converter_round_trips_a_case_input():
    from contract import CaseInput

    converter = data_converter("k1:first-secret")
    case = CaseInput(
        employee_id="EMP1",
        season_id="s",
        employee_group="part1",
        department="HEALTH",
        district="Hisar",
        ddo_code="DDO-1",
    )
    payloads = await converter.encode([case])
    assert all(p.metadata["encoding"] == ENCODING for p in payloads)
    assert (await converter.decode(payloads, [CaseInput])) == [case]
    assert DataConverter.default.payload_codec is None  # the default stays unchanged
