import os
os.environ.setdefault('AIDD_NO_PROGRESS', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

import re, shutil, tempfile
from pathlib import Path
import pytest

# Executed notebooks of this test session (tests/test_notebooks.py writes them, tests/test_site.py renders them)
_OWN_EXECUTED = 'AIDD_EXECUTED_NBS' not in os.environ
EXECUTED = Path(os.environ.setdefault('AIDD_EXECUTED_NBS', tempfile.mkdtemp(prefix='aidd_executed_')))

def pytest_sessionfinish(session):
    """The session's executed notebooks go when it ends (unless AIDD_EXECUTED_NBS named a folder to keep). Under
    pytest-xdist the workers inherit the folder from the controller, which removes it once they are done."""
    if _OWN_EXECUTED and not hasattr(session.config, 'workerinput'): shutil.rmtree(EXECUTED, ignore_errors=True)

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


# An absolute path: a slash not preceded by a word, a dot, a colon (URLs) or another path character, then at least
# two folder or file names (one name alone, like '/lab/', is a URL part or a pattern, not a place on a machine).
ABS_PATH = re.compile(r'(?<![\w.:/~\-\]\)}>$@])(?:/[A-Za-z0-9_.\-]+){2,}/?')
# Where an absolute path names no machine of ours: the system (read by the code, or in a shell line) and the example
# folders the tutorials tell a user to replace with their own.
SYSTEM_PATHS = ('/proc/', '/sys/', '/dev/', '/usr/', '/bin/', '/etc/')
EXAMPLE_PATHS = ('/data/', '/shared/')

def machine_paths(text:str) -> list:
    "The absolute paths in `text` that would name a machine's own folders (home, work, temporary, anything else)."
    return [m.group(0) for m in ABS_PATH.finditer(text)
            if not m.group(0).startswith(SYSTEM_PATHS + EXAMPLE_PATHS)]
