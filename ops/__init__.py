"""The operators' tools that cross the services: the `seva` command, the state's records import, the pre-season
audit, and the database round they share (migrations, bulk copies, starting cases).

No service imports this package, and it imports no test or benchmark code; it reaches the development stack
(deploy/local) only inside a development command's function, so a production run never loads it.
tests/unit/test_import_graph.py holds it to that rule by name."""
