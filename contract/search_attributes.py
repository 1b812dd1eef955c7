"""Custom search attributes that let ops find any case in the Temporal UI."""

from temporalio.common import SearchAttributeKey

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
DEPARTMENT = SearchAttributeKey.for_keyword("Department")
DISTRICT = SearchAttributeKey.for_keyword("District")
DDO_CODE = SearchAttributeKey.for_keyword("DdoCode")
EMPLOYEE_GROUP = SearchAttributeKey.for_keyword("EmployeeGroup")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
ESCALATED = SearchAttributeKey.for_bool("Escalated")

ALL = (CASE_STAGE, DEPARTMENT, DISTRICT, DDO_CODE, EMPLOYEE_GROUP, NEXT_DEADLINE, ESCALATED)
