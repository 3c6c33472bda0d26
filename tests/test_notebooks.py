"""Run every notebook's tests through pytest: one pytest test per notebook.

Wraps `nbdev.test.test_nb`, so nbdev's skip flags (`#| slow`, `#| gpu`, `#| notest`, `#| eval: false`)
hold exactly as with `nbdev_test`. Set `AIDD_TEST_FLAGS="slow"` to also run the slow cells.
"""
import os, re, time
from pathlib import Path
import pytest
from nbdev import test as nbdev_test
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(ROOT/'nbs').parts))

def _has_cuda():
    try:
        import torch; return torch.cuda.is_available()
    except Exception: return False

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(ROOT/'nbs')) for p in NBS])
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)           # notebooks run from their own folder, as in Jupyter
    monkeypatch.setenv('AIDD_NO_PROGRESS', '1')
    force = os.environ.get('AIDD_TEST_FLAGS', '').split()
    flags = re.split(r'[|\s]+', get_config(cfg_name='settings.ini', path=ROOT).tst_flags)   # 'slow|gpu' or 'slow gpu'
    skip = [f for f in flags if f and f not in force]
    if 'gpu' in skip and _has_cuda(): skip.remove('gpu')   # GPU cells run where a GPU is present
    start = time.time()
    ok, _ = nbdev_test.test_nb(nb, skip_flags=skip, force_flags=force, do_print=False, basepath=str(ROOT))
    assert ok, f'{nb.name} failed (traceback above)'
    print(f'{nb.name}: {time.time()-start:.1f}s')
