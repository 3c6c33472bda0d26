"""The optimizer dashboard in JupyterLab, in a real browser: start `jupyter lab` (a free localhost port, a token) in a
temporary folder holding a small notebook that displays `OptimizerDashboard` for the profile shipped with the package,
open it in headless Chromium, run it, show the search tab, move the replay slider, and check that the surrogate image
changes, that the line beside the slider follows, and that the browser console has no errors. No search runs: the
replay refits the surrogate from the profile's recorded history. Screenshots go to docs/_build/screenshots/.

The browser is found as in tests/test_site.py (Chromium and its driver from the distribution; `make test` installs
them when it can). Without one the test is skipped — unless AIDD_REQUIRE_BROWSER=1 (as in `.ci/run`), where a missing
browser is a failure.
"""
import json, os, secrets, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest
from conftest import headless_chrome

pytestmark = pytest.mark.xdist_group('lab')   # module fixtures: one worker runs the module (make test: -n 2)

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT/'docs'/'_build'/'screenshots'
STAGE = 'prototyping'
CELL = f"""from aidd_train.config import sample_profile
from aidd_train.dashboard.widgets import OptimizerDashboard, show
dash = OptimizerDashboard(sample_profile(), stage={STAGE!r})
show(dash)"""
IMAGES = "Array.from(document.querySelectorAll('.jp-OutputArea-output img.widget-image'))"
DIGEST = """const done = arguments[arguments.length - 1];
const img = %s[arguments[0]];
if (!img || !img.src) { done(null); return; }
fetch(img.src).then(r => r.arrayBuffer()).then(b => {
  const a = new Uint8Array(b); let h = 0;
  for (let i = 0; i < a.length; i++) h = (h * 31 + a[i]) | 0;
  done([a.length, h, img.naturalWidth, img.width]);
}).catch(e => done(String(e)));""" % IMAGES

def _evaluations(stage:str) -> int:
    "How many evaluations the shipped profile records for `stage`: the replay slider's last step."
    from aidd_train.config import sample_profile
    return len(json.loads(sample_profile().read_text(encoding='utf-8'))['search'][stage]['history'])

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

@pytest.fixture(scope='module')
def driver():
    yield from headless_chrome('the JupyterLab test', '1500,1500')

def _notebook(folder:Path) -> Path:
    "A one-cell notebook that displays the optimizer dashboard for the shipped profile."
    nb = dict(nbformat=4, nbformat_minor=5, cells=[dict(cell_type='code', id='dashboard', metadata={}, execution_count=None,
                                                         outputs=[], source=CELL)],
              metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python')))
    path = folder/'dashboard.ipynb'
    path.write_text(json.dumps(nb), encoding='utf-8')
    return path

@pytest.fixture(scope='module')
def lab(tmp_path_factory, driver):
    "`jupyter lab` on a free localhost port with a token, in a temporary folder with the notebook; its URL."
    tmp = tmp_path_factory.mktemp('lab')
    (tmp/'work').mkdir()
    _notebook(tmp/'work')
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp/'config'), JUPYTER_RUNTIME_DIR=str(tmp/'runtime'),
               AIDD_NO_PROGRESS='1', MPLBACKEND='Agg', OMP_NUM_THREADS='1')
    env.pop('AIDD_STATIC_FIGURES', None)
    settings = tmp/'settings'/'@jupyterlab'/'apputils-extension'
    settings.mkdir(parents=True)
    (settings/'notification.jupyterlab-settings').write_text('{"fetchNews": "false"}')     # no news prompt (offline)
    cmd = [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
           f'--ServerApp.token={token}', f'--ServerApp.root_dir={tmp/"work"}', '--LabApp.news_url=',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
           f'--LabApp.user_settings_dir={tmp/"settings"}', f'--LabApp.workspaces_dir={tmp/"workspaces"}']
    if hasattr(os, 'geteuid') and os.geteuid() == 0: cmd.append('--allow-root')
    log = open(tmp/'lab.log', 'w')
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    try:
        for _ in range(240):
            if proc.poll() is not None: pytest.fail(f'jupyter lab exited: {(tmp/"lab.log").read_text()[-2000:]}')
            try:
                urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={token}', timeout=2)
                break
            except OSError: time.sleep(0.25)
        else: pytest.fail(f'jupyter lab did not answer in 60 s: {(tmp/"lab.log").read_text()[-2000:]}')
        yield f'http://127.0.0.1:{port}/lab/tree/dashboard.ipynb?token={token}&reset'
    finally:
        proc.terminate()
        try: proc.wait(timeout=30)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()

def _wait(driver, script:str, what:str, timeout:float=60.0, *args):
    "Poll a JavaScript expression until it is truthy; fail naming `what` (with a screenshot) after `timeout` seconds."
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script, *args)
        if value: return value
        time.sleep(0.25)
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS/'lab_timeout.png'))
    pytest.fail(f'timed out after {timeout:.0f} s waiting for {what} (screenshot: lab_timeout.png)')

def _digest(driver, i:int):
    "(bytes, a hash of them, natural width, shown width) of the dashboard's i-th figure image (memory, time, search, profile)."
    return driver.execute_async_script(DIGEST, i)

def _kernel_idle(url:str) -> bool:
    "The notebook's kernel is started and idle (the server's sessions API)."
    base, token = url.split('/lab/')[0], url.split('token=')[1].split('&')[0]
    with urllib.request.urlopen(f'{base}/api/sessions?token={token}', timeout=5) as r: sessions = json.load(r)
    return any(s['kernel'] and s['kernel'].get('execution_state') == 'idle' for s in sessions)

def _run_notebook(driver, url:str):
    "Open the notebook, once its kernel is idle run its cell, and wait for the dashboard's first figure."
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    driver.get(url)
    _wait(driver, "return document.querySelector('.jp-Notebook .jp-Cell .cm-content')", 'the notebook', 60)
    end = time.monotonic() + 60
    while not _kernel_idle(url) and time.monotonic() < end: time.sleep(0.25)
    cell = driver.find_element(By.CSS_SELECTOR, '.jp-Notebook .jp-Cell .cm-content')
    ActionChains(driver).click(cell).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    _wait(driver, f"const i = {IMAGES}; return i.length === 4 && i[0].naturalWidth > 0", 'the dashboard', 120)

def test_replay_slider_in_lab(lab, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    t0 = time.monotonic()
    _run_notebook(driver, lab)
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS/'lab_dashboard.png'))
    tab = next(t for t in driver.find_elements(By.CSS_SELECTOR, '.lm-TabBar-tab') if t.text.strip() == 'search')
    tab.click()
    _wait(driver, f"return {IMAGES}[2].naturalWidth > 0", 'the search tab', 60)
    before = _digest(driver, 2)
    slider = driver.find_element(By.CSS_SELECTOR, '.widget-slider .noUi-handle')
    slider.click()
    n = _evaluations(STAGE)
    assert n >= 2, n
    slider.send_keys(Keys.ARROW_LEFT)                                  # n → n - 1: the search one evaluation before its end
    _wait(driver, f"return document.body.innerText.includes('step {n - 1} of {n}')", 'the replay line', 60)
    after, end = _digest(driver, 2), time.monotonic() + 60
    while after[:2] == before[:2] and time.monotonic() < end:            # the line comes first, then the figure
        time.sleep(0.5)
        after = _digest(driver, 2)
    driver.execute_script(f"{IMAGES}[2].scrollIntoView()")
    driver.save_screenshot(str(SHOTS/'lab_replay.png'))
    assert before[0] > 0 and after[0] > 0, (before, after)
    assert after[:2] != before[:2], 'the surrogate image did not change when the replay slider moved'
    assert after[3] >= 0.95 * after[2], f'the figure is shown shrunk ({after[3]} of {after[2]} px): labels too small'
    errors = [l for l in driver.get_log('browser') if l['level'] == 'SEVERE']
    assert not errors, f'console errors: {errors}'
    print(f'JupyterLab replay: {time.monotonic() - t0:.1f} s after the server was up')
