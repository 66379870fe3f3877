"""The engine every flow runs on: tasks get the inputs their own bindings name, results are
kept for the caller, and a failure reverts what ran, however many flows of the same
tasks were made before."""

import pytest
from taskflow.patterns import linear_flow

from core.kernel import flows

REVERTED: list = []  # the inputs Echo was reverted with


class Echo(flows.CinderTask):
    module = "tests.flows"
    default_provides = "echoed"

    def execute(self, value):
        return value

    def revert(self, value, **kwargs):
        REVERTED.append(value)


class Reverted(flows.CinderTask):
    module = "tests.flows"

    def execute(self):
        raise RuntimeError("refused")


def run(task, store):
    engine = flows.load(linear_flow.Flow("t").add(task), store)
    engine.run()
    return engine.storage.fetch("echoed")


def test_each_task_reads_what_its_own_bindings_name():
    store = {"value": "plain", "other": "rebound"}
    assert run(Echo(), store) == "plain"
    assert run(Echo(rebind={"value": "other"}), store) == "rebound"
    assert run(Echo(), store) == "plain"
    assert run(Echo(rebind=["other"]), store) == "rebound"


def test_a_failure_reverts_the_tasks_that_ran_with_their_inputs():
    REVERTED.clear()
    echo = Echo(rebind={"value": "other"})
    flow = linear_flow.Flow("t").add(echo, Reverted())
    engine = flows.load(flow, {"value": "plain", "other": "rebound"})
    with pytest.raises(RuntimeError, match="refused"):
        engine.run()
    assert REVERTED == ["rebound"]
    assert engine.storage.get_atom_state(echo.name) == "REVERTED"


class RefusedIf(flows.CinderTask):
    module = "tests.flows"

    def execute(self, refuse):
        if refuse:
            raise RuntimeError("refused")


@flows.built_once
def echo_then_check() -> linear_flow.Flow:
    return linear_flow.Flow("once").add(Echo(), RefusedIf())


def test_a_flow_built_once_runs_each_store_alone_even_after_a_failed_run():
    REVERTED.clear()
    assert echo_then_check() is echo_then_check()
    refused = flows.load(echo_then_check(), {"value": "first", "refuse": True})
    with pytest.raises(RuntimeError, match="refused"):
        refused.run()
    assert REVERTED == ["first"]
    engine = flows.load(echo_then_check(), {"value": "second", "refuse": False})
    engine.run()
    assert engine.storage.fetch("echoed") == "second"
    assert REVERTED == ["first"]  # nothing of the failed run was reverted again
    echo = next(atom for atom, _ in echo_then_check().iter_nodes() if isinstance(atom, Echo))
    assert refused.storage.get_atom_state(echo.name) == "REVERTED"  # each keeps its own run
    assert engine.storage.get_atom_state(echo.name) == "SUCCESS"


def test_each_thread_builds_its_own_flow():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as other:
        theirs = other.submit(echo_then_check).result()
    assert theirs is not echo_then_check()


def test_a_flow_built_once_still_refuses_a_store_that_lacks_an_input():
    from taskflow.exceptions import MissingDependencies

    flows.load(echo_then_check(), {"value": "ok", "refuse": False}).run()
    with pytest.raises(MissingDependencies, match="value"):
        flows.load(echo_then_check(), {"refuse": False}).run()
    with pytest.raises(MissingDependencies, match="value"):  # and again: a refusal is not kept
        flows.load(echo_then_check(), {"refuse": False}).run()
