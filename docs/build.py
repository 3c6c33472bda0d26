"""Build the docs site offline (Quarto, nbdev's renderer, cannot be installed here).

1. Execute every notebook in nbs/ with nbdev's own runner (execnb), skipping cells flagged by the
   project's test flags (`#| slow`, `#| gpu`, `#| notest`) and `#| eval: false` — the same rules as the
   tests — so `show_doc` API tables and results render.
2. Drop `#| hide` cells, hide the input of `#| echo: false` cells (their output stays) and strip `#|` directive
   lines, like nbdev's docs processors. Links written for nbdev's site (`benchmarks.html`, `../00_config.html#x`)
   become this site's page addresses (`../benchmarks/`).
3. The README (generated from nbs/index.ipynb) becomes the site's index page.
4. `mkdocs build` with mkdocs-jupyter renders one page per notebook into _site/; the navigation is Home, Background,
   the module notebooks, the tutorials, then Benchmarks (`FIRST`, `LAST`, `TITLES`).
Usage: python docs/build.py [--no-exec] [--pages a,b] [--build DIR] [--site DIR]
       (exit 1 if a notebook fails to execute; the site is still written)
"""
import json, os, posixpath, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD, SITE = ROOT/'docs'/'_build', ROOT/'_site'
TITLES = {'background': 'Background', 'benchmarks': 'Benchmarks'}    # navigation titles; other pages use their stem
FIRST, LAST = ('background',), ('benchmarks',)                      # pages listed right after Home, and at the end

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

LINK = re.compile(r'\]\(((?:\.\./|[\w.-]+/)*[\w.-]+)\.html(#[^)\s]*)?\)')   # ](page.html#anchor), relative only

def page_links(src: str, rel: str, pages: set) -> str:
    "Links to `<page>.html` (nbdev's site) in Markdown `src` of page `rel` → this site's directory URLs `../<page>/`."
    here = posixpath.splitext(rel)[0] if rel != 'index.md' else '.'
    def sub(m):
        target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), m[1]))
        if target + '.ipynb' not in pages: return m[0]
        return '](' + posixpath.relpath(target, here) + '/' + (m[2] or '') + ')'
    return LINK.sub(sub, src)

def for_docs(nb: dict, rel: str = '', pages: set = frozenset()) -> dict:
    "The notebook as the site shows it; `rel` is its path under nbs/, `pages` the paths of all pages (for links)."
    cells = []
    for c in nb['cells']:
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        if c['cell_type'] == 'code':
            d = _directives(src)
            if 'hide' in d or 'default_exp' in d: continue
            src = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip('\n')
            if not src and not c.get('outputs'): continue
            c = {**c, 'outputs': [o for o in c.get('outputs', []) if o.get('output_type') != 'stream' or o.get('name') != 'stderr']}
            if d.get('echo', [''])[0].lower() == 'false':          # Quarto's echo: false: the output without its code
                meta = c.get('metadata', {})
                c['metadata'] = {**meta, 'tags': [*meta.get('tags', []), 'hide-input']}
        elif c['cell_type'] == 'markdown': src = page_links(src, rel, pages)
        c = {**c, 'source': src}
        cells.append(c)
    return {**nb, 'cells': cells}

def _nav_order(p: Path) -> tuple:
    "Home first (added apart), then FIRST, the notebooks in path order, then LAST."
    return (0 if p.stem in FIRST else 2 if p.stem in LAST else 1, str(p))

def _args():
    import argparse
    ap = argparse.ArgumentParser(description='Build the docs site offline (see the module docstring).')
    ap.add_argument('--no-exec', action='store_true', help='render the notebooks without executing them')
    ap.add_argument('--executed', default=None,
                    help='folder of notebooks already executed (same relative paths, as the test suite keeps them): '
                         'render those instead of running them again')
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
    nbs = sorted((p for p in (ROOT/'nbs').rglob('*.ipynb') if p.name != 'index.ipynb'
                  and not any(s.startswith(('_', '.')) for s in p.relative_to(ROOT/'nbs').parts)), key=_nav_order)
    pages = {p.relative_to(ROOT/'nbs').as_posix() for p in nbs}          # every page, also those --pages leaves out
    if a.pages: nbs = [p for p in nbs if p.stem in a.pages.split(',')]
    failed, nav = [], [{'Home': 'index.md'}]
    for p in nbs:
        t = time.time()
        rel = p.relative_to(ROOT/'nbs')
        done = Path(a.executed)/rel if a.executed else None
        if a.no_exec: nb, err = json.loads(json.dumps(read_nb(p), default=dict)), None
        elif done is not None and done.is_file(): nb, err = json.loads(done.read_text(encoding='utf-8')), None
        else: nb, err = execute(p)
        out = build/'src'/rel; out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(for_docs(nb, rel.as_posix(), pages)), encoding='utf-8')
        nav.append({TITLES.get(p.stem, p.stem): str(rel)})
        print(f'{"FAILED" if err else "ok":6} {rel} ({time.time()-t:.0f}s)', flush=True)
        if err: failed.append(str(rel)); print(err, file=sys.stderr)
    (build/'src'/'index.md').write_text(page_links((ROOT/'README.md').read_text(encoding='utf-8'), 'index.md', pages),
                                        encoding='utf-8')
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
