"""The documentation site in a real browser: build it offline (the home page and the dashboard page, executed — by
tests/test_notebooks.py earlier in the session when it ran, else here), serve
it on localhost, open it in headless Chromium, and check that the pages load without console errors and that every
image on them is decoded (naturalWidth > 0). Screenshots go to docs/_build/screenshots/.

Chromium and its driver come from the distribution (Debian: `apt-get install chromium chromium-driver`; `make test`
installs them when it can). Without a browser the test is skipped — unless AIDD_REQUIRE_BROWSER=1 (as in `.ci/run`),
where a missing browser is a failure.
"""
import functools, http.server, os, socketserver, subprocess, sys, threading, time
from pathlib import Path
import pytest
from conftest import EXECUTED, headless_chrome, machine_paths

pytestmark = pytest.mark.xdist_group('site')   # module fixtures: one worker runs the module (make test: -n 2)

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT/'docs'/'_build'/'screenshots'

@pytest.fixture(scope='module')
def driver():
    yield from headless_chrome('the site test', '1400,1800')

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "Build the site with the home page and the executed dashboard page; serve it on a free localhost port."
    tmp = tmp_path_factory.mktemp('site')
    env = dict(os.environ, AIDD_NO_PROGRESS='1', MPLBACKEND='Agg')
    # the dashboard page as tests/test_notebooks.py executed it in this session; run here only when it has not
    reuse = ['--executed', str(EXECUTED)] if (EXECUTED/'50_dashboard.plots.ipynb').is_file() else []
    r = subprocess.run([sys.executable, str(ROOT/'docs'/'build.py'), '--pages', '50_dashboard.plots', *reuse,
                        '--build', str(tmp/'build'), '--site', str(tmp/'site')], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp/'site'))
    handler.log_message = lambda *a: None
    srv = socketserver.ThreadingTCPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown(); srv.server_close()

def _visit(driver, url, name, min_images):
    driver.get(url)
    for _ in range(50):                                         # wait until the page and its images are loaded
        done = driver.execute_script("return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)")
        if done: break
        time.sleep(0.2)
    imgs = driver.execute_script("return Array.from(document.images).map(i => [i.src.slice(0, 80), i.naturalWidth])")
    errors = [l for l in driver.get_log('browser') if l['level'] == 'SEVERE']
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS/f'{name}.png'))
    if imgs:
        driver.execute_script("document.images[0].scrollIntoView()")
        time.sleep(0.3); driver.save_screenshot(str(SHOTS/f'{name}_figure.png'))
    assert not errors, f'{url}: console errors {errors}'
    assert len(imgs) >= min_images, f'{url}: {len(imgs)} images, expected at least {min_images}'
    broken = [src for src, w in imgs if not w]
    assert not broken, f'{url}: images that did not decode: {broken}'
    # executed outputs must not show where the build ran (temporary folders, home directories)
    paths = machine_paths(driver.find_element('tag name', 'body').text)
    assert not paths, f'{url}: absolute machine paths on the page: {paths[:5]}'
    return imgs

def test_home_page(site, driver):
    _visit(driver, site + '/', 'home', min_images=1)
    assert driver.title.startswith('aidd-train')
    assert 'aidd_optimize' in driver.page_source and 'make demo' in driver.page_source

def test_dashboard_page(site, driver):
    imgs = _visit(driver, site + '/50_dashboard.plots/', 'dashboard', min_images=5)
    assert all(src.startswith('data:image/png') for src, _ in imgs)       # the static figures the notebook drew
    assert 'the core conflict' in driver.page_source.lower()                # the first of the three pillars
