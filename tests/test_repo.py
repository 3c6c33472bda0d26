"""Repository hygiene: the library is in sync with the notebooks, notebooks are clean, README matches index.ipynb."""
import json, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def _copy_repo(tmp):
    for name in ('settings.ini', 'setup.py', 'README.md'): shutil.copy(ROOT/name, tmp/name)
    shutil.copytree(ROOT/'nbs', tmp/'nbs')
    shutil.copytree(ROOT/'aidd_train', tmp/'aidd_train', ignore=shutil.ignore_patterns('__pycache__', 'sample'))
    return tmp

def _py_files(d): return {p.relative_to(d): p.read_text() for p in sorted((d/'aidd_train').rglob('*.py'))}

def test_library_in_sync_with_notebooks(tmp_path):
    "nbdev_export on the notebooks reproduces aidd_train/ exactly (nothing hand-edited, nothing stale)."
    tmp = _copy_repo(tmp_path)
    before = _py_files(tmp)
    subprocess.run([str(BIN/'nbdev_export')], cwd=tmp, check=True, capture_output=True)
    after = _py_files(tmp)
    changed = sorted(str(k) for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f'run nbdev_export and commit: out of sync {changed}'

def test_notebooks_clean(tmp_path):
    "Notebooks carry no outputs and are nbdev_clean'd."
    nbs = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
    assert nbs
    with_outputs = [p.name for p in nbs if any(c.get('outputs') for c in json.loads(p.read_text())['cells'])]
    assert not with_outputs, f'notebooks with outputs: {with_outputs}'
    tmp = _copy_repo(tmp_path)
    subprocess.run([str(BIN/'nbdev_clean')], cwd=tmp, check=True, capture_output=True)
    dirty = [str(p.relative_to(ROOT)) for p in nbs if (tmp/p.relative_to(ROOT)).read_text() != p.read_text()]
    assert not dirty, f'run nbdev_clean: {dirty}'

def test_readme_in_sync():
    r = subprocess.run([sys.executable, str(ROOT/'docs'/'readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
