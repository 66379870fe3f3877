"""Replay in slow motion: below real time, step by step, scrubbed; history and decisions follow."""

import pytest

from tests.browser.test_live_volume_page import create_in_form, settle
from tests.live.support import RECORD_STATES_JS

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TASK = "#task-manager-1-CreateVolumeFromSpecTask"
HIDDEN_DURATION_JS = """(sel) => getComputedStyle(
  document.querySelector(sel + ' .duration')).visibility === 'hidden'"""
VISIBLE_HISTORY_JS = (
    "() => [...document.querySelectorAll('#volume-history li')].filter(li => !li.hidden).length"
)


def test_a_tenth_speed_replay_shows_each_task_pending_then_running_then_done(login, server, world):
    page = login(world.owner)
    create_in_form(page, server, "replayed")
    settle(page, ("available",))
    page.reload()
    page.wait_for_selector('#live-badge[data-state="live"]')
    all_history = page.evaluate(VISIBLE_HISTORY_JS)

    page.evaluate(RECORD_STATES_JS)
    page.click("[data-replay-speed='0.1']")
    page.wait_for_function(
        "() => document.getElementById('replay-clock').dataset.replayState === 'playing'"
    )
    assert page.evaluate(HIDDEN_DURATION_JS, TASK)  # pending: no duration shown
    assert page.evaluate(VISIBLE_HISTORY_JS) < all_history  # the history follows the replay
    page.wait_for_function(
        "() => document.getElementById('replay-clock').dataset.replayState === 'done'",
        timeout=60_000,
    )
    seen = page.evaluate("window.seenStates")[TASK.lstrip("#")]
    assert seen[-3:] == ["pending", "running", "success"]
    assert page.evaluate(VISIBLE_HISTORY_JS) == all_history


def test_stepping_and_scrubbing_move_the_picture_and_pause(login, server, world):
    page = login(world.owner)
    create_in_form(page, server, "stepped")
    settle(page, ("available",))
    page.reload()
    page.wait_for_selector('#live-badge[data-state="live"]')
    states = "() => [...document.querySelectorAll('[data-task]')].map(t => t.dataset.state)"

    page.click("[data-replay-step]")
    first = page.evaluate(states)
    assert "pending" in first and page.locator("#replay-clock").inner_text().endswith("(paused)")
    page.click("[data-replay-step]")
    assert page.evaluate(states) != first

    page.locator("#replay-scrub").fill("0")
    at_start = page.evaluate(states)
    assert at_start.count("pending") >= len(at_start) - 1
    assert (
        page.locator("#volume-facts [data-volume-status]").get_attribute("data-volume-status")
        == "creating"
    )
    page.click("[data-replay-stop]")
    assert set(page.evaluate(states)) == {"success"}
