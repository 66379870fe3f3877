"""The volume page, live: attempts, reverts, expanded tasks, a second tab, replay, polling."""

import re

import pytest

from agent.drivers import backend_config
from agent.models import Fault
from core.cinder.models import Volume
from tests.browser.conftest import screenshot
from tests.integration.agent_support import first_choice
from tests.live.support import PICTURE_JS, RECORD_STATES_JS, SETTLED_JS
from tests.waiting import wait_until
from volumes import api

pytestmark = [pytest.mark.browser, pytest.mark.integration]

GOLD = "node2@lvm-gold"
MANAGER_TASKS = [
    "ExtractVolumeRefTask",
    "OnFailureRescheduleTask",
    "ExtractVolumeSpecTask",
    "NotifyVolumeActionTask",
    "CreateVolumeFromSpecTask",
    "CreateVolumeOnFinishTask",
]
REVERT_PATH = ["running", "failure", "reverting", "reverted"]


def create_in_form(page, server, name: str, volume_type: str = "__DEFAULT__", zone: str = "nova"):
    page.goto(f"{server}/volumes/create/")
    page.fill("input[name=name]", name)
    page.fill("input[name=size]", "1")
    page.select_option("select[name=volume_type]", label=volume_type)
    page.select_option("select[name=availability_zone]", zone)
    page.click("#create-submit")
    page.wait_for_url(re.compile(r"/volumes/[0-9a-f-]{36}/$"))
    return page.url.rstrip("/").rsplit("/", 1)[1]


def settle(page, statuses=("available", "error")) -> None:
    page.wait_for_function(SETTLED_JS, arg=list(statuses), timeout=90_000)


def states_of(page, flow: str, attempt: int) -> dict[str, str]:
    return {
        el.get_attribute("data-task"): el.get_attribute("data-state")
        for el in page.query_selector_all(f'[data-flow="{flow}"][data-attempt="{attempt}"]')
    }


@pytest.fixture
def gold_fault(live_db):
    """Faults on the gold backend's creates, removed afterwards (other tests use gold too)."""
    made = []

    def make(**kwargs) -> Fault:
        fault = Fault.objects.create(backend=backend_config(GOLD), operation="create", **kwargs)
        made.append(fault)
        return fault

    yield make
    for fault in made:
        fault.delete()


@pytest.fixture
def fault_on_first_choice(live_db):
    """The next create on the pool an untyped nova volume would go to fails, slowly:
    the task is seen running before it fails."""
    pool = first_choice()
    fault = Fault.objects.create(
        backend=backend_config(pool), operation="create", fail_next=1, latency_ms=1500
    )
    yield pool
    fault.delete()


def test_a_create_fault_shows_attempt_one_reverting_and_attempt_two_succeeding_elsewhere(
    world, server, login, scheduler_ignoring_attempted_hosts, fault_on_first_choice
):
    first_pool = fault_on_first_choice
    page = login(world.owner)
    page.add_init_script(f"document.addEventListener('DOMContentLoaded', {RECORD_STATES_JS})")
    volume_id = create_in_form(page, server, "faulty")

    settle(page, ["available"])

    first, second = states_of(page, "manager", 1), states_of(page, "manager", 2)
    assert list(first) == MANAGER_TASKS and list(second) == MANAGER_TASKS
    assert first["CreateVolumeFromSpecTask"] == "reverted"
    assert first["CreateVolumeOnFinishTask"] == "pending"  # never ran
    assert set(second.values()) == {"success"}
    assert page.get_attribute("#run-manager-1", "data-run-state") == "reverted"
    assert page.get_attribute("#run-manager-2", "data-run-state") == "success"
    # What the page showed live, in order: running, then along the revert path only.
    seen = page.evaluate("window.seenStates")["task-manager-1-CreateVolumeFromSpecTask"]
    print("live states seen for attempt 1 CreateVolumeFromSpecTask:", seen)
    assert "running" in seen and seen[-1] == "reverted"
    assert seen == [s for s in ["pending", *REVERT_PATH] if s in seen]
    # Attempt 2 ran on another backend (IgnoreAttemptedHostsFilter left the first out).
    hosts = page.locator("#lane-manager .on-host").all_inner_texts()
    assert len(hosts) == 2 and first_pool in hosts[0]
    assert first_pool.partition("#")[0] not in hosts[1]
    assert page.locator("[data-trace-attempt]").count() == 2
    # Expanding the failed task shows the failure, its traceback and its transitions.
    task = page.locator("#task-manager-1-CreateVolumeFromSpecTask")
    task.locator("summary").click()
    assert "Injected fault" in task.locator("[data-task-failure]").inner_text()
    assert "FaultInjected" in task.locator("pre.traceback").inner_text()
    assert [line.split()[-1] for line in task.locator("ol.transitions li").all_inner_texts()] == (
        REVERT_PATH
    )
    assert page.locator('#volume-history [data-notification="volume.create.end"]').count() == 1
    assert page.locator('#volume-gantt [data-bar="revert"]').count() >= 1
    screenshot(page, "volume-page-reschedule")

    # Replay drives the page through exactly the stored transitions.
    page.evaluate(RECORD_STATES_JS)
    page.click("[data-replay-speed='1']")
    page.wait_for_function(
        "() => document.getElementById('replay-clock').dataset.replayState === 'done'"
    )
    replayed = page.evaluate("window.seenStates")["task-manager-1-CreateVolumeFromSpecTask"]
    assert replayed == ["reverted", "pending", *REVERT_PATH]
    assert page.evaluate(PICTURE_JS)["status"] == "available"
    assert Volume.objects.get(id=volume_id).status == "available"


def test_a_second_tab_opened_mid_flow_ends_with_the_same_picture(world, server, login, gold_fault):
    gold_fault(latency_ms=5000)  # the create takes a while: the second tab opens mid-flow
    first, second = login(world.owner), login(world.member)
    volume_id = create_in_form(first, server, "two-tabs", volume_type="gold", zone="az2")
    first.wait_for_selector(
        '#task-manager-1-CreateVolumeFromSpecTask[data-state="running"]', timeout=60_000
    )
    second.goto(f"{server}/volumes/{volume_id}/")
    mid_flow = second.evaluate(PICTURE_JS)

    settle(first, ["available"])
    settle(second, ["available"])

    assert mid_flow["status"] == "creating"
    assert first.evaluate(PICTURE_JS) == second.evaluate(PICTURE_JS)
    assert len(second.evaluate(PICTURE_JS)["tasks"]) == 13


def test_an_expanded_task_stays_expanded_while_the_flow_moves_on(world, server, login, gold_fault):
    gold_fault(latency_ms=3000)
    page = login(world.owner)
    create_in_form(page, server, "keep-open", volume_type="gold", zone="az2")
    running = page.locator('#task-manager-1-CreateVolumeFromSpecTask[data-state="running"]')
    running.wait_for(timeout=60_000)
    running.locator("summary").click()
    page.locator("#task-api-1-QuotaReserveTask summary").click()

    settle(page, ["available"])

    task = page.locator("#task-manager-1-CreateVolumeFromSpecTask")
    assert task.get_attribute("data-state") == "success"
    assert task.locator("details").evaluate("d => d.open")
    assert task.locator("pre.command").count() >= 1  # the lvcreate it ran, now shown
    assert page.locator("#task-api-1-QuotaReserveTask details").evaluate("d => d.open")
    assert not page.locator("#task-api-1-EntryCreateTask details").evaluate("d => d.open")


def test_without_websockets_the_page_polls_to_the_final_state(world, server, login):
    page = login(world.owner)
    page.add_init_script("delete window.WebSocket")
    volume = api.create(api.request_context(world.owner, world.project), size=1, name="polled")
    page.goto(f"{server}/volumes/{volume.id}/")

    settle(page, ["available"])

    assert page.get_attribute("#live-badge", "data-state") in ("polling", "done")
    assert {t[3] for t in page.evaluate(PICTURE_JS)["tasks"]} == {"success"}


def test_a_user_of_another_project_gets_404_for_the_page(world, server, login):
    volume = api.create(api.request_context(world.owner, world.project), size=1, name="private")
    wait_until(
        lambda: Volume.objects.filter(id=volume.id).exclude(status="creating").exists(),
        timeout=60,
        what="the volume to settle",
    )
    page = login(world.outsider)

    page_response = page.goto(f"{server}/volumes/{volume.id}/")
    fragment_response = page.goto(f"{server}/volumes/{volume.id}/live/")

    assert page_response.status == 404 and fragment_response.status == 404


# Keeps a handle on each socket the page opens, so the test can cut one.
TRACK_SOCKETS_JS = """
window.sockets = [];
window.WebSocket = class extends WebSocket {
  constructor(...args) { super(...args); window.sockets.push(this); }
};
"""


def test_a_dropped_socket_reconnects_and_catches_up(world, server, login, gold_fault):
    gold_fault(latency_ms=4000)
    page = login(world.owner)
    page.add_init_script(TRACK_SOCKETS_JS)
    create_in_form(page, server, "reconnect", volume_type="gold", zone="az2")
    page.wait_for_selector(
        '#task-manager-1-CreateVolumeFromSpecTask[data-state="running"]', timeout=60_000
    )
    landed = page.url

    page.evaluate("window.sockets[window.sockets.length - 1].close()")
    page.wait_for_selector("#live-badge[data-state=reconnecting]")

    settle(page, ["available"])
    page.wait_for_selector("#live-badge[data-state=live]")
    assert page.url == landed
    assert page.evaluate("window.sockets.length") >= 2
    assert {t[3] for t in page.evaluate(PICTURE_JS)["tasks"]} == {"success"}
