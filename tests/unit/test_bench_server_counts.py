"""The wave's account of the server's work is read from the server's own /metrics text: each counter summed over its
label sets (namespaces, task priorities), and only the history service's calls counted (the frontend's
RecordWorkflowTaskStarted does not exist, but its RespondWorkflowTaskCompleted would double a count)."""

from bench.run import SERVER_COUNTERS, server_counts_of

METRICS = """\
# HELP cache_miss cache_miss counter
cache_miss{cache_type="mutablestate",namespace_id="a",operation="HistoryCacheGetOrCreate",service_name="history"} 3
cache_miss{cache_type="mutablestate",namespace_id="b",operation="HistoryCacheGetOrCreate",service_name="history"} 2
cache_miss{cache_type="mutablestate",namespace_id="a",operation="HistoryCacheGetOrCreateCurrent",service_name="history"} 9
cache_requests{cache_type="mutablestate",namespace_id="a",operation="HistoryCacheGetOrCreate",service_name="history"} 40
cache_requests{cache_type="events",namespace_id="a",operation="EventsCachePutEvent",service_name="history"} 7
service_requests{namespace="default",operation="RecordWorkflowTaskStarted",service_name="history"} 120
service_requests{namespace="default",operation="RespondWorkflowTaskCompleted",service_name="frontend"} 100
task_requests{archetype="workflow",namespace="default",operation="TimerActiveTaskWorkflowTaskTimeout",service_name="history",task_priority="low",task_type="TimerActiveTaskWorkflowTaskTimeout"} 15
task_requests{archetype="workflow",namespace="default",operation="TimerActiveTaskUserTimer",service_name="history",task_priority="low",task_type="TimerActiveTaskUserTimer"} 100
schedule_to_start_timeout{namespace="default",operation="TimerActiveTaskWorkflowTaskTimeout",service_name="history",task_type="sticky"} 12
schedule_to_start_timeout{namespace="default",operation="TimerActiveTaskActivityTimeout",service_name="history"} 4
start_to_close_timeout{first_attempt="true",namespace="default",operation="TimerActiveTaskWorkflowTaskTimeout",service_name="history"} 3
start_to_close_timeout{first_attempt="true",namespace="default",operation="TimerActiveTaskActivityTimeout",service_name="history"} 8
persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} 310
persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="frontend"} 5
"""


def test_each_counter_sums_its_label_sets_and_nothing_else() -> None:
    assert server_counts_of(METRICS) == {
        "cache misses": 5.0,
        "cache look-ups": 40.0,
        "workflow tasks started": 120.0,
        "workflow tasks timed out waiting": 12.0,
        "workflow tasks timed out running": 3.0,
        "case state writes": 310.0,
    }


def test_a_server_without_the_counters_reads_as_zero() -> None:
    assert server_counts_of("# nothing yet\n") == dict.fromkeys(SERVER_COUNTERS, 0.0)
