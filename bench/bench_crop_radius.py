"""Pocket-file size vs cropping the full protein: why `DataConfig.pocket_radius` defaults to 8 Å.

Usage: python bench/bench_crop_radius.py [--root DIR] [--json out.json]

For every complex folder under ROOT that has both `<code>_pocket.pdb` and `<code>_protein.pdb`, it loads the
complex three ways with `aidd_train.data.structure.load_complex` (heavy atoms, default policy): from PDBbind's
pocket file, and by cropping the full protein at 8 Å and at 10 Å; it prints the atom counts and the median
crop/pocket-file size ratio. It also checks that `read_pdb_atoms` keeps every atom line of every protein file
(hydrogens on, waters off).

Default ROOT: `../shared/data/pdbbind-toy50-gign` beside the repository (the 50 GIGN toy complexes with all
their full proteins, about 32 MB) when that folder exists; otherwise `tests/data/toy50`, which carries the
full protein for only 6 of the 50 complexes. The script prints which one it used.
"""
import argparse, json, os, statistics, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EXTERNAL = REPO.parent/'shared'/'data'/'pdbbind-toy50-gign'
CARRIED = REPO/'tests'/'data'/'toy50'


def default_root() -> Path:
    if EXTERNAL.is_dir():
        print(f'root: {EXTERNAL} (external toy50 with all full proteins)')
        return EXTERNAL
    print(f'root: {CARRIED} ({EXTERNAL} is absent; the repository carries full proteins for only 6 complexes)')
    return CARRIED


def measure(root:Path) -> dict:
    import numpy as np
    from aidd_train.config import DataConfig
    from aidd_train.data.structure import load_complex, read_pdb_atoms
    codes = sorted(p.name for p in root.iterdir() if p.is_dir() and (p/f'{p.name}_pocket.pdb').is_file()
                   and (p/f'{p.name}_protein.pdb').is_file())
    if not codes: raise SystemExit(f'no folder under {root} has both a pocket and a protein file')
    big = 100_000
    pocket = {c: load_complex(root/c, DataConfig(pocket_source='pocket', max_atoms=big)).n_atoms for c in codes}
    crop8 = {c: load_complex(root/c, DataConfig(pocket_source='crop', pocket_radius=8.0, max_atoms=big)).n_atoms
             for c in codes}
    crop10 = {c: load_complex(root/c, DataConfig(pocket_source='crop', pocket_radius=10.0, max_atoms=big)).n_atoms
              for c in codes}
    lines_ok = 0
    for c in codes:
        f = root/c/f'{c}_protein.pdb'
        lines = [l for l in f.read_text(encoding='latin-1').splitlines() if l.startswith(('ATOM', 'HETATM'))]
        lines_ok += (len(read_pdb_atoms(f, keep_hydrogens=True))
                     == sum(l[17:20] != 'HOH' and l[16] in ' A' for l in lines))
    stats = lambda d: dict(min=min(d.values()), max=max(d.values()), mean=round(statistics.mean(d.values()), 1))
    return dict(root=os.path.relpath(root, REPO), n=len(codes), codes=codes, pocket_file=stats(pocket),
                crop8=stats(crop8), crop10=stats(crop10),
                ratio8_median=round(float(np.median([crop8[c] / pocket[c] for c in codes])), 3),
                ratio10_median=round(float(np.median([crop10[c] / pocket[c] for c in codes])), 3),
                proteins_all_lines_kept=f'{lines_ok}/{len(codes)}',
                per_complex={c: dict(pocket_file=pocket[c], crop8=crop8[c], crop10=crop10[c]) for c in codes})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', default=None, help='folder of complex folders (default: see above)')
    ap.add_argument('--json', default=None, help='also write the results here')
    a = ap.parse_args()
    os.environ.setdefault('AIDD_NO_PROGRESS', '1')
    root = Path(a.root) if a.root else default_root()
    t = time.perf_counter()
    r = measure(root)
    r['seconds'] = round(time.perf_counter() - t, 1)
    print(f"\n{r['n']} complexes with a pocket file and a full protein ({r['seconds']} s)\n")
    print('| atoms (heavy, default policy) | min | max | mean |\n|---|---|---|---|')
    for k, name in (('pocket_file', 'PDBbind pocket file'), ('crop8', 'protein cropped at 8 Å'),
                    ('crop10', 'protein cropped at 10 Å')):
        print(f"| {name} | {r[k]['min']} | {r[k]['max']} | {r[k]['mean']} |")
    print(f"\nmedian size ratio crop/pocket file: {r['ratio8_median']:.2f} at 8 Å, {r['ratio10_median']:.2f} at 10 Å")
    print(f"proteins whose every atom line is kept by read_pdb_atoms: {r['proteins_all_lines_kept']}")
    if a.json: Path(a.json).write_text(json.dumps(r, indent=1))
    return r


if __name__ == '__main__':
    main()
