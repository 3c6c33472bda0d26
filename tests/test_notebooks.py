"""Run every notebook's tests through pytest: one pytest test per notebook.

Runs each notebook as `nbdev.test.test_nb` does, so nbdev's skip flags (`#| slow`, `#| gpu`, `#| notest`,
`#| eval: false`) hold exactly as with `nbdev_test`. Set `AIDD_TEST_FLAGS="slow"` to also run the slow cells.
The executed notebook is kept (`conftest.EXECUTED`) for the site test, which renders it instead of running it again.
"""
import json, os, re, sys, time
from pathlib import Path
import pytest
from nbdev.config import get_config
from conftest import EXECUTED

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(ROOT/'nbs').parts))

def _has_cuda():
    try:
        import torch; return torch.cuda.is_available()
    except Exception: return False

def run_notebook(nb:Path, skip:list, force:list) -> tuple[bool, dict]:
    """`nbdev.test.test_nb`'s run (the same processing, skip flags and working folder), keeping the executed notebook:
    (passed, notebook with its outputs)."""
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor
    os.environ['IN_TEST'] = '1'
    flags = set(skip) - set(force)
    doc = NBProcessor(nb, procs=FrontmatterProc, process=True).nb

    def no_eval(cell):
        if cell.cell_type != 'code' or 'nbdev_export' + '(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false': return True
        return flags & direc.keys()
    shell = CaptureShell(nb)
    try:
        with working_directory(nb.parent): shell.run_all(doc, exc_stop=True, preproc=no_eval)
    except Exception:
        sys.stderr.write(shell.prettytb(fname=nb) + '\n')
        return False, {}
    return True, with_outputs(nb, doc)

def with_outputs(nb:Path, doc) -> dict:
    "The notebook file as it is (front matter included), with the outputs of the executed cells of `doc`."
    raw = json.loads(nb.read_text(encoding='utf-8'))
    ran = {c.get('id'): c for c in json.loads(json.dumps(doc, default=dict))['cells']}
    for c in raw['cells']:
        if c['cell_type'] == 'code' and c.get('id') in ran:
            c['outputs'] = ran[c['id']].get('outputs', [])
    return raw

# tests/test_site.py renders this notebook as executed here: same xdist worker, this test first (collection order)
SITE = pytest.mark.xdist_group('site')
PARAMS = [pytest.param(p, marks=SITE) if p.name == '50_dashboard.plots.ipynb' else p for p in NBS]

@pytest.mark.parametrize('nb', PARAMS, ids=[str(p.relative_to(ROOT/'nbs')) for p in NBS])
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)           # notebooks run from their own folder, as in Jupyter
    monkeypatch.setenv('AIDD_NO_PROGRESS', '1')
    force = os.environ.get('AIDD_TEST_FLAGS', '').split()
    flags = re.split(r'[|\s]+', get_config(cfg_name='settings.ini', path=ROOT).tst_flags)   # 'slow|gpu' or 'slow gpu'
    skip = [f for f in flags if f and f not in force]
    if 'gpu' in skip and _has_cuda(): skip.remove('gpu')   # GPU cells run where a GPU is present
    start = time.time()
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    ok, executed = run_notebook(nb, skip, force)
    assert ok, f'{nb.name} failed (traceback above)'
    print(f'{nb.name}: {time.time()-start:.1f}s')
    # kept for the site test, which renders these pages instead of running the notebooks a second time
    out = EXECUTED/nb.relative_to(ROOT/'nbs')
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + '.part')        # renamed when whole: the site test may look at any moment
    part.write_text(json.dumps(executed), encoding='utf-8')
    part.replace(out)
