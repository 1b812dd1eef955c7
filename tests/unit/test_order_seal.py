"""The order PDF carries a PAdES signature any PDF reader checks: intact and trusted as issued, not intact once one
byte of the signed content changes, not trusted under another authority; the configured signer is read from one
PEM text and a broken one is refused at start."""

from __future__ import annotations

import pytest

from services.orders.activities import sealed_pdf
from services.orders.order_seal import check, dev_signer, order_signer, signer_from_pem

from .test_order_document import ORDER

SIGNER = dev_signer("a dev seed")


def _issued() -> bytes:
    return sealed_pdf(ORDER, "signed-payload-" + "x" * 100, SIGNER)


def test_the_issued_order_is_signed_intact_and_trusted_under_the_authority():
    result = check(_issued(), SIGNER.root_pem())
    assert result.intact and result.trusted
    assert "Seva Suraksha orders service" in result.signed_by


def test_one_byte_changed_in_the_signed_content_breaks_the_signature():
    pdf = bytearray(_issued())
    where = pdf.index(b"SSO/2026/PWD/000042") if b"SSO/2026/PWD/000042" in pdf else len(pdf) // 4
    pdf[where] ^= 0x01  # inside the first revision, which the signature covers
    assert not check(bytes(pdf), SIGNER.root_pem()).intact


def test_a_pdf_signed_under_another_authority_is_intact_but_not_trusted():
    result = check(sealed_pdf(ORDER, "p" * 40, dev_signer("another seed")), SIGNER.root_pem())
    assert result.intact and not result.trusted


def test_an_unsigned_pdf_is_said_to_be_unsigned():
    from services.orders.order_document import render_pdf

    with pytest.raises(ValueError, match="no signature"):
        check(render_pdf(ORDER, "p" * 40), SIGNER.root_pem())


def test_the_configured_signer_is_one_pem_text_key_and_chain():
    bundle = (SIGNER.key_pem + SIGNER.chain_pem).decode()
    assert signer_from_pem(bundle) == SIGNER
    assert signer_from_pem(SIGNER.chain_pem.decode() + SIGNER.key_pem.decode()) == SIGNER  # in either order
    assert check(sealed_pdf(ORDER, "p" * 40, signer_from_pem(bundle)), SIGNER.root_pem()).trusted
    with pytest.raises(ValueError, match="private key"):
        signer_from_pem(SIGNER.chain_pem.decode())
    other = dev_signer("another seed")
    with pytest.raises(ValueError, match="not the first certificate's"):
        signer_from_pem((other.key_pem + SIGNER.chain_pem).decode())


def test_the_dev_value_gives_the_local_authority_and_anything_else_must_be_a_signer():
    from services.common.settings import dev_value

    local = order_signer(dev_value("order_signing_pem"))
    assert local.key_pem == dev_signer(dev_value("order_signing_pem")).key_pem  # the same keys on every replica
    with pytest.raises(ValueError, match="private key"):
        order_signer("a secret that is not PEM at all, long enough to pass for one")
