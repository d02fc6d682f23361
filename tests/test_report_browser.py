"""A real browser opens the demo report: every image decodes and the page logs no errors."""

import shutil

import pytest

from nmfkit.cli import main

pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")


def _driver():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.skip("headless Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=options)


def test_demo_report_renders_in_chromium(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quiet", "--max-iter", "60"]) == 0
    driver = _driver()
    try:
        driver.get((out / "report.html").resolve().as_uri())
        widths = driver.execute_script(
            "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : -1);")
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    finally:
        driver.quit()
    assert len(widths) >= 3
    assert all(w > 0 for w in widths), widths
    assert errors == []
