"""Build the docs site offline (Quarto, nbdev's renderer, cannot be installed here).

1. Execute every notebook in nbs/ with nbdev's own runner (execnb), skipping cells flagged by the
   project's test flags (`#| slow`, `#| gpu`, `#| notest`) and `#| eval: false` — the same rules as the
   tests — so `show_doc` API tables and results render.
2. Drop `#| hide` cells and strip `#|` directive lines, like nbdev's docs processors.
3. The README (generated from nbs/index.ipynb) becomes the site's index page.
4. `mkdocs build` with mkdocs-jupyter renders one page per notebook into _site/.
Usage: python docs/build.py [--no-exec] [--pages a,b] [--build DIR] [--site DIR]
       (exit 1 if a notebook fails to execute; the site is still written)
"""
import json, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD, SITE = ROOT/'docs'/'_build', ROOT/'_site'

def _directives(src):
    return {l[3:].strip().split()[0].rstrip(':'): l[3:].strip().split()[1:]
            for l in src.splitlines() if l.startswith('#| ') and l[3:].strip()}

def _skip_flags():
    from nbdev.config import get_config
    flags = re.split(r'[|\s]+', get_config(cfg_name='settings.ini', path=ROOT).tst_flags)   # 'slow|gpu' or 'slow gpu'
    force = os.environ.get('AIDD_TEST_FLAGS', '').split()
    return {f for f in flags if f and f not in force}

def execute(nb_path: Path):
    "Run the notebook like nbdev_test does; return (nb dict with outputs, error text or None)."
    from execnb.nbio import read_nb
    from execnb.shell import CaptureShell
    nb, skip = read_nb(nb_path), _skip_flags()
    def no_eval(cell):
        if cell.cell_type != 'code': return True
        d = _directives(cell.source)
        return d.get('eval', [''])[0].lower() == 'false' or bool(skip & set(d)) or 'nbdev_export(' in cell.source
    sh = CaptureShell(nb_path)
    cwd = os.getcwd(); os.chdir(nb_path.parent)
    try: sh.run_all(nb, exc_stop=True, preproc=no_eval); err = None
    except Exception: err = sh.prettytb(fname=nb_path)
    finally: os.chdir(cwd)
    return json.loads(json.dumps(nb, default=dict)), err

def for_docs(nb: dict) -> dict:
    cells = []
    for c in nb['cells']:
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        if c['cell_type'] == 'code':
            d = _directives(src)
            if 'hide' in d or 'default_exp' in d: continue
            src = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip('\n')
            if not src and not c.get('outputs'): continue
            c = {**c, 'outputs': [o for o in c.get('outputs', []) if o.get('output_type') != 'stream' or o.get('name') != 'stderr']}
        c = {**c, 'source': src}
        cells.append(c)
    return {**nb, 'cells': cells}

def _args():
    import argparse
    ap = argparse.ArgumentParser(description='Build the docs site offline (see the module docstring).')
    ap.add_argument('--no-exec', action='store_true', help='render the notebooks without executing them')
    ap.add_argument('--pages', default=None, help='comma list of notebook names (stems) to include; default: all')
    ap.add_argument('--build', default=str(BUILD), help='work folder (executed notebooks, mkdocs config)')
    ap.add_argument('--site', default=str(SITE), help='output folder of the site')
    return ap.parse_args()

def main():
    from execnb.nbio import read_nb
    a = _args()
    build, site = Path(a.build).resolve(), Path(a.site).resolve()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault('AIDD_NO_PROGRESS', '1'); os.environ.setdefault('MPLBACKEND', 'Agg'); os.environ.setdefault('NO_MKDOCS_2_WARNING', '1')
    shutil.rmtree(build, ignore_errors=True); (build/'src').mkdir(parents=True)
    nbs = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
                 if p.name != 'index.ipynb' and not any(s.startswith(('_', '.')) for s in p.relative_to(ROOT/'nbs').parts))
    if a.pages: nbs = [p for p in nbs if p.stem in a.pages.split(',')]
    failed, nav = [], [{'Home': 'index.md'}]
    for p in nbs:
        t = time.time()
        if a.no_exec: nb, err = json.loads(json.dumps(read_nb(p), default=dict)), None
        else: nb, err = execute(p)
        rel = p.relative_to(ROOT/'nbs')
        out = build/'src'/rel; out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(for_docs(nb)), encoding='utf-8')
        nav.append({p.stem: str(rel)})
        print(f'{"FAILED" if err else "ok":6} {rel} ({time.time()-t:.0f}s)', flush=True)
        if err: failed.append(str(rel)); print(err, file=sys.stderr)
    shutil.copy(ROOT/'README.md', build/'src'/'index.md')
    if (ROOT/'docs'/'images').is_dir():                      # pictures the README shows (same relative path on the site)
        shutil.copytree(ROOT/'docs'/'images', build/'src'/'docs'/'images')
    import yaml
    cfg = yaml.safe_load((ROOT/'docs'/'mkdocs.yml').read_text())
    cfg.update(docs_dir='src', site_dir=str(site), nav=nav)
    (build/'mkdocs.yml').write_text(yaml.safe_dump(cfg, sort_keys=False))
    subprocess.run([str(Path(sys.executable).parent/'mkdocs'), 'build', '-q', '-f', str(build/'mkdocs.yml')], check=True)
    pages = sorted(str(p.relative_to(site)) for p in site.rglob('index.html'))
    print(f'site: {site}/index.html, {len(pages)} pages')
    if failed: print(f'notebooks that failed to execute: {failed}', file=sys.stderr); sys.exit(1)

if __name__ == '__main__': main()
