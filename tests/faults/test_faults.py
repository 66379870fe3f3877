"""Faults lose nothing: the lab, started as ``make run`` starts it, under the faults it teaches.

For each fault, creates are in flight when it strikes. After a bounded wait no volume is
left in a transitional state, every accepted volume is ``available`` or ``error`` with a
user message, refused requests left nothing, ``quota_check`` exits 0, and the web kept
answering whenever daphne itself was not the process killed.
"""

import psutil
import pytest
import requests

from tests.faults.stack import Load, Stack, assert_nothing_lost, restarted, settled
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults]

NODE1 = ("lvm-thick", "lvm-thin")  # where an untyped volume in zone nova lands


def set_fault(stack: Stack, **effect) -> None:
    """The same fault on both of node1's backends, for creates."""
    stack.shell(
        "from agent.models import BackendConfig, Fault\n"
        f"for name in {NODE1!r}:\n"
        "    backend = BackendConfig.objects.get(host='node1', backend_name=name)\n"
        f"    Fault.objects.create(backend=backend, operation='create', **{effect!r})\n"
    )


def clear_faults(stack: Stack) -> None:
    stack.shell("from agent.models import Fault\nFault.objects.update(active=False)")


@pytest.mark.parametrize("program", ["scheduler", "agent-node1"])
def test_kill_9_of_a_service_with_creates_in_flight(stack, tag, program):
    load = Load(stack, tag, count=12, rate=4).start()
    wait_until(lambda: len(load.answers) >= 3, timeout=30, what="the first creates")
    helpers = [p.pid for p in psutil.Process(stack.pid(program)).children(recursive=True)]
    pid = stack.kill(program)
    load.join()

    assert load.statuses == {202}  # the web kept answering
    restarted(stack, program, pid)
    # Its workers (and an agent's fork server) went with it: none is left taking jobs.
    wait_until(
        lambda: not [p for p in helpers if psutil.pid_exists(p)],
        timeout=30,
        what=f"the killed {program}'s workers to end",
    )
    restarts = stack.processes()[program]["restarts"]
    assert restarts >= 1
    assert_nothing_lost(stack, load, settled(stack, tag))
    # The restart shows on /healthz and on the dashboard.
    stack.wait_healthy()
    assert (
        requests.get(f"{stack.url}/healthz", timeout=10).json()["processes"][program]["restarts"]
        == restarts
    )
    dashboard = stack.browse("admin", "/")
    assert f'data-process="{program}" data-process-state="RUNNING" data-restarts="{restarts}"' in (
        dashboard
    )


def test_kill_9_of_one_web_process_with_creates_in_flight(stack, tag):
    """The web processes share one listening socket: with one killed, the other takes every
    new connection, and supervisord starts the dead one again on the same socket."""
    assert {"daphne-1", "daphne-2"} <= set(stack.processes())
    load = Load(stack, tag, count=16, rate=4).start()
    wait_until(lambda: len(load.answers) >= 4, timeout=30, what="the first creates")
    pid = stack.kill("daphne-1")
    killed_at = len(load.answers)
    load.join()

    # At most the one request the killed process was answering went unanswered.
    unanswered = [status for status, _ in load.answers if status != 202]
    assert len(unanswered) <= 1, load.answers
    assert all(status == 202 for status, _ in load.answers[killed_at + 1 :]), load.answers
    restarted(stack, "daphne-1", pid)
    volumes = settled(stack, tag)
    assert load.accepted <= set(volumes)
    assert len(set(volumes) - load.accepted) <= len(unanswered)
    assert set(volumes.values()) == {"available"}
    assert stack.quota_check().returncode == 0
    # The restarted copy listens on the same port again, beside the other.
    stack.wait_healthy()
    for name in ("daphne-1", "daphne-2"):
        listening = psutil.Process(stack.pid(name)).net_connections(kind="tcp")
        assert any(c.status == "LISTEN" and c.laddr.port == stack.port for c in listening), name


def test_kill_9_of_a_worker_in_the_middle_of_a_task(stack, tag):
    set_fault(stack, latency_ms=3000)
    try:
        load = Load(stack, tag, count=4, rate=4).start().join()
        # The work in flight names the process running it: host:pid@start.
        owner = wait_until(
            lambda: stack.query(
                "SELECT owner FROM cinder_worker WHERE owner != '' AND status = 'creating' "
                "AND service LIKE 'node1@%'"
            ),
            timeout=30,
            what="a worker inside a create",
        )[0][0]
        worker = int(owner.split(":")[1].split("@")[0])
        assert worker in stack.workers("agent-node1")
        agent = stack.pid("agent-node1")
        stack.kill_pid(worker)
    finally:
        clear_faults(stack)

    volumes = settled(stack, tag)
    assert "error" in volumes.values()  # the killed worker's create, cleaned up
    assert stack.pid("agent-node1") == agent  # the agent lived on; its pool replaced it
    assert_nothing_lost(stack, load, volumes)


def test_a_crash_fault(stack, tag):
    restarts = stack.processes()["agent-node1"]["restarts"]
    set_fault(stack, crash=True)
    try:
        load = Load(stack, tag, count=4, rate=4).start().join()
        volumes = settled(stack, tag)
    finally:
        clear_faults(stack)

    assert list(volumes.values()).count("error") >= 1  # the crashed create
    # One worker died, not the agent.
    assert stack.processes()["agent-node1"]["restarts"] == restarts
    assert_nothing_lost(stack, load, volumes)


def test_redis_killed_and_restarted_with_creates_in_flight(stack, tag):
    load = Load(stack, tag, count=15, rate=4).start()
    wait_until(lambda: len(load.answers) >= 4, timeout=30, what="the first creates")
    pid = stack.kill("redis")
    load.join()
    restarted(stack, "redis", pid)

    assert load.statuses <= {202, 503}  # answered; refused while Redis was away
    assert_nothing_lost(stack, load, settled(stack, tag, timeout=180))
    stack.wait_healthy()


def test_redis_down_during_a_post(stack, tag):
    doomed = stack.create(tag).json()["volume"]["id"]
    wait_until(lambda: stack.volumes(tag)[doomed] == "available", timeout=60, what="a volume")
    rpc = stack.rpc()
    rpc.supervisor.stopProcess("redis", True)
    try:
        refused = stack.create(tag)
        deleted = stack.call("DELETE", f"volumes/{doomed}")
    finally:
        rpc.supervisor.startProcess("redis", True)

    assert refused.status_code == 503
    assert refused.json()["serviceUnavailable"]["code"] == 503
    assert refused.headers["Retry-After"]
    assert deleted.status_code == 202  # recorded: the cast goes out once Redis is back
    wait_until(lambda: doomed not in stack.volumes(tag), timeout=120, what="the delete")
    assert stack.volumes(tag) == {}  # the refused create left no row
    assert stack.quota_check().returncode == 0


def test_ctrl_c_with_20_creates_in_flight_then_make_run_again(stack, tag):
    load = Load(stack, tag, count=20, rate=20).start().join()
    assert load.statuses == {202}

    assert stack.interrupt() == 0
    assert any(line.startswith("Stopped.") for line in stack.output)
    wait_until(lambda: not stack.leftovers(), timeout=30, what="every process to end")
    stack.start()

    assert_nothing_lost(stack, load, settled(stack, tag))
