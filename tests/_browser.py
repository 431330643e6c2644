"""A real headless Chromium for the map and briefing tests, with the network blocked.

``browser()`` yields a selenium Chrome driver on Debian's ``/usr/bin/chromium``
and ``/usr/bin/chromedriver`` with a fresh profile, no background traffic, the
network switched off through the DevTools protocol
(``Network.emulateNetworkConditions(offline=True)``) and every host name mapped
to nothing (``--host-resolver-rules``). ``open_page`` loads a file and waits for
a condition; ``external_requests`` lists what the page tried to fetch.

Tests skip with a clear reason only when no Chromium/chromedriver is installed
(``.ci/run`` installs them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


def _first(paths: tuple[str, ...], name: str) -> str | None:
    for p in paths:
        if os.path.exists(p) and os.access(p, os.X_OK):
            return p
    return shutil.which(name)


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None when either is missing."""
    chrome = _first(CHROMIUM_CANDIDATES, "chromium")
    driver = _first(CHROMEDRIVER_CANDIDATES, "chromedriver")
    if chrome and driver:
        return chrome, driver
    return None


def skip_reason() -> str | None:
    if find_browser() is None:
        return (
            "no headless browser: install Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver; .ci/run does it)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:  # pragma: no cover
        return "selenium is not installed (pip install selenium)"
    return None


requires_browser = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


@contextlib.contextmanager
def browser(*, width: int = 1200, height: int = 900) -> Iterator:
    """A headless Chromium driver with the network blocked; quits and cleans up after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:  # pragma: no cover
        pytest.skip(skip_reason() or "no browser")
    chrome, chromedriver = found
    profile = tempfile.mkdtemp(prefix="geolog-chrome-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-first-run",
        "--disable-quic",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=opts)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
        )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(
    driver, path: str | Path, *, ready_js: str | None = None, timeout_s: float = 15.0
) -> float:
    """Load ``path`` (a local file) and wait until ``ready_js`` returns true; seconds taken."""
    url = Path(path).resolve().as_uri()
    t0 = time.perf_counter()
    driver.get(url)
    if ready_js:
        deadline = t0 + timeout_s
        while not driver.execute_script(f"return !!({ready_js});"):
            if time.perf_counter() > deadline:
                raise AssertionError(f"page {path} not ready after {timeout_s} s: {ready_js}")
            time.sleep(0.02)
    return time.perf_counter() - t0


#: JS condition: Leaflet loaded, a map container initialised and at least one layer drawn.
MAP_READY_JS = (
    "window.L && document.querySelector('.leaflet-container') && "
    "document.querySelector('.leaflet-overlay-pane > *, .leaflet-overlay-pane img')"
)


def external_requests(driver) -> list[str]:
    """URLs the page fetched over a network scheme (resource timing), data: URIs excluded."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name));"
    )
    return [n for n in names if not n.startswith(("data:", "file:", "blob:", "about:"))]


def console_errors(driver) -> list[str]:
    """Browser console entries of level SEVERE (errors), including failed loads."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def screenshot_std(driver) -> float:
    """Standard deviation of the screenshot's grey levels (≈ 0 for a blank page)."""
    import io

    import numpy as np
    from PIL import Image

    png = driver.get_screenshot_as_png()
    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return float(img.std())
