"""What an employee does between a working OTP and "submit", written once for every harness that plays
employees (the e2e tests, the benchmark, the fault suite, the season simulator): the six required documents,
then Aadhaar and PAN, then the form from the master record. Each harness sends the requests its own way (with
retries, a ledger of what was acknowledged, an office's address), so this module describes the requests and
the harness sends them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stdnum import verhoeff

from contract import REQUIRED_DOCUMENTS

# the smallest file the documents step takes as a PDF
TINY_PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PAN = "ABCPE1234F"


def aadhaar_for(employee_id: str, first_digit: str) -> str:
    """A valid (Verhoeff) Aadhaar number of the employee's own, unlike any other harness's for the same
    employee (`first_digit`: 2 the e2e tests, 3 the benchmark, 4 the fault suite, 5 the simulator)."""
    digits = first_digit + f"{int(employee_id[3:]):010d}"
    return digits + verhoeff.calc_check_digit(digits)


@dataclass(frozen=True)
class Step:
    """One request of the preparation: `act` names it for a ledger ('document' or 'identity')."""

    act: str
    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)  # `content` or `json`, as httpx takes them
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, auth: dict[str, str]) -> dict[str, Any]:
        """The keyword arguments for httpx: the body and the headers, with the employee's session."""
        return {**self.body, "headers": {**auth, **self.headers}}


def preparation(employee_id: str, first_digit: str) -> list[Step]:
    """The requests, in order, that make an application ready to submit (all to the applications service)."""
    documents = [
        Step(
            "document",
            "PUT",
            f"/applications/documents/{kind}",
            {"content": TINY_PDF},
            {"content-type": "application/pdf"},
        )
        for kind in REQUIRED_DOCUMENTS
    ]
    identity = Step(
        "identity",
        "PUT",
        "/applications/identity",
        {"json": {"aadhaar_number": aadhaar_for(employee_id, first_digit), "pan": PAN}},
    )
    return [*documents, identity]


def application_form(master: dict[str, Any]) -> dict[str, str]:
    """The application form as the employee fills it from their record."""
    return {k: str(master[k]) for k in ("department_code", "district", "post_code", "ddo_code", "date_of_joining")}
