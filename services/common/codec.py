"""The Temporal payload codec: every workflow and activity payload (case inputs, signals, activity
arguments and results, query answers) is sealed with AES-GCM before it leaves the process, so the Temporal
server, its database and anyone reading a history see no name, date of birth or application detail.

Each sealed payload names its key in its metadata. The settings hold a list of keys, newest first: the first
seals, every one opens. A key is rotated by putting the new one first; payloads of running cases sealed with
the old one still open, until it is dropped once no open case holds one (continue-as-new re-seals a case).
Payloads that were never sealed (histories from before the codec) pass through unchanged."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


def parse_keys(text: str) -> list[tuple[str, bytes]]:
    """`id:secret,id:secret` -> [(id, 32-byte key)], newest first."""
    keys = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key_id, sep, secret = item.partition(":")
        if not sep or not key_id or not secret:
            raise ValueError("SEVA_PAYLOAD_KEYS must be a list of id:secret, newest first")
        keys.append((key_id, hashlib.sha256(secret.encode()).digest()))
    if not keys:
        raise ValueError("SEVA_PAYLOAD_KEYS holds no key")
    return keys


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        self._current_id, current = keys[0]
        self._current = AESGCM(current)
        self._all = {key_id: AESGCM(key) for key_id, key in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._open(p) for p in payloads]

    def _seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.encrypt(nonce, payload.SerializeToString(), self._current_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self._current_id.encode()}, data=nonce + sealed)

    def _open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        key = self._all.get(key_id)
        if key is None:
            raise ValueError(f"a payload sealed with key {key_id!r}, which this process does not hold")
        data = key.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
        return Payload.FromString(data)


def data_converter(payload_keys: str, base: DataConverter | None = None) -> DataConverter:
    return dataclasses.replace(base or DataConverter.default, payload_codec=EncryptionCodec(parse_keys(payload_keys)))


def payloads_from_json(items: Iterable[dict[str, Any]]) -> list[Payload]:
    """The codec server's wire form (Temporal's remote codec protocol): metadata values and data in base64."""
    import base64

    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in (i.get("metadata") or {}).items()},
            data=base64.b64decode(i.get("data") or ""),
        )
        for i in items
    ]


def payloads_to_json(payloads: Iterable[Payload]) -> list[dict[str, Any]]:
    import base64

    return [
        {
            "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
            "data": base64.b64encode(p.data).decode(),
        }
        for p in payloads
    ]
