"""Headless Chromium for the browser tests (the MLflow UI, the stance report).

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); the tests skip
without them, unless STANCE_REQUIRE_BROWSER=1 (set by .ci/run) makes them fail instead.
Selenium drives the system chromedriver by path, so nothing is downloaded. The browser's
console log is kept, so a test can assert a page logged no error.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Iterator

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
MISSING = "headless Chromium not installed (apt-get install chromium chromium-driver; .ci/run does)"
REQUIRED = os.environ.get("STANCE_REQUIRE_BROWSER") == "1"  # set by .ci/run: fail instead of skipping
WAIT_S = 45
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1400,1300",
)
# Every browser test module: `pytestmark = BROWSER_TEST`.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER) and not REQUIRED, reason=MISSING),
]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail(f"STANCE_REQUIRE_BROWSER=1 but {MISSING}")
    if REQUIRED:
        from selenium import webdriver
    else:
        webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never fetch a driver or browser
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="stance-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def body_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text
