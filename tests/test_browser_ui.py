"""The MLflow UI as a person sees it, in headless Chromium: two `stance run`s of the tiny
corpus, logged to a live `mlflow server`, show up on the experiment page and side by side,
with their test_macro_f1, in the compare view.

Needs headless Chromium (see tests/chromium.py). A screenshot of
the compare view is saved under the test's tmp dir, and copied to $STANCE_SCREENSHOT_DIR
when that is set.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from pathlib import Path

import pytest
from chromium import BROWSER_TEST, WAIT_S, body_text
from mlflow.tracking import MlflowClient

pytestmark = BROWSER_TEST

# The compare view's metric table is two virtualized grids side by side: metric names, then
# one value column per run (in run order). A value cell sits at the same `top` as its name.
METRIC_ROW_JS = """
const grids = [...document.querySelectorAll('.ReactVirtualized__Grid__innerScrollContainer')];
for (let i = 0; i + 1 < grids.length; i++) {
  const name = [...grids[i].children].find(cell => cell.textContent.trim() === arguments[0]);
  if (!name) continue;
  return [...grids[i + 1].children].filter(cell => cell.style.top === name.style.top)
    .sort((a, b) => parseFloat(a.style.left) - parseFloat(b.style.left)).map(cell => cell.textContent.trim());
}
return null;
"""
SCROLL_VALUES_JS = """
for (const grid of document.querySelectorAll('.ReactVirtualized__Grid')) {
  if (getComputedStyle(grid).overflowY === 'auto') grid.scrollTop = arguments[0];
}
"""


def metric_cells(driver, metric: str) -> list[str] | None:
    """The values drawn beside ``metric`` in the compare view, scrolling its grid until it shows."""
    for offset in range(0, 3000, 135):  # rows far down the table are drawn once scrolled to
        driver.execute_script(SCROLL_VALUES_JS, offset)
        cells = driver.execute_script(METRIC_ROW_JS, metric)
        if cells:
            return cells
    return None


def test_both_runs_and_their_macro_f1_show_in_the_ui(browser, logged_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    assert all(r.returncode == 0 for r in logged_server.runs), [r.stderr[-2000:] for r in logged_server.runs]
    url = logged_server.server.url
    client = MlflowClient(tracking_uri=url)
    experiment_id = client.get_experiment_by_name("tiny").experiment_id
    runs = [
        r
        for r in client.search_runs([experiment_id], order_by=["attributes.start_time ASC"])
        if "mlflow.parentRunId" not in r.data.tags
    ]
    names = [r.info.run_name for r in runs]
    assert len(runs) == 2 and names[0] != names[1]
    wait = WebDriverWait(browser, WAIT_S, poll_frequency=0.5)

    browser.get(f"{url}/#/experiments/{experiment_id}/runs?workflowType=machine_learning")
    wait.until(lambda d: all(name in body_text(d) for name in names), message=f"runs {names} not listed")

    ids = urllib.parse.quote(json.dumps([r.info.run_id for r in runs]))
    browser.get(f"{url}/#/compare-runs?runs={ids}&experiments={urllib.parse.quote(json.dumps([experiment_id]))}")
    switches = "button[role=switch][aria-label$='- Show diff only']"
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, switches)) == 3, message="compare view did not render")
    for switch in browser.find_elements(By.CSS_SELECTOR, switches):
        switch.click()  # only what differs: C and class_weight, the metrics, config_hash
    for close in browser.find_elements(By.CSS_SELECTOR, "button[data-component-id='mlflow.assistant.chat_panel.close']"):
        close.click()
    wait.until(lambda d: all(name in body_text(d) for name in names), message="run names missing in compare view")
    cells = wait.until(lambda d: metric_cells(d, "test_macro_f1"), message="no test_macro_f1 row in compare view")

    shown = [float(cell) for cell in cells]
    expected = [r.data.metrics["test_macro_f1"] for r in runs]
    assert shown == pytest.approx(expected, abs=6e-4)  # the UI rounds to 3 decimals

    browser.execute_script(SCROLL_VALUES_JS, 0)
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'start'})",
        browser.find_element(By.XPATH, "//*[normalize-space(text())='Run details']"),
    )
    screenshot = tmp_path / "mlflow-compare.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
    if os.environ.get("STANCE_SCREENSHOT_DIR"):
        target = Path(os.environ["STANCE_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, target / screenshot.name)
