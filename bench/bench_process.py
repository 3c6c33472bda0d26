"""Benchmark `aidd_train.data.dataset.process_dataset`: throughput with 1 worker vs all workers, cache hits, cached load.

Usage: python bench/bench_process.py [--root ../shared/data/pdbbind-toy50-gign] [--workers N] [--repeat 1] [--json out.json]

Each processing run writes into a fresh temporary folder (so nothing is cached). Worker start-up (the process pool)
is included in the wall time, as a user would see it; the per-complex time of the in-process run is reported too.
"""
import argparse, json, os, shutil, statistics, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault('AIDD_NO_PROGRESS', '1')


def timed(fn, *a, **kw):
    t = time.perf_counter(); r = fn(*a, **kw); return r, time.perf_counter() - t


def main():
    from aidd_train.config import DataConfig
    from aidd_train.data.dataset import process_dataset, load_graphs
    from aidd_train.log import setup_logging
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', default=str(ROOT.parent/'shared'/'data'/'pdbbind-toy50-gign'))
    ap.add_argument('--index', default=None)
    ap.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='"all workers" (default: CPU count)')
    ap.add_argument('--repeat', type=int, default=3, help='repeat each fresh run; report the best (least disturbed) and the median')
    ap.add_argument('--crop', action='store_true', help="pocket_source='crop' (crop the full protein) instead of 'auto'")
    ap.add_argument('--json', default=None, help='also write the results here')
    a = ap.parse_args()
    setup_logging(level='WARNING')
    cfg = DataConfig(pocket_source='crop') if a.crop else DataConfig()
    rows, res = [], {'root': a.root, 'cpu_count': os.cpu_count(), 'pocket_source': cfg.pocket_source}
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
            res[f'workers_{w}'] = dict(n_ok=m['n_ok'], n_failed=m['n_failed'], seconds_best=round(dt, 3), seconds_median=round(med, 3),
                                       complexes_per_s=round(n/dt, 2), complexes_per_s_median=round(n/med, 2))
            rows.append((label, f"{m['n_ok']}/{n}", f'{dt:.2f} s (median {med:.2f})', f'{n/dt:.1f} (median {n/med:.1f})'))
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
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nprocess_dataset on {a.root} ({os.cpu_count()} CPUs, pocket_source={cfg.pocket_source!r})\n")
    print(f'best of {a.repeat} fresh runs each\n')
    print('| run | complexes | wall time | complexes/s |\n|---|---|---|---|')
    for r in rows: print('| ' + ' | '.join(r) + ' |')
    if a.json: Path(a.json).write_text(json.dumps(res, indent=1))
    return res


if __name__ == '__main__':
    main()
