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

# ---------------------------------------------------------------------------------------------------------
# What a user's clone has: nothing may depend on the developers' machine, the code is lint-clean and small.

FORBIDDEN = ('..' + '/shared', 'shared' + '/data')     # spelled in two parts so this file does not match itself

def _text_files():
    "Notebooks, tests, docs, README, CI files: everything a clean clone runs or shows (not bench/, not tests/data/)."
    files = sorted((ROOT/'nbs').rglob('*.ipynb')) + sorted((ROOT/'tests').glob('*.py')) + [ROOT/'README.md', ROOT/'Makefile']
    files += sorted(p for p in (ROOT/'docs').rglob('*') if p.is_file() and '_build' not in p.parts)
    files += sorted((ROOT/'.github').rglob('*.y*ml')) + sorted((ROOT/'.ci').glob('*'))
    return [p for p in files if '.ipynb_checkpoints' not in p.parts]

def test_no_developer_paths():
    "No notebook, test, doc or CI file reads the developers' shared folder (a user's clone and CI do not have it)."
    hits = [f'{p.relative_to(ROOT)}:{i}: {line.strip()[:100]}' for p in _text_files()
            for i, line in enumerate(p.read_text(encoding='utf-8', errors='replace').splitlines(), 1)
            if any(s in line for s in FORBIDDEN)]
    assert not hits, 'files that name the shared folder:\n' + '\n'.join(hits)

def test_machine_paths_found():
    "The detector itself: machine paths are found, URLs, relative paths and the system's own are not."
    from conftest import machine_paths
    tmp, home = '/'.join(['', 'tmp', 'aidd_plots_x1', 'curves.png']), '/'.join(['', 'home', 'ann', 'run'])
    assert machine_paths(f'saved to {tmp} and {home}/') == [tmp, home + '/']
    assert machine_paths("see https://pyg.org/docs/x, ../nbs/a.ipynb, /proc/meminfo, #!/usr/bin/env, '/lab/'") == []

def test_no_machine_paths():
    "No committed text file (code, notebooks, docs, bench results, fixtures' notes) holds an absolute machine path."
    from conftest import machine_paths
    r = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True)
    files = [ROOT/f for f in r.stdout.splitlines()] if r.returncode == 0 else _text_files()
    hits = []
    for p in files:
        if not p.is_file() or p.suffix in ('.png', '.gz', '.pt', '.pdb', '.sdf', '.mol2'): continue
        try: text = p.read_text(encoding='utf-8')
        except UnicodeDecodeError: continue
        hits += [f'{p.relative_to(ROOT)}:{i}: {line.strip()[:100]}' for i, line in enumerate(text.splitlines(), 1)
                 if machine_paths(line)]
    assert not hits, 'absolute machine paths:\n' + '\n'.join(hits[:20])

def test_pyflakes_clean():
    "pyflakes reports nothing for the library (unused imports, undefined names, shadowed variables...)."
    try: from pyflakes.api import checkPath
    except ImportError: raise AssertionError('pyflakes is not installed: pip install pyflakes (a dev requirement)')
    from pyflakes.reporter import Reporter
    import io
    out = io.StringIO()
    n = sum(checkPath(str(p), Reporter(out, out)) for p in sorted((ROOT/'aidd_train').rglob('*.py')))
    assert n == 0, f'{n} pyflakes warning(s):\n{out.getvalue()}'

MAX_CELL_LINES, MAX_FUNCTION_LINES = 60, 50

def cell_lengths() -> list:
    "(lines, 'notebook#cell', first line) of every code cell in nbs/."
    out = []
    for p in sorted((ROOT/'nbs').rglob('*.ipynb')):
        if '.ipynb_checkpoints' in p.parts: continue
        for i, c in enumerate(json.loads(p.read_text(encoding='utf-8'))['cells']):
            if c['cell_type'] != 'code': continue
            lines = ''.join(c['source']).strip('\n').splitlines()
            out.append((len(lines), f'{p.relative_to(ROOT/"nbs")}#{i}', next((l for l in lines if not l.startswith('#|')), '')))
    return out

def function_lengths() -> list:
    "(lines, 'module:Class.function', line number) of every function in aidd_train/, `def` line to last line."
    import ast
    out = []
    for p in sorted((ROOT/'aidd_train').rglob('*.py')):
        tree = ast.parse(p.read_text(encoding='utf-8'))
        def visit(node, prefix):
            for ch in ast.iter_child_nodes(node):
                if isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out.append((ch.end_lineno - ch.lineno + 1, f'{p.relative_to(ROOT).as_posix()}:{prefix}{ch.name}', ch.lineno))
                    visit(ch, f'{prefix}{ch.name}.')
                elif isinstance(ch, ast.ClassDef): visit(ch, f'{prefix}{ch.name}.')
                else: visit(ch, prefix)
        visit(tree, '')
    return out

def _table(rows, title, limit, k=10):
    rows = sorted(rows, key=lambda r: -r[0])
    return '\n'.join([f'{title} (limit {limit}), longest first:'] + [f'  {n:4d}  {where}  {extra}' for n, where, extra in rows[:k]])

def test_code_shape():
    "No notebook code cell over 60 lines, no function in the library over 50 lines (prints the longest ones)."
    cells, funcs = cell_lengths(), function_lengths()
    print(_table(cells, 'code cells', MAX_CELL_LINES)); print(_table(funcs, 'functions', MAX_FUNCTION_LINES))
    long_cells = [r for r in cells if r[0] > MAX_CELL_LINES]
    long_funcs = [r for r in funcs if r[0] > MAX_FUNCTION_LINES]
    assert not long_cells and not long_funcs, ('\n' + _table(long_cells, 'code cells over the limit', MAX_CELL_LINES, 50)
                                              + '\n' + _table(long_funcs, 'functions over the limit', MAX_FUNCTION_LINES, 50))

def _fresh_modules(code:str) -> set:
    "Top-level module names imported by a fresh interpreter running `code`."
    r = subprocess.run([sys.executable, '-c', code + '\nimport sys, json; print(json.dumps(sorted(sys.modules)))'],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return {m.split('.')[0] for m in json.loads(r.stdout.strip().splitlines()[-1])}

def test_light_imports():
    "The training loop starts without the data layer's heavy libraries; a console script's --help without torch."
    mods = _fresh_modules('import aidd_train.train.loop')
    assert not mods & {'rdkit', 'gemmi', 'scipy'}, sorted(mods & {'rdkit', 'gemmi', 'scipy'})
    mods = _fresh_modules('import aidd_train.train.device')
    assert 'torch_geometric' not in mods and 'scipy' not in mods
    mods = _fresh_modules('import sys\nsys.argv = ["aidd_train", "--help"]\nfrom aidd_train.cli import train_cli\n'
                          'try: train_cli()\nexcept SystemExit as e: assert e.code == 0, e.code')
    assert 'torch' not in mods, 'aidd_train --help imported torch'
