"""The page at / of `summarize serve`, as a user meets it: a real headless Chromium (Selenium)
against a real server running the trained tiny T5 (its summary is the input's first sentence).

Set SUMMARIZER_SCREENSHOT=docs/web-page.png to save the page, with the summary sentence selected
(its source lit) and a summary token hovered, to that path; a plain run writes nothing.
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


def _paste(driver, text: str) -> None:
    """Text into the box as a paste puts it: ChromeDriver cannot type characters beyond the BMP."""
    driver.execute_script("const box = arguments[0]; box.value = arguments[1]; box.dispatchEvent(new Event('input'))",
                          driver.find_element(By.ID, "text"), text)


def _sentences(driver) -> list[str]:
    """The summary as the page shows it: a row per sentence (when the record has evidence)."""
    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#summary .sent-text")]


def _summarize(driver, text: str, *, truncate: bool = False) -> None:
    """Paste `text` and summarize it greedily without the attention view (not what these tests
    look at); `truncate` reads only the model's first window (the test's text is longer)."""
    _paste(driver, text)
    _set(driver, "min_length", "0")
    _set(driver, "num_beams", "1")
    driver.find_element(By.ID, "attention").click()
    if truncate:
        driver.find_element(By.CSS_SELECTOR, "details.more summary").click()
        Select(driver.find_element(By.ID, "strategy")).select_by_value("truncate")
    driver.find_element(By.ID, "submit").click()
    _wait(driver, lambda d: d.find_element(By.ID, "evid").is_displayed() or d.find_element(By.ID, "error").is_displayed(),
          message="no evidence appeared")
    assert not driver.find_element(By.ID, "error").is_displayed(), driver.find_element(By.ID, "error").text


def _lit(driver) -> list[str]:
    return [mark.text for mark in driver.find_elements(By.CSS_SELECTOR, "#evid-source mark.lit")]


def _in_view(driver, pane, element) -> bool:
    """Whether `element` lies within what `pane` shows (its scrolled box), top and bottom."""
    return driver.execute_script("""
        const pane = arguments[0].getBoundingClientRect(), box = arguments[1].getBoundingClientRect();
        return box.top >= pane.top && box.bottom <= pane.bottom && box.height > 0;""", pane, element)


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

    _wait(browser, lambda d: d.find_element(By.ID, "summary").is_displayed(), message="no summary appeared")
    assert _sentences(browser) == [FIRST_SENTENCE]
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

    browser.find_element(By.CSS_SELECTOR, "#summary .sent").click()  # its source lit too, for the screenshot
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
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # the whole page, attention card included
                                {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False})
        browser.save_screenshot(str(path))
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

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
    assert _sentences(browser) == [FIRST_SENTENCE]
    assert browser.find_element(By.ID, "evid-source").text == TEXT, "the upload's text as read, from the server"
    assert time.monotonic() - started < WAIT


def test_an_uploaded_pdf_cites_its_pages(server, browser, tmp_path):
    """A PDF goes through the same readers: the evidence names the page its source is on,
    and coverage counts pages."""
    from test_readers import make_pdf

    sentences = re.findall(r"[^.]+\.", " ".join(TEXT.split()))
    upload = tmp_path / "library.pdf"
    upload.write_bytes(make_pdf(["\n".join(s.strip() for s in sentences[:2]), "\n".join(s.strip() for s in sentences[2:])]))
    _open(browser, server)
    _set(browser, "min_length", "0")
    _set(browser, "num_beams", "1")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    browser.find_element(By.ID, "submit").click()
    _wait(browser, lambda d: d.find_element(By.ID, "summary").is_displayed() or d.find_element(By.ID, "error").is_displayed())
    assert not browser.find_element(By.ID, "error").is_displayed(), browser.find_element(By.ID, "error").text
    assert _sentences(browser) == [FIRST_SENTENCE]
    assert browser.find_element(By.ID, "grounding").text == "1 of 1 sentence supported · draws on 1 of 2 pages"
    browser.find_element(By.CSS_SELECTOR, "#summary .sent").click()
    assert browser.find_element(By.ID, "evid-focus").text == "Sentence 1 is supported (1.00) by page 1."
    assert _lit(browser) == [FIRST_SENTENCE]


def test_a_summary_sentence_lights_up_its_source_sentence(server, browser):
    _open(browser, server)
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": server, "permissions": ["clipboardReadWrite",
                                                                                          "clipboardSanitizedWrite"]})
    _summarize(browser, TEXT)
    [sentence] = browser.find_elements(By.CSS_SELECTOR, "#summary .sent")
    badge = sentence.find_element(By.CSS_SELECTOR, ".badge")
    assert badge.get_attribute("aria-label") == "supported by the source, score 1.00"
    assert badge.text == "\u2713 1.00"
    assert _sentences(browser) == [FIRST_SENTENCE] and not sentence.find_elements(By.CSS_SELECTOR, "u")
    assert browser.find_element(By.ID, "grounding").text == "1 of 1 sentence supported · draws on 1 of 5 fifths"
    pane = browser.find_element(By.ID, "evid-source")
    assert pane.text == TEXT
    assert [mark.text for mark in pane.find_elements(By.CSS_SELECTOR, "mark.cited")] == [FIRST_SENTENCE]
    assert not _lit(browser)

    sentence.click()
    assert _lit(browser) == [FIRST_SENTENCE]
    assert sentence.get_attribute("aria-selected") == "true"
    assert browser.find_element(By.ID, "evid-focus").text == "Sentence 1 is supported (1.00) by line 1."
    assert browser.execute_script("return window.scrollY") == 0, "selecting must not move the page"
    sentence.send_keys(Keys.ESCAPE)
    assert not _lit(browser) and sentence.get_attribute("aria-selected") == "false"

    # The keyboard alone: Tab from the button reaches the sentence, and focus selects it.
    browser.execute_script("arguments[0].focus()", browser.find_element(By.ID, "submit"))
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element == sentence
    assert _lit(browser) == [FIRST_SENTENCE]
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    assert not _lit(browser)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert _lit(browser) == [FIRST_SENTENCE]
    ActionChains(browser).send_keys(Keys.ESCAPE, Keys.SPACE).perform()
    assert _lit(browser) == [FIRST_SENTENCE]

    browser.find_element(By.ID, "copy").click()  # the plain summary, not its badge
    copied = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0], (e) => arguments[0](String(e)))")
    assert copied == FIRST_SENTENCE


def test_a_length_in_words_replaces_the_one_in_tokens(server, browser):
    """Max words under More settings: the request asks for words, not also for tokens (the
    server would refuse both), and the summary is cut back to whole words."""
    _open(browser, server)
    browser.find_element(By.CSS_SELECTOR, "details.more summary").click()
    _set(browser, "max_words", "4")
    _summarize(browser, TEXT)
    assert _sentences(browser) == [" ".join(FIRST_SENTENCE.split()[:4])]


def test_an_emoji_before_the_cited_sentence_does_not_shift_it(server, browser):
    """The server's spans count code points, JavaScript's strings UTF-16 units: the emoji in the
    heading is one of the first and two of the second. The document is longer than its pane."""
    others = "\n\n".join((SAMPLES / "eval" / "folder" / f"{name}.txt").read_text(encoding="utf-8").strip()
                          for name in ("bridge", "flood", "bridge", "flood"))
    text = f"Library news \U0001F4DA\n\n{TEXT}\n\n{others}"
    _open(browser, server)
    _summarize(browser, text, truncate=True)
    assert _sentences(browser) == [FIRST_SENTENCE]
    pane = browser.find_element(By.ID, "evid-source")
    assert pane.get_attribute("textContent") == text
    browser.execute_script("arguments[0].scrollTop = arguments[0].scrollHeight", pane)
    [cited] = pane.find_elements(By.CSS_SELECTOR, "mark.cited")
    assert not _in_view(browser, pane, cited), "the pane scrolls: its end is far from the cited sentence"

    browser.find_element(By.CSS_SELECTOR, "#summary .sent").click()
    assert _lit(browser) == [FIRST_SENTENCE]
    assert _in_view(browser, pane, cited), "the pane scrolled back to the lit sentence"
    assert browser.find_element(By.ID, "evid-focus").text == "Sentence 1 is supported (1.00) by line 3."


def test_an_invented_sentence_is_flagged_and_its_new_words_underlined(server, browser):
    """The trained model writes, for samples/short.txt, a sentence of the text it was trained on."""
    _open(browser, server)
    _summarize(browser, (SAMPLES / "short.txt").read_text(encoding="utf-8"), truncate=True)
    [sentence] = browser.find_elements(By.CSS_SELECTOR, "#summary .sent")
    badge = sentence.find_element(By.CSS_SELECTOR, ".badge")
    assert badge.get_attribute("aria-label").startswith("not supported by the source, score ")
    assert badge.text.startswith("?")
    underlined = [u.text for u in sentence.find_elements(By.CSS_SELECTOR, ".sent-text u.miss")]
    assert underlined and all(word.lower() in sentence.text.lower() for word in underlined)
    assert browser.find_element(By.ID, "grounding").text.startswith("0 of 1 sentence supported")

    sentence.click()
    said = browser.find_element(By.ID, "evid-focus").text
    assert said.startswith("Sentence 1 is not supported") and "Not in the source: " in said
    assert all(word in said for word in underlined)


@pytest.fixture(scope="module")
def extractive() -> str:
    """A server without a model: `lead` picks a text's first three sentences, each its own evidence."""
    with running_server("--method", "lead", "--sentences", 3) as base:
        yield base


def test_arrow_keys_move_between_the_summary_sentences(extractive, browser):
    _open(browser, extractive)
    _summarize(browser, (SAMPLES / "short.txt").read_text(encoding="utf-8"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#summary .sent")
    sentences = _sentences(browser)
    assert len(rows) == len(sentences) == 3
    assert browser.find_element(By.ID, "grounding").text.startswith("3 of 3 sentences supported · draws on ")
    rows[0].click()
    for n in range(3):
        assert _lit(browser) == [sentences[n]], n
        assert browser.switch_to.active_element == rows[n]
        assert [row.get_attribute("aria-selected") for row in rows].count("true") == 1
        ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
    assert _lit(browser) == [sentences[2]], "the last sentence stays selected"
    ActionChains(browser).send_keys(Keys.HOME).perform()
    assert _lit(browser) == [sentences[0]] and browser.switch_to.active_element == rows[0]
    ActionChains(browser).send_keys(Keys.END, Keys.ARROW_UP).perform()
    assert _lit(browser) == [sentences[1]]
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    assert not _lit(browser)


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
    assert _sentences(browser) == [FIRST_SENTENCE]
    assert browser.find_element(By.ID, "num_beams").get_attribute("value") == "2", "kept within the server's limit"

    browser.refresh()  # the key is kept for the tab
    _wait(browser, lambda d: d.find_element(By.ID, "max_length").get_attribute("value"), 10, "the kept key was not used")
    assert not browser.find_element(By.ID, "key-form").is_displayed()
