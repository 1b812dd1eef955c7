"""A stack left running by a killed run must not be mistaken for a new one: start() refuses taken ports."""

from __future__ import annotations

import socket

import pytest

from deploy.local.stack import LocalStack, Ports, StackError


def test_a_stack_refuses_to_start_on_a_port_already_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        free = [port + 1 + i for i in range(10)]
        stack = LocalStack(tmp_path, Ports(port, *free))
        with pytest.raises(StackError, match=f"temporal {port}"):
            stack.start()
        assert stack.procs == []
