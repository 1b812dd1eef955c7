"""The Temporal payload codec: every workflow and activity payload (case inputs, signals, activity
arguments and results, query answers) is sealed with AES-GCM before it leaves the process, so the Temporal
server, its database and anyone reading a history see no name, date of birth or application detail.

Each sealed payload names its key in its metadata. The settings hold a list of keys, newest first: the first
seals, every one opens. A key is rotated by putting the new one first; payloads of running cases sealed with
the old one still open, until it is dropped once no open case holds one (continue-as-new re-seals a case).

A payload that is not sealed is refused: no history predates the codec, so an unsealed payload was written by
someone who can reach the Temporal frontend without the keys (a plain-JSON "order approved" signal typed at the
CLI). It is logged and opened as a payload no converter reads, so the SDK drops such a signal (and fails such a
query or start) while the case goes on."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
REFUSED = b"binary/refused-unsealed"  # what an unsealed payload opens as: no payload converter reads it
KEY_ID = "encryption-key-id"
log = logging.getLogger("seva.codec")
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
        ids = [key_id for key_id, _ in keys]
        if len(set(ids)) != len(ids):
            # the first would seal and the last open: a rotation by changing the secret under the same id would
            # make every new payload unreadable
            raise ValueError(f"SEVA_PAYLOAD_KEYS names a key id twice: {sorted({i for i in ids if ids.count(i) > 1})}")
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
            log.warning(
                "refused an unsealed payload (encoding %r, %d bytes): not written by a holder of the keys",
                payload.metadata.get("encoding", b"").decode(errors="replace"),
                len(payload.data),
            )
            return Payload(metadata={"encoding": REFUSED})
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
