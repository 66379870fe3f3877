"""A fault hits the operations it names, on its backend, and only the volume it is scoped to."""

import uuid

import pytest

from agent import faults
from agent.drivers import backend_config
from agent.models import Fault

pytestmark = pytest.mark.integration
HOST = "node1@lvm-thick"


@pytest.fixture
def fault(live_db):
    made = []

    def make(**fields) -> Fault:
        made.append(Fault.objects.create(backend=backend_config(HOST), **fields))
        return made[-1]

    yield make
    Fault.objects.filter(pk__in=[f.pk for f in made]).delete()


def test_a_fault_scoped_to_a_volume_fails_only_that_volumes_operation(fault):
    target, other = uuid.uuid4(), uuid.uuid4()
    fault(operation="revert", probability=1.0, volume_id=target)

    faults.apply(HOST, "revert", other)
    faults.apply(HOST, "revert")  # an operation of no particular volume
    with pytest.raises(faults.FaultInjected, match="probability 1"):
        faults.apply(HOST, "revert", str(target))


def test_a_fault_hits_only_its_operation_and_backend_while_active(fault):
    made = fault(operation="revert", fail_next=2)
    faults.apply(HOST, "extend", uuid.uuid4())
    faults.apply("node2@lvm-gold", "revert", uuid.uuid4())
    faults.apply("node9@no-such-backend", "revert", uuid.uuid4())

    with pytest.raises(faults.FaultInjected, match="fail next 2"):
        faults.apply(HOST, "revert", uuid.uuid4())
    Fault.objects.filter(pk=made.pk).update(active=False)
    faults.apply(HOST, "revert", uuid.uuid4())
    made.refresh_from_db()
    assert (made.fail_next, made.hits) == (1, 1)
