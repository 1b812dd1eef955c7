"""The order's PAdES signature (pyHanko): any PDF reader shows who signed the order and that not one byte has
changed since, without our QR or our website. The QR's Ed25519 payload stays: it is what a phone checks.

Production configures the signer (SEVA_ORDER_SIGNING_PEM: the private key and the certificate chain, signer
first, as PEM, from the state's certifying authority). In dev the signer is a local certificate authority whose
keys are derived from the dev seed, so every replica signs with the same chain and a test can trust its root;
its name says plainly that it is not the state's."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.common.settings import is_dev_value

REASON = "Service-security order issued under the Haryana Contractual Employees (Security of Service) Act, 2024"
LOCATION = "Haryana"
DEV_VALIDITY = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2040, 12, 31, tzinfo=UTC))


@dataclass(frozen=True)
class OrderSigner:
    """The signer's key and certificate chain (signer first, root last), ready for pyHanko."""

    key_pem: bytes
    chain_pem: bytes  # the certificates, signer first

    def certificates(self) -> list[x509.Certificate]:
        return x509.load_pem_x509_certificates(self.chain_pem)

    def root_pem(self) -> bytes:
        return self.certificates()[-1].public_bytes(serialization.Encoding.PEM)

    def _pyhanko(self) -> signers.SimpleSigner:
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        der_key = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        certs = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in self.certificates()]
        return signers.SimpleSigner(
            signing_cert=certs[0],
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=_store(certs[1:]),
        )


def _store(certs: list[asn1_x509.Certificate]) -> SimpleCertificateStore:
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # pyhanko-certvalidator leaves __init__ bare
    store.register_multiple(certs)
    return store


def signer_from_pem(bundle: str) -> OrderSigner:
    """The configured signer: one PEM text with the private key and the certificates (signer first). Raises
    ValueError if either is missing, so a service with a broken signer fails at start, not at the first order."""
    data = bundle.encode()
    certs = x509.load_pem_x509_certificates(data) if b"-----BEGIN CERTIFICATE-----" in data else []
    key_block = re.search(rb"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.+?-----END \1-----", data, re.S)
    if not certs or key_block is None:
        raise ValueError("the order signer needs a private key and at least one certificate, as PEM")
    key_pem = key_block.group(0) + b"\n"
    key = serialization.load_pem_private_key(key_pem, password=None)
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != certs[0].public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise ValueError("the order signer's private key is not the first certificate's")
    return OrderSigner(key_pem, b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))


@lru_cache(maxsize=4)
def order_signer(configured: str) -> OrderSigner:
    """The configured signer; in dev, where the setting holds the public dev value (refused anywhere else, as every
    secret is), the local authority derived from it."""
    if is_dev_value(configured):
        return dev_signer(configured)
    return signer_from_pem(configured)


def _derived_key(seed: str, role: str) -> ec.EllipticCurvePrivateKey:
    secret = int.from_bytes(hashlib.sha256(f"{seed}:{role}".encode()).digest(), "big")
    return ec.derive_private_key(secret % (2**255), ec.SECP256R1())


def dev_signer(seed: str) -> OrderSigner:
    """A local certificate authority and an order-signing certificate under it, both keys derived from `seed`."""
    ca_key, signer_key = _derived_key(seed, "ca"), _derived_key(seed, "signer")
    not_before, not_after = DEV_VALIDITY

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "IN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Seva Suraksha local stack (not the state's)"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    ca_name = name("Seva Suraksha dev certificate authority")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # certificate and CRL signing
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signer = (
        x509.CertificateBuilder()
        .subject_name(name("Seva Suraksha orders service (dev)"))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(2)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )  # digital signature and non-repudiation, as a signature on a document asks
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = signer_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain = signer.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    return OrderSigner(key_pem, chain)


def seal(pdf: bytes, signer: OrderSigner) -> bytes:
    """The PDF with a PAdES baseline (B-B) signature over all of it, invisible (the QR and the printed text are
    what a reader sees); blocking, so it runs in the worker thread that renders the PDF."""
    meta = signers.PdfSignatureMetadata(
        field_name="OrderSignature",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=REASON,
        location=LOCATION,
    )
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer._pyhanko())
    signed: bytes = out.getvalue()
    return signed


@dataclass(frozen=True)
class SealCheck:
    signed_by: str
    intact: bool  # the bytes covered are the bytes signed, and they cover the whole file
    trusted: bool  # the chain leads to the trusted root


def check(pdf: bytes, root_pem: bytes) -> SealCheck:
    """What a PDF reader would say of the order's signature, trusting `root_pem`. Raises ValueError if the PDF
    carries no signature."""
    reader = PdfFileReader(io.BytesIO(pdf))
    if not reader.embedded_signatures:
        raise ValueError("the PDF carries no signature")
    embedded = reader.embedded_signatures[0]
    root = asn1_x509.Certificate.load(x509.load_pem_x509_certificate(root_pem).public_bytes(serialization.Encoding.DER))
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=[root]))
    whole = embedded.coverage is not None and embedded.coverage.name == "ENTIRE_FILE"
    return SealCheck(
        signed_by=status.signing_cert.subject.human_friendly,
        intact=bool(status.intact and status.valid and whole),
        trusted=bool(status.trusted),
    )
