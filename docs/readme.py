"""Write README.md from nbs/index.ipynb, offline (nbdev_readme needs Quarto).

Markdown cells are copied; code cells become ```python blocks; cells whose first line is a
`#|` hide/export directive are left out; saved text outputs (if any) follow their cell.
Usage: python docs/readme.py [--check]   (--check: exit 1 if README.md is out of date)
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HIDE = ('hide', 'default_exp', 'export', 'exporti', 'exports')

def _directives(src):
    return [l[3:].strip().split()[0] for l in src.splitlines() if l.startswith('#| ') and l[3:].strip()]

def render(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            parts.append(src.strip())
        elif c['cell_type'] == 'code':
            if any(d.rstrip(':') in HIDE for d in _directives(src)): continue
            code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
            if code: parts.append(f'```python\n{code}\n```')
            for o in c.get('outputs', []):
                txt = o.get('text') or o.get('data', {}).get('text/plain')
                if txt: parts.append('```\n' + ''.join(txt).rstrip() + '\n```')
    head = '<!-- generated from nbs/index.ipynb by `make readme`; edit the notebook, not this file -->\n\n'
    return head + '\n\n'.join(p for p in parts if p) + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT/'README.md'
    if '--check' in sys.argv:
        ok = readme.exists() and readme.read_text(encoding='utf-8') == text
        print('README.md is in sync with nbs/index.ipynb' if ok else 'README.md is out of date: run `make readme`')
        sys.exit(0 if ok else 1)
    readme.write_text(text, encoding='utf-8'); print(f'wrote {readme.name}')
