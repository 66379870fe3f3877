"""`make run` starts the agents of the storage hosts this machine serves (AGENT_HOSTS)."""

import pytest

from portal.processes import agent_commands

pytestmark = pytest.mark.integration


def test_every_configured_host_by_default(live_db, settings):
    settings.AGENT_HOSTS = []
    hosts = {command[2] for command in agent_commands() if command[0] == "agent"}
    assert {"node1", "node2"} <= hosts


def test_only_the_named_hosts_when_other_machines_run_their_own(live_db, settings):
    settings.AGENT_HOSTS = ["node2"]
    agents = [command for command in agent_commands() if command[0] == "agent"]
    assert agents == [["agent", "--host", "node2", "--backend", "lvm-gold"]]
