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

# A case that continued as new leaves its earlier runs in visibility with the stage they had then: a count or a
# list of cases by stage takes the current run only (a simulated season of 10,000 listed 169 cases twice).
CURRENT_CASES = "WorkflowType = 'CaseWorkflow' AND ExecutionStatus != 'ContinuedAsNew'"


def cases_where(condition: str) -> str:
    """A visibility query over the cases' current runs, e.g. `cases_where("CaseStage = 'ineligible'")`."""
    return f"{CURRENT_CASES} AND {condition}"
