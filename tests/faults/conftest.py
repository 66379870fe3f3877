"""One stack for the whole fault suite: started once, as ``make run`` starts it."""

import uuid

import pytest

from tests.faults.stack import Stack


@pytest.fixture(scope="package")
def stack():
    stack = Stack()
    stack.prepare()
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture
def tag(stack) -> str:
    """A fresh tag for the volumes a test creates; the stack is healthy when it starts."""
    stack.wait_healthy()
    return uuid.uuid4().hex[:8]
