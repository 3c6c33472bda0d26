"""Benchmark `aidd_train.data.dataset.process_dataset`: throughput with 1 worker vs all, cache hits, cached load.

Usage: python bench/bench_process.py [--root DIR] [--workers N] [--repeat 3] [--crop] [--json out.json]

Default root: `../shared/data/pdbbind-toy50-gign` beside the repository (the 50 GIGN toy complexes, every folder
with its full protein, so `--crop` measures all 50) when that folder exists; otherwise `tests/data/toy50`, which the
repository carries (pocket files for all 50, full proteins for only 6: with `--crop` the other 44 fail at the
`files` step). The script prints which root it used.

Each processing run writes into a fresh temporary folder (so nothing is cached). Worker start-up (the process pool)
is included in the wall time, as a user would see it; the per-complex time of the in-process run is reported too.
"""
import argparse, json, os, shutil, statistics, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault('AIDD_NO_PROGRESS', '1')
EXTERNAL = ROOT.parent/'shared'/'data'/'pdbbind-toy50-gign'
CARRIED = ROOT/'tests'/'data'/'toy50'


def default_root() -> Path:
    "The external toy50 (full proteins) when present, else the copy carried in tests/data; says which."
    if EXTERNAL.is_dir():
        print(f'root: {EXTERNAL} (external toy50, full proteins for all 50 complexes)')
        return EXTERNAL
    print(f'root: {CARRIED} ({EXTERNAL} is absent; the carried toy50 has full proteins for only 6 of 50 complexes)')
    return CARRIED


def timed(fn, *a, **kw):
    t = time.perf_counter()
    r = fn(*a, **kw)
    return r, time.perf_counter() - t


def scale_run(root:Path, n:int, workers:int, tmp:Path) -> dict:
    """Cache-hit and load times at a larger size: a synthetic root of `n` complex folders, each a copy of a toy
    complex's pocket and ligand files under a new code (9000, 9001, ...), with a CSV of their labels."""
    from aidd_train.data.dataset import process_dataset, load_graphs, find_index, read_manifest
    from aidd_train.data.graph import load_graph
    from aidd_train.data.labels import read_labels
    if not 1 <= n <= 1000: raise SystemExit(f'--scale takes 1 to 1000 complexes (codes 9000-9999), got {n}')
    labels = read_labels(find_index(root))
    src = [c for c in sorted(labels.codes) if (root/c/f'{c}_pocket.pdb').exists()]
    big, rows = tmp/'scale_root', ['pdbid,pK']
    for i in range(n):
        c, new = src[i % len(src)], str(9000 + i)
        (big/new).mkdir(parents=True)
        for suf in ('_pocket.pdb', '_ligand.sdf', '_ligand.mol2'):
            if (root/c/f'{c}{suf}').exists(): shutil.copy(root/c/f'{c}{suf}', big/new/f'{new}{suf}')
        rows.append(f'{new},{labels[c].pK}')
    (tmp/'scale_labels.csv').write_text('\n'.join(rows) + '\n')
    out = tmp/'scale_out'
    m, t_first = timed(process_dataset, big, out, index=tmp/'scale_labels.csv', workers=workers)
    m2, t_hit = timed(process_dataset, big, out, index=tmp/'scale_labels.csv', workers=workers)
    cache = out/read_manifest(out)['cache_dir']
    t_packed = min(timed(load_graphs, out)[1] for _ in range(3))
    t_files = min(timed(lambda: [load_graph(cache/f'{c}.pt')
                                 for c in sorted(p.stem for p in cache.glob('[0-9]*.pt'))])[1] for _ in range(3))
    return dict(n=n, n_ok=m['n_ok'], seconds_first=round(t_first, 2), seconds_cache_hit=round(t_hit, 3),
                n_cached=m2['n_cached'], seconds_load_packed=round(t_packed, 3), seconds_load_files=round(t_files, 3))


def main():
    from aidd_train.config import DataConfig
    from aidd_train.data.dataset import process_dataset, load_graphs
    from aidd_train.log import setup_logging
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', default=None, help='folder of complex folders (default: see above)')
    ap.add_argument('--index', default=None)
    ap.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='"all workers" (default: CPU count)')
    ap.add_argument('--repeat', type=int, default=3,
                    help='repeat each fresh run; report the best (least disturbed) and the median')
    ap.add_argument('--crop', action='store_true',
                    help="pocket_source='crop' (crop the full protein) instead of 'auto'")
    ap.add_argument('--scale', type=int, default=0,
                    help='also time cache hits and loading on a synthetic root of this many complexes (e.g. 1000)')
    ap.add_argument('--json', default=None, help='also write the results here')
    a = ap.parse_args()
    a.root = a.root or str(default_root())
    setup_logging(level='WARNING')
    cfg = DataConfig(pocket_source='crop') if a.crop else DataConfig()
    rows, res = [], {'root': Path(a.root).name, 'cpu_count': os.cpu_count(), 'pocket_source': cfg.pocket_source,
                     'date': time.strftime('%Y-%m-%d'), 'load_average_start': round(os.getloadavg()[0], 2)}
    tmp = Path(tempfile.mkdtemp(prefix='bench_process_'))
    try:
        # one-time cost: the first process pool of a Python process starts the forkserver and imports torch/RDKit/gemmi
        from aidd_train.data.labels import read_labels, Labels
        from aidd_train.data.dataset import find_index
        labels = read_labels(a.index or find_index(a.root))
        one = Labels(list(labels)[:1], source=labels.source)
        m, dt = timed(process_dataset, a.root, tmp/'warmup', index=one, cfg=cfg, workers=a.workers)
        res['pool_startup_seconds'] = round(dt, 2)
        rows.append(('first pool start-up (1 complex, once per process)', f"{m['n_ok']}/1", f'{dt:.2f} s', ''))
        for label, w in (('in-process (workers=0)', 0), ('1 worker', 1), (f'{a.workers} workers', a.workers)):
            times = []
            for r in range(a.repeat):
                out = tmp/f'w{w}_{r}'
                m, dt = timed(process_dataset, a.root, out, index=a.index, cfg=cfg, workers=w)
                times.append(dt)
            n = m['n_ok'] + m['n_failed']
            dt, med = min(times), statistics.median(times)
            res[f'workers_{w}'] = dict(n_ok=m['n_ok'], n_failed=m['n_failed'], seconds_best=round(dt, 3),
                                       seconds_median=round(med, 3), complexes_per_s=round(n/dt, 2),
                                       complexes_per_s_median=round(n/med, 2))
            rows.append((label, f"{m['n_ok']}/{n}", f'{dt:.2f} s (median {med:.2f})',
                         f'{n/dt:.1f} (median {n/med:.1f})'))
        out = tmp/f'w{a.workers}_0'
        m, dt = timed(process_dataset, a.root, out, index=a.index, cfg=cfg, workers=a.workers)
        assert m['n_processed'] == 0, m
        res['cache_hit_run'] = dict(seconds=round(dt, 3), n_cached=m['n_cached'])
        rows.append(('re-run (cache hit)', f"{m['n_cached']} cached", f'{dt:.3f} s', f"{m['n_cached']/dt:.0f}"))
        loads = [timed(load_graphs, out)[1] for _ in range(5)]
        gs = load_graphs(out)
        dt = min(loads)
        res['load_graphs'] = dict(n=len(gs), seconds=round(dt, 4), ms_per_graph=round(1000*dt/len(gs), 3))
        rows.append(('load_graphs (cached)', f'{len(gs)} graphs', f'{dt*1000:.0f} ms', f'{len(gs)/dt:.0f}'))
        if a.scale:
            sc = res['scale'] = scale_run(Path(a.root), a.scale, a.workers, tmp)
            rows.append((f'synthetic root: first run, {a.workers} workers', f"{sc['n_ok']}/{sc['n']}",
                         f"{sc['seconds_first']:.2f} s", f"{sc['n']/sc['seconds_first']:.1f}"))
            rows.append(('synthetic root: re-run (cache hit)', f"{sc['n_cached']} cached",
                         f"{sc['seconds_cache_hit']:.3f} s", ''))
            rows.append(('synthetic root: load_graphs (packed file)', f"{sc['n_ok']} graphs",
                         f"{sc['seconds_load_packed']:.3f} s", ''))
            rows.append(('synthetic root: load the per-complex files', f"{sc['n_ok']} graphs",
                         f"{sc['seconds_load_files']:.3f} s", ''))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res['load_average_end'] = round(os.getloadavg()[0], 2)
    print(f"\nprocess_dataset on {a.root} ({os.cpu_count()} CPUs, pocket_source={cfg.pocket_source!r}, "
          f"1-min load average {res['load_average_start']} → {res['load_average_end']})\n")
    print(f'best of {a.repeat} fresh runs each\n')
    print('| run | complexes | wall time | complexes/s |\n|---|---|---|---|')
    for r in rows: print('| ' + ' | '.join(r) + ' |')
    if a.json: Path(a.json).write_text(json.dumps(res, indent=1))
    return res


if __name__ == '__main__':
    main()
