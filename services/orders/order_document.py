"""The service-security order as a document: a PDF (reportlab) with the employee's particulars, the post,
the effective date and the 58th birthday up to which service is secure, and a QR code (qrcode) carrying a
payload signed with Ed25519 (a compact JWS, pyjwt). Anyone can check it against the published key."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import date

import jwt
import qrcode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from contract import RETIREMENT_AGE, birthday_at

ISSUER = "seva-suraksha.haryana"


def signing_key(seed: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign_payload(key: Ed25519PrivateKey, order: dict) -> str:
    claims = {
        "iss": ISSUER,
        "ord": order["order_no"],
        "emp": order["employee_id"],
        "post": order["post_id"],
        "dept": order["department"],
        "eff": str(order["effective_date"]),
        "until": str(order["secure_until"]),
    }
    return jwt.encode(claims, key, algorithm="EdDSA")


def read_payload(public_key: Ed25519PublicKey, payload: str) -> dict:
    """The claims of a genuine payload; raises jwt.PyJWTError for anything not signed by our key."""
    return jwt.decode(payload, public_key, algorithms=["EdDSA"], issuer=ISSUER, options={"require": ["iss", "ord"]})


def fifty_eighth_birthday(born: date) -> date:
    """Service is secure up to the 58th birthday (the contract's one birthday rule)."""
    return birthday_at(born, RETIREMENT_AGE)


def render_pdf(order: dict, qr_payload: str) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    pdf.setTitle(f"Service-security order {order['order_no']}")
    pdf.setAuthor("Government of Haryana")
    width, height = A4
    pdf.setFont("Helvetica-Bold", 15)
    pdf.drawCentredString(width / 2, height - 25 * mm, "GOVERNMENT OF HARYANA")
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawCentredString(width / 2, height - 33 * mm, "SERVICE-SECURITY ORDER")
    pdf.setFont("Helvetica", 9)
    pdf.drawCentredString(
        width / 2,
        height - 39 * mm,
        "under the Haryana Contractual Employees (Security of Service) Act, 2024 and the Rules, 2025",
    )
    rows = [
        ("Order number", order["order_no"]),
        ("Date of issue", str(order["effective_date"])),
        ("Employee ID", order["employee_id"]),
        ("Name", order["name"]),
        ("Father's name", order["father_name"]),
        ("Date of birth", str(order["date_of_birth"] or "")),
        ("Department", order["department"]),
        ("Post", order["post_code"]),
        ("Supernumerary post", order["post_id"]),
        ("Service secure with effect from", str(order["effective_date"])),
        ("Service secure up to (58th birthday)", str(order["secure_until"] or "")),
    ]
    y = height - 55 * mm
    for label, value in rows:
        pdf.setFont("Helvetica-Bold", 10)
        pdf.drawString(25 * mm, y, label)
        pdf.setFont("Helvetica", 10)
        pdf.drawString(95 * mm, y, str(value))
        y -= 7 * mm
    text = pdf.beginText(25 * mm, y - 6 * mm)
    text.setFont("Helvetica", 9)
    for line in (
        "The employee named above shall not be removed from service until the age of 58 except as the Act",
        "provides, and shall receive periodic increments and allowances. Scan the QR code or check the order",
        "number on the portal's public verification page to confirm that this order is genuine and current.",
    ):
        text.textLine(line)
    pdf.drawText(text)
    qr_image = qrcode.make(qr_payload, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
    png = io.BytesIO()
    qr_image.save(png, format="PNG")
    png.seek(0)
    pdf.drawImage(ImageReader(png), width - 75 * mm, 25 * mm, 50 * mm, 50 * mm)
    pdf.setFont("Helvetica", 8)
    pdf.drawString(25 * mm, 30 * mm, "Issued electronically on the Seva Suraksha portal; no signature is required.")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()
