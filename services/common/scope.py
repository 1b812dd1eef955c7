"""Scope: which cases an officer's login covers, decided one way for every service.

- a DDO covers the cases of their own office (the DDO code);
- an HoD or an Administrative Secretary covers the cases of their department;
- the administrator covers every case; Finance, data officers and ops cover none by office or department
  (their routes name what they may do);
- an employee covers their own case.

Whether a step has been escalated to an officer is a second question, asked by the service that owns the step
(the verification task's level, the orders service's escalation rows); it never widens this one."""

from __future__ import annotations

from .auth import ADMIN_SECRETARY, ADMINISTRATOR, DDO, EMPLOYEE, FINANCE, HOD, Principal


def covers(
    who: Principal, *, ddo_code: str | None = None, department: str | None = None, employee_id: str | None = None
) -> bool:
    """Whether `who` may see or act on a case of this office, department or employee."""
    if who.role == EMPLOYEE:
        return employee_id is not None and who.subject == employee_id
    if who.role == DDO:
        return ddo_code is not None and who.scope.get("ddo_code") == ddo_code
    if who.role in (HOD, ADMIN_SECRETARY):
        return department is not None and who.scope.get("department") == department
    return who.role == ADMINISTRATOR


def report_department(who: Principal) -> str | None:
    """The one department a report is limited to for this officer, or None for one that sees every department."""
    return who.scope.get("department") if who.role in (HOD, ADMIN_SECRETARY) else None


def officer_ref(who: Principal) -> str:
    """How the case names the officer a step waits on or was escalated to (`hod:HEALTH`, `as:FINANCE`, a DDO
    code, `finance:<department>`): the reference that notifications and escalations are kept under. For Finance,
    a LIKE pattern over every department."""
    department = who.scope.get("department", "")
    if who.role == DDO:
        return str(who.scope.get("ddo_code", ""))
    if who.role == HOD:
        return f"hod:{department}"
    if who.role == ADMIN_SECRETARY:
        return f"as:{department}"
    if who.role == FINANCE:
        return "finance:%"
    return ""
