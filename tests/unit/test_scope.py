"""One rule for which cases a login covers (services/common/scope.py), the same in every service."""

from services.common.auth import Principal
from services.common.scope import covers, officer_ref, report_department

DDO_HISAR = Principal("OFF-1", "ddo", {"ddo_code": "DDO-HEALTH-HISAR", "department": "HEALTH"})
HOD_HEALTH = Principal("HOD-HEALTH", "hod", {"department": "HEALTH"})
AS_PWD = Principal("AS-PWD", "admin_secretary", {"department": "PWD"})
FINANCE = Principal("FIN-1", "finance")
ADMIN = Principal("ADMIN-HR", "administrator")
EMPLOYEE = Principal("EMP1", "employee")


def test_each_role_covers_its_own_office_department_or_case_and_nothing_else():
    case = {"ddo_code": "DDO-HEALTH-HISAR", "department": "HEALTH", "employee_id": "EMP1"}
    other = {"ddo_code": "DDO-HEALTH-ROHTAK", "department": "HEALTH", "employee_id": "EMP2"}
    assert covers(DDO_HISAR, **case) and not covers(DDO_HISAR, **other)  # a DDO: the office, not the department
    assert covers(HOD_HEALTH, **case) and covers(HOD_HEALTH, **other)
    assert not covers(AS_PWD, **case)
    assert not covers(FINANCE, **case)  # Finance's routes say what it may do; no case by office
    assert covers(ADMIN, **case)
    assert covers(EMPLOYEE, **case) and not covers(EMPLOYEE, **other)
    assert not covers(DDO_HISAR) and not covers(HOD_HEALTH) and not covers(EMPLOYEE)  # nothing named, nothing covered


def test_reports_and_references():
    assert report_department(AS_PWD) == "PWD" and report_department(ADMIN) is None
    assert [officer_ref(p) for p in (DDO_HISAR, HOD_HEALTH, AS_PWD, FINANCE, ADMIN)] == [
        "DDO-HEALTH-HISAR",
        "hod:HEALTH",
        "as:PWD",
        "finance:%",
        "",
    ]
