"""The stance report as a person sees it: opened from disk in headless Chromium, it logs no
console error, draws every chart, and shows its evidence. A screenshot is saved under the
test's tmp dir, and copied to $STANCE_SCREENSHOT_DIR when that is set.

The report is of a small fixture; with STANCE_REPORT_INPUT=<a scored file> it is of that
file instead (how the README's screenshot of the real corpus was taken, after
`make report`: STANCE_REPORT_INPUT=reports/scored-2022-2023.parquet
STANCE_SCREENSHOT_DIR=docs/images pytest tests/test_browser_report.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from chromium import BROWSER_TEST, WAIT_S, body_text
from test_report import scored_frame

from pipeline.report.write import write_report

pytestmark = BROWSER_TEST

CHART_SIZES_JS = """
return [...document.querySelectorAll('figure.chart svg')].map(svg => {
  const box = svg.getBoundingClientRect();
  return [box.width, box.height, svg.querySelectorAll('path').length];
});
"""


def test_report_opens_offline_without_console_errors_and_draws_its_charts(browser, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    given = os.environ.get("STANCE_REPORT_INPUT")
    scored = Path(given) if given else tmp_path / "scored.csv"
    if not given:
        scored_frame().to_csv(scored, index=False)
    report = tmp_path / "stance-report.html"
    data = write_report(scored, report)

    browser.get(report.resolve().as_uri())
    WebDriverWait(browser, WAIT_S).until(lambda d: "Evidence" in body_text(d), message="report did not render")
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    charts = browser.execute_script(CHART_SIZES_JS)
    assert len(charts) == (2 if data.dated else 0) + (2 if data.group else 0) and len(charts) >= 2
    assert all(width > 200 and height > 100 and paths > 10 for width, height, paths in charts), charts
    text = body_text(browser)
    top = data.evidence[next(iter(data.evidence))][0].text
    assert top.split()[0] in text and f"{data.scored:,}" in text

    screenshot = tmp_path / "stance-report.png"
    browser.set_window_size(1280, 1700)
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
    if os.environ.get("STANCE_SCREENSHOT_DIR"):
        target = Path(os.environ["STANCE_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, target / screenshot.name)
