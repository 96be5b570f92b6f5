"""The page at / of `summarize serve`, as a user meets it: a real headless Chromium (Selenium)
against a real server running the trained tiny T5 (its summary is the input's first sentence).

Set SUMMARIZER_SCREENSHOT=docs/web-page.png to save the page, with a summary token hovered, to
that path; a plain run writes nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip(f"needs Chromium at {CHROMIUM} and its driver at {CHROMEDRIVER} (apt-get install chromium "
                "chromium-driver)", allow_module_level=True)
pytest.importorskip("selenium", reason="needs selenium (pip install selenium)")
pytest.importorskip("fastapi", reason="summarize serve needs fastapi, uvicorn and python-multipart")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from helpers import running_server  # noqa: E402
from tiny_t5 import SAMPLES  # noqa: E402

# A paragraph from samples/: four sentences in one window, so the attention is over the document.
TEXT = (SAMPLES / "eval" / "folder" / "library.txt").read_text(encoding="utf-8").strip()
FIRST_SENTENCE = "The city library will open on Sundays from next month for the first time in ten years."
WAIT = 30  # seconds, for anything that runs the model


@pytest.fixture(scope="module")
def server(trained_model_dir) -> str:
    with running_server("--model", trained_model_dir, "--backend", "torch") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium at a 1280x900 viewport; the driver path is given, so Selenium Manager
    (which would go online) never runs."""
    profile = tempfile.mkdtemp(prefix="summarizer-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,900",
                 "--force-prefers-reduced-motion"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    _viewport(driver, 1280, 900)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _viewport(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def _wait(driver, condition, timeout: float = WAIT, message: str = ""):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition, message)


def _open(driver, base: str) -> None:
    """The page, once it has the model's defaults in its controls."""
    driver.get(base + "/")
    _wait(driver, lambda d: d.find_element(By.ID, "max_length").get_attribute("value"), 10,
          "the controls were never filled from /v1/model")


def _set(driver, name: str, value: str) -> None:
    field = driver.find_element(By.ID, name)
    field.clear()
    field.send_keys(value)


def _weights(driver) -> list[int]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#src-tokens .tok')].map(e => Number(e.dataset.w || 0))")


def test_summarize_and_explore_the_cross_attention(server, browser):
    _open(browser, server)
    model = json.loads(urllib.request.urlopen(server + "/v1/model", timeout=10).read())
    defaults = {name: model["settings"][name]["value"] for name in ("max_length", "min_length", "num_beams", "temperature")}
    for name, value in defaults.items():  # the model's own defaults, not the page's
        assert float(browser.find_element(By.ID, name).get_attribute("value")) == value, name
    assert "T5" in browser.find_element(By.ID, "model-line").text

    browser.find_element(By.ID, "text").send_keys(TEXT)
    _set(browser, "min_length", "0")  # the model's min length 30 would force it past the first sentence
    _set(browser, "num_beams", "1")
    browser.find_element(By.ID, "submit").click()

    summary = _wait(browser, lambda d: d.find_element(By.ID, "summary").is_displayed() and d.find_element(By.ID, "summary"),
                    message="no summary appeared")
    assert summary.text == FIRST_SENTENCE
    assert not browser.find_element(By.ID, "error").is_displayed()
    input_tokens = int(browser.find_element(By.ID, "stat-input").text.replace(",", ""))
    summary_tokens = int(browser.find_element(By.ID, "stat-summary").text.replace(",", ""))
    assert input_tokens > summary_tokens > 0
    ratio = browser.find_element(By.ID, "stat-ratio").text
    assert re.fullmatch(r"\d+(\.\d+)?×", ratio), ratio
    assert float(ratio[:-1]) == pytest.approx(input_tokens / summary_tokens, abs=0.01)
    assert re.fullmatch(r"\d+\.\d+ s", browser.find_element(By.ID, "stat-time").text)

    # The attention view: a token per summary piece (and </s>), the mean of layers and heads first.
    _wait(browser, lambda d: d.find_element(By.ID, "src-tokens").get_attribute("data-view") == "/",
          message="the attention rows never arrived")
    assert "the document" in browser.find_element(By.ID, "attn-over").text
    tokens = browser.find_elements(By.CSS_SELECTOR, "#sum-tokens .tok")
    assert len(tokens) == summary_tokens + 1 and tokens[-1].text == "</s>"
    shown = browser.find_element(By.ID, "sum-tokens").get_attribute("textContent")
    assert shown == FIRST_SENTENCE + "</s>", "pieces read as text: word-start marks become spaces"
    assert not browser.find_elements(By.CSS_SELECTOR, "#src-tokens .tok.lit")

    hovered = tokens[2]
    ActionChains(browser).move_to_element(hovered).perform()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#src-tokens .tok.lit"), 5, "hovering lit no source token")
    assert hovered.get_attribute("aria-selected") == "true"
    lit = browser.find_elements(By.CSS_SELECTOR, "#src-tokens .tok.lit")
    background = browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor", lit[0])
    alpha = re.findall(r"[\d.]+", background)
    assert len(alpha) == 4 and float(alpha[3]) > 0, background  # rgba(r, g, b, weight)
    mean = _weights(browser)
    assert max(mean) == 255, "the row is scaled to its largest weight"
    assert browser.find_element(By.ID, "top").text.startswith("Token 3 ")
    assert browser.execute_script("return window.scrollY") == 0, "hovering must not move the page"
    if os.environ.get("SUMMARIZER_SCREENSHOT"):
        path = Path(os.environ["SUMMARIZER_SCREENSHOT"])
        path.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(path))

    # Another layer and head: fetched, and drawn for the same token.
    Select(browser.find_element(By.ID, "layer")).select_by_value("1")
    _wait(browser, lambda d: d.find_element(By.ID, "src-tokens").get_attribute("data-view") == "1/", 10)
    Select(browser.find_element(By.ID, "head")).select_by_value("2")
    _wait(browser, lambda d: d.find_element(By.ID, "src-tokens").get_attribute("data-view") == "1/2", 10)
    one_head = _weights(browser)
    assert max(one_head) == 255 and one_head != mean
    assert hovered.get_attribute("aria-selected") == "true"

    # The keyboard: focus works like hover, arrow keys move it.
    hovered.send_keys(Keys.ARROW_RIGHT)
    _wait(browser, lambda d: tokens[3].get_attribute("aria-selected") == "true", 5, "ArrowRight did not move")
    assert browser.switch_to.active_element == tokens[3]
    assert browser.find_element(By.ID, "top").text.startswith("Token 4 ")
    assert _weights(browser) != one_head
    tokens[3].send_keys(Keys.ESCAPE)
    _wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#src-tokens .tok.lit"), 5, "Esc did not clear")

    # A phone's width: nothing wider than the screen.
    _viewport(browser, 390, 844)
    try:
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        _viewport(browser, 1280, 900)


def test_an_empty_text_shows_the_servers_one_line_error(server, browser):
    request = urllib.request.Request(server + "/v1/summarize", data=b'{"text": ""}',
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 422
    line = json.loads(refused.value.read())["error"]

    _open(browser, server)
    browser.find_element(By.ID, "submit").click()
    error = _wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed() and d.find_element(By.ID, "error"), 10)
    assert error.text == line
    assert error.get_attribute("role") == "alert"
    assert not browser.find_element(By.ID, "output").is_displayed()
    assert not browser.find_element(By.ID, "attn").is_displayed()
    assert browser.find_element(By.ID, "submit").is_enabled()


def test_a_dropped_or_chosen_file_is_uploaded(server, browser, tmp_path):
    upload = tmp_path / "library.txt"
    upload.write_text(TEXT, encoding="utf-8")
    _open(browser, server)
    _set(browser, "min_length", "0")
    _set(browser, "num_beams", "1")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    assert "library.txt" in browser.find_element(By.ID, "file-name").text
    assert not browser.find_element(By.ID, "text").is_enabled()
    started = time.monotonic()
    browser.find_element(By.ID, "submit").click()
    _wait(browser, lambda d: d.find_element(By.ID, "summary").is_displayed() or d.find_element(By.ID, "error").is_displayed())
    assert not browser.find_element(By.ID, "error").is_displayed(), browser.find_element(By.ID, "error").text
    assert browser.find_element(By.ID, "summary").text == FIRST_SENTENCE
    assert time.monotonic() - started < WAIT


@pytest.fixture(scope="module")
def keyed(trained_model_dir) -> str:
    """A server that needs a key, with limits below the page's own bounds."""
    with running_server("--model", trained_model_dir, "--backend", "torch", "--num-beams", 1, "--max-length", 60, "--max-new-tokens", 100,
                        "--max-beams", 2, "--chunk-max-length", 100, env={"SUMMARIZER_API_KEY": "page-key"}) as base:
        yield base


def test_the_page_asks_for_the_key_once_and_keeps_within_the_limits(keyed, browser):
    browser.get(keyed + "/")
    form = _wait(browser, lambda d: d.find_element(By.ID, "key-form").is_displayed() and d.find_element(By.ID, "key-form"),
                 10, "the page never asked for the key")
    assert "needs an API key" in browser.find_element(By.ID, "model-line").text
    browser.find_element(By.ID, "api-key").send_keys("wrong-key", Keys.ENTER)
    _wait(browser, lambda d: d.find_element(By.ID, "key-error").is_displayed(), 10, "a wrong key was not said")
    assert browser.find_element(By.ID, "key-error").text == "the API key was not accepted"
    browser.find_element(By.ID, "api-key").send_keys("page-key", Keys.ENTER)
    _wait(browser, lambda d: d.find_element(By.ID, "max_length").get_attribute("value"), 10, "the key was not used")
    assert not form.is_displayed()
    assert browser.find_element(By.ID, "max_length").get_attribute("max") == "100"
    assert browser.find_element(By.ID, "num_beams").get_attribute("max") == "2"
    assert browser.find_element(By.ID, "limits-line").text == "This server allows at most 100 tokens and 2 beams."

    browser.find_element(By.ID, "text").send_keys(TEXT)
    _set(browser, "min_length", "0")
    _set(browser, "num_beams", "9")
    browser.find_element(By.ID, "attention").click()  # off: the summary is what this test is about
    browser.find_element(By.ID, "submit").click()
    _wait(browser, lambda d: d.find_element(By.ID, "summary").is_displayed() or d.find_element(By.ID, "error").is_displayed())
    assert not browser.find_element(By.ID, "error").is_displayed(), browser.find_element(By.ID, "error").text
    assert browser.find_element(By.ID, "summary").text == FIRST_SENTENCE
    assert browser.find_element(By.ID, "num_beams").get_attribute("value") == "2", "kept within the server's limit"

    browser.refresh()  # the key is kept for the tab
    _wait(browser, lambda d: d.find_element(By.ID, "max_length").get_attribute("value"), 10, "the kept key was not used")
    assert not browser.find_element(By.ID, "key-form").is_displayed()
