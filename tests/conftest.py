import os

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (never `playwright install`)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("GLASSNET_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing; the test command installs it with apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is not installed (the README's test command installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright drives the browser")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield instance
        instance.close()
