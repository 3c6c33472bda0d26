import os
os.environ.setdefault('AIDD_NO_PROGRESS', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

import shutil
import pytest

BROWSERS = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable')

def find_browser():
    "(browser binary, chromedriver) found on PATH (or $CHROMEWEBDRIVER, as on GitHub runners), or None for each."
    b = next((shutil.which(n) for n in BROWSERS if shutil.which(n)), None)
    d = shutil.which('chromedriver')
    if d is None and os.environ.get('CHROMEWEBDRIVER'): d = shutil.which('chromedriver', path=os.environ['CHROMEWEBDRIVER'])
    return b, d

def headless_chrome(purpose:str, window:str):
    """Yield a headless Chromium driver (browser console logged); skip when none can run — fail instead under
    AIDD_REQUIRE_BROWSER=1 (CI)."""
    binary, drv = find_browser()
    try: from selenium import webdriver
    except ImportError: webdriver = None
    if not (binary and drv and webdriver):
        msg = f'no browser for {purpose} (browser {binary}, chromedriver {drv}, selenium {webdriver is not None})'
        if os.environ.get('AIDD_REQUIRE_BROWSER') == '1': pytest.fail(msg)
        pytest.skip(msg)
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
              '--disable-background-networking', '--disable-component-update', '--disable-sync', f'--window-size={window}'):
        o.add_argument(a)
    o.binary_location = binary
    o.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(drv), options=o)
    yield d
    d.quit()
