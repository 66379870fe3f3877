"""Teaching pace: a create a learner can watch, task by task, without reloading."""

import re

import pytest

from core.kernel.models import FlowRun
from tests.browser.test_live_volume_page import settle

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Counts finished tasks each time the picture changes, with the time it changed.
COUNT_FINISHED_JS = """() => {
  window.finishedSteps = [];
  const count = () => document.querySelectorAll('[data-task][data-state="success"]').length;
  const note = () => {
    const n = count(), steps = window.finishedSteps;
    if (!steps.length || steps[steps.length - 1][0] !== n) steps.push([n, performance.now()]);
  };
  note();
  new MutationObserver(note).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
}"""


def test_a_teaching_create_can_be_watched_task_by_task(login, server, world):
    page = login(world.owner)
    page.goto(f"{server}/volumes/create/")
    page.fill("input[name=name]", "watched")
    page.fill("input[name=size]", "1")
    page.select_option("select[name=pace]", "teaching")
    page.click("#create-submit")
    page.wait_for_url(re.compile(r"/volumes/[0-9a-f-]{36}/$"))
    page.evaluate(COUNT_FINISHED_JS)
    page.wait_for_selector('[data-task][data-state="running"]', timeout=30_000)
    assert page.is_disabled("#snapshot-submit")  # creating: nothing to snapshot yet
    assert page.query_selector("a#action-extend") is None
    flash = page.query_selector(".flash[data-transient]")
    assert flash is not None and "is being created" in flash.inner_text()
    settle(page, ("available",))

    # Without a reload, the actions follow the status and the flash is gone.
    page.wait_for_selector("#snapshot-submit:not([disabled])")
    assert page.query_selector("a#action-extend") is not None
    page.wait_for_selector(".flash[data-transient]", state="detached")

    steps = page.evaluate("window.finishedSteps")
    counts = [n for n, _ in steps]
    assert counts == sorted(counts) and len(set(counts)) >= 4, steps
    assert (steps[-1][1] - steps[0][1]) / 1000 >= 3, steps  # over several seconds
    assert page.query_selector("[data-teaching]") is not None  # marked as a teaching aid
    volume_id = page.url.rstrip("/").rsplit("/", 1)[1]
    held = FlowRun.objects.filter(volume_id=volume_id, teaching=True)
    assert set(held.values_list("flow", flat=True)) == {"scheduler", "manager"}
