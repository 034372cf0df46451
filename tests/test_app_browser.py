"""End to end: the real Streamlit server, driven by a real headless Chromium through every page.

Uses Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them when missing) with
the driver given explicitly, so Selenium Manager never downloads anything. Screenshots of every
page go to ``test-output/screenshots/`` (git-ignored). Any browser console error fails the test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1400,2000", "--autoplay-policy=no-user-gesture-required")
WAIT_S = 240.0  # generous: the machine's two cores may be busy training


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tiny_checkpoints: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` on a free port, reading the tiny checkpoints; yields its URL."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {**os.environ, "WORKBENCH_CHECKPOINTS": str(tiny_checkpoints), "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    command = [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "app.py"), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    server_log = log_path.read_text()
    assert "Traceback" not in server_log, server_log[-3000:]


@pytest.fixture()
def browser(tmp_path: Path):
    """A fresh headless Chromium (its own profile), console messages logged."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER"):
            pytest.fail("chromium / chromium-driver are not installed (make test installs them)")
        pytest.skip("chromium / chromium-driver are not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver, condition: Callable, what: str, timeout: float = WAIT_S):
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        # Streamlit re-renders elements while a script runs: a vanished element means "look again".
        return WebDriverWait(driver, timeout, poll_frequency=0.25,
                             ignored_exceptions=(StaleElementReferenceException,)).until(condition)
    except TimeoutException:
        _screenshot(driver, "timeout")
        raise AssertionError(f"timed out waiting for {what} (screenshot: {SCREENSHOTS / 'timeout.png'})") from None


def _css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def _idle(driver) -> bool:
    """The script finished its run: no 'Running...' indicator in the toolbar."""
    return not _css(driver, '[data-testid="stStatusWidget"]')


def _wait_idle(driver, what: str) -> None:
    time.sleep(0.5)  # let the rerun start before asking whether it ended
    _wait(driver, _idle, f"{what} to finish running")


def _click_key(driver, key: str) -> None:
    """Click the button of the widget created with ``key=`` (Streamlit tags its container st-key-<key>)."""
    button = _wait(driver, lambda d: (_css(d, f".st-key-{key} button") or [None])[0], f"button {key}")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def _open_page(driver, url_path: str, title: str) -> None:
    link = _wait(driver, lambda d: (_css(d, f'[data-testid="stSidebarNav"] a[href$="/{url_path}"]') or [None])[0],
                 f"the {title} link")
    link.click()
    _wait(driver, lambda d: any(h.text == title for h in _css(d, "h1")), f"the {title} title")
    _wait_idle(driver, f"the {title} page")


def _plotly_drawn(driver, count: int) -> bool:
    """At least ``count`` plotly charts have drawn their SVG (one chart holds several main-svg layers)."""
    return int(driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .js-plotly-plot')]"
        ".filter(plot => plot.querySelector('.main-svg')).length;")) >= count


def _video_ready(driver) -> bool:
    """The MP4 is decoded: the video element knows its frame size (readyState >= HAVE_CURRENT_DATA)."""
    return bool(driver.execute_script(
        "const v = document.querySelector('video'); return v !== null && v.readyState >= 2 && v.videoWidth > 0;"))


def _screenshot(driver, name: str) -> Path:
    if name != "timeout":
        _wait(driver, _idle, f"the {name} page to finish running")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _console_errors(driver) -> list[str]:
    # Every SEVERE entry counts: nothing is filtered out.
    return [f"{entry['source']}: {entry['message']}" for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE"]


def test_every_page_in_a_real_browser(server: str, browser, tmp_path: Path) -> None:
    driver = browser
    errors: dict[str, list[str]] = {}
    shots = []

    # Robots: the default robot rendered, then a broken upload -> one clear line, no traceback.
    driver.get(server)  # the default page lives at the root URL
    _wait(driver, lambda d: any(h.text == "Robots" for h in _css(d, "h1")), "the Robots page")
    _wait_idle(driver, "the Robots page")
    _wait(driver, lambda d: _plotly_drawn(d, 2) and len(_css(d, '[data-testid="stImage"] img')) >= 2,
          "the robot images and charts")
    upload = _wait(driver, lambda d: next((label for label in _css(d, '[data-testid="stSidebar"] label')
                                          if label.text.strip() == "Upload"), None), "the Upload source")
    upload.click()
    _wait_idle(driver, "switching to upload")
    broken = tmp_path / "broken.xml"
    broken.write_text("<mujoco><worldbody><body name='torso/0'>")
    file_input = _wait(driver, lambda d: (_css(d, '[data-testid="stFileUploaderDropzoneInput"]') or [None])[0],
                       "the file input")
    file_input.send_keys(str(broken))
    alert = _wait(driver, lambda d: (_css(d, '[data-testid="stAlertContentError"]') or [None])[0], "the upload error")
    message = alert.text.strip()
    assert message.startswith("broken.xml: ") and "\n" not in message, message
    assert not _css(driver, '[data-testid="stException"]')
    shots.append(_screenshot(driver, "robots"))
    errors["robots"] = _console_errors(driver)

    # Generate MLP: the HN writes the default robot's MLP; the table, chart and download appear.
    _open_page(driver, "generate-mlp", "Generate MLP")
    _click_key(driver, "generate_mlp")
    _wait(driver, lambda d: _css(d, ".st-key-download_mlp button") and _plotly_drawn(d, 1), "the generated MLP")
    assert "parameters" in _css(driver, '[data-testid="stAlertContentSuccess"]')[0].text
    shots.append(_screenshot(driver, "generate-mlp"))
    errors["generate-mlp"] = _console_errors(driver)

    # Rollout: a short episode of the teacher; the video decodes and both charts are drawn.
    _open_page(driver, "rollout", "Rollout")
    _click_key(driver, "run_rollout")
    _wait(driver, lambda d: _video_ready(d) and _plotly_drawn(d, 1), "the rollout video and chart")
    _wait_idle(driver, "the rollout")
    labels = [m.text for m in _css(driver, '[data-testid="stMetricLabel"]')]
    assert any("Return" in label for label in labels), labels
    shots.append(_screenshot(driver, "rollout"))
    errors["rollout"] = _console_errors(driver)

    # Compare: every shipped policy on this robot, then the suite-level results chart.
    _open_page(driver, "compare", "Compare")
    _wait(driver, lambda d: _plotly_drawn(d, 1), "the results chart")
    _click_key(driver, "run_compare")
    _wait(driver, lambda d: _plotly_drawn(d, 2), "the comparison chart")
    _wait_idle(driver, "the comparison")
    assert len(_css(driver, '[data-testid="stDataFrame"]')) >= 2
    shots.append(_screenshot(driver, "compare"))
    errors["compare"] = _console_errors(driver)

    # Training: the teacher's and the students' curves.
    _open_page(driver, "training", "Training")
    _wait(driver, lambda d: _plotly_drawn(d, 2), "the learning curves")
    shots.append(_screenshot(driver, "training"))
    errors["training"] = _console_errors(driver)

    print("screenshots:", *shots, sep="\n  ")
    assert not any(errors.values()), errors
    assert not _css(driver, '[data-testid="stException"]')
