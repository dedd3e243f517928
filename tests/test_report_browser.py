"""`xlner report` in a real browser: headless Debian chromium driven by Selenium through the system chromedriver.

Real data: the first 100 Europarl-NER en/de sentences, aligned by eflomal,
projected with `xlner project --details`, reported with `--gold`. Outside CI
the test skips when chromium, chromedriver or selenium is missing; under
CI=true it fails instead (.ci/run installs them).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.io import read_conll, write_conll, write_pharaoh

pytestmark = pytest.mark.slow  # left out of the fast loop (CONTRIBUTING.md)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
N = 100
runner = CliRunner()


def _need(condition: bool, why: str) -> None:
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {why}")
    pytest.skip(why)


@pytest.fixture()
def browser(tmp_path: Path):
    """A headless chromium session with a fresh profile in tmp_path."""
    _need(
        os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK),
        f"{CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)",
    )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _need(False, "selenium is not installed (pip install selenium, in the dev extra)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


@pytest.fixture()
def report(shared_data: Path, tmp_path: Path) -> dict[str, Path]:
    """details.jsonl and report.html of N real Europarl-NER en->de sentences (eflomal alignment, `xlner project`)."""
    from xlner.registry import registry

    sentences = {
        lang: read_conll(shared_data / "europarl-ner" / f"{lang}.test.conll").sentences[:N] for lang in ("en", "de")
    }
    paths = {lang: tmp_path / f"{lang}.conll" for lang in sentences}
    for lang, path in paths.items():
        write_conll(path, sentences[lang])
    aligner = registry.aligners.create("eflomal", seed=0)
    alignments = aligner.align([(s.tokens, t.tokens) for s, t in zip(sentences["en"], sentences["de"])])
    write_pharaoh(tmp_path / "align.txt", alignments)
    paths["details"], paths["html"] = tmp_path / "details.jsonl", tmp_path / "report.html"
    result = runner.invoke(
        app,
        [
            "project",
            "-s",
            str(paths["en"]),
            "-t",
            str(paths["de"]),
            "--alignment",
            str(tmp_path / "align.txt"),
            "-o",
            str(tmp_path / "out.conll"),
            "--details",
            str(paths["details"]),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["report", str(paths["details"]), "-o", str(paths["html"]), "--gold", str(paths["de"])])
    assert result.exit_code == 0, result.output
    return paths


def _count(driver, element_id: str) -> int:
    return int(driver.find_element("id", element_id).text)


def test_report_counts_and_label_filter_in_chromium(report, browser, tmp_path):
    from selenium.webdriver.support.ui import Select

    records = [json.loads(line) for line in report["details"].read_text(encoding="utf-8").splitlines()]
    gold = read_conll(report["de"]).sentences
    assert len(records) == N
    browser.get(report["html"].resolve().as_uri())
    n_spans = sum(len(r["spans"]) for r in records)
    assert n_spans > 20  # eflomal linked enough for a real projection
    assert (_count(browser, "count-sentences"), _count(browser, "total-sentences")) == (N, N)
    assert (_count(browser, "count-spans"), _count(browser, "total-spans")) == (n_spans, n_spans)
    assert len(browser.find_elements("css selector", "#sentences .pair")) == 50  # one page
    assert browser.find_element("id", "page-count").text == "2"
    assert len(browser.find_elements("css selector", "#sentences svg.links line")) > 100  # alignment links drawn
    assert browser.find_elements("css selector", "#metrics tbody tr")  # per-label scores from the gold
    assert browser.find_elements("css selector", "mark.fp") or browser.find_elements("css selector", "mark.fn")

    label = "PER"
    Select(browser.find_element("id", "filter-label")).select_by_value(label)

    def has(record, g) -> bool:
        return (
            any(s["label"] == label for s in record["spans"])
            or any(e[2] == label for e in record["src_spans"])
            or any(s.label == label for s in g.spans)
        )

    expected = [r for r, g in zip(records, gold) if has(r, g)]
    expected_spans = sum(1 for r in expected for s in r["spans"] if s["label"] == label)
    assert 0 < len(expected) < N and 0 < expected_spans < n_spans
    assert _count(browser, "count-sentences") == len(expected)
    assert _count(browser, "count-spans") == expected_spans
    assert _count(browser, "total-sentences") == N
    shown = browser.find_elements("css selector", "#sentences .pair")
    assert len(shown) == min(len(expected), 50)
    assert all(label in pair.text for pair in shown)

    browser.find_element("id", "filter-errors").click()  # PER errors only: false positives or missed gold PER
    errors = [
        r
        for r, g in zip(expected, [g for r, g in zip(records, gold) if has(r, g)])
        if {(s["start"], s["end"]) for s in r["spans"] if s["label"] == label}
        != {(s.start, s.end) for s in g.spans if s.label == label}
    ]
    assert _count(browser, "count-sentences") == len(errors) < len(expected)

    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
