"""Scale bench: how processing and the training side's data steps grow with the number of complexes N.

Usage: python bench/bench_scale.py [--sizes 1000,5000,20000] [--quick] [--workers 2] [--tmp DIR] [--keep]
                                   [--out bench/results/scale.json] [--device cpu]

For each N the bench writes a PDBbind-style tree (flat `<root>/<code>/` folders and `index/INDEX_general_PL_data.2019`)
by replicating the toy50 complexes the repository carries (`tests/data/toy50`: pocket PDB, ligand SDF and mol2):
every replica gets a distinct PDB code, its INDEX line (the original line under the new code) and coordinates moved
by one random translation per complex plus 0.01 Å of noise per atom. Full-protein files are not copied (the default
`pocket_source='auto'` reads the pocket file), so the tree is smaller than a real one. The tree is flushed to disk
(`os.sync`) before anything is timed.

Measured per N, each in a fresh process:
- `process`: the `aidd_process` console script (subprocess, `--workers`): wall time; CPU time of the process tree and
  of the command's own process; `process_cpu_bound`, the wall time the same CPU work would take with `--workers` idle
  cores (own CPU + the workers' CPU / workers: what the wall time is on an unshared machine); peak memory of the
  process tree (summed RSS, which counts the workers' copy-on-write pages once per process, and summed PSS, which
  shares them out; both sampled) and of its largest single process (wait4);
- `process_cached`: the same command again (everything comes from the cache);
- the training side (a child interpreter, RSS measured from after the imports; run for every N in turn,
  `--train-rounds` times, keeping each step's fastest round): `load` (`load_graphs`, what the
  trainer and the optimizer call), `fingerprint` (`data_info`: the profile's data fingerprint and heaviest complex),
  `worst_case` (`WorstCase.from_graphs` + `worst_case_batch` of 64, what the probe builds), `split` (`make_splits`
  from scratch, then the id → graph mapping the trainer builds), `split_reuse` (`make_splits` reading splits.json),
  `loaders` (the trainer's train and evaluation loaders), `epoch` (one shuffled training epoch at the default batch
  size: collate + `.to(device)`, no model), `epoch_atom_budget` (the same with a 4096-atom budget), and the data
  memory: RSS growth from the imports to after the loaders were built (and the peak after the epoch).

Slopes are least-squares fits of log(value) on log(N) over the sizes (1: linear, 2: quadratic), and the exponent
between the two largest sizes (a fixed cost, such as the imports, pulls the fitted slope below 1; the last pair less).
Every timed step records wall and CPU seconds: on a shared machine other processes stretch wall times, so the
linearity goal is judged on CPU seconds (and wall slopes above the limit are listed beside it). Steps that take
under 20 ms at the largest N are marked as noise-dominated. Results: `--out` (JSON) and the same name with
`.log` (the printed table); `--quick` runs tiny sizes and writes nothing unless `--out` is given.
"""
import argparse, gc, json, math, os, re, shutil, subprocess, sys, tempfile, threading, time
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT/'tests'/'data'/'toy50'
RESULTS = ROOT/'bench'/'results'
DEFAULT_SIZES = '1000,5000,20000'
QUICK_SIZES = '60,180'
GOALS = dict(process_seconds_20k=300, load_seconds=10, data_memory_bytes=2 * 2**30, slope=1.15)
TRAIN_STEPS = ('load', 'fingerprint', 'worst_case', 'split', 'split_reuse', 'loaders', 'epoch', 'epoch_atom_budget')
NOISE_S = 0.02
_COORD_PDB = re.compile(r'^(ATOM  |HETATM)')


class Tee:
    "Print to stdout and keep every line for the log file."
    def __init__(self): self.lines = []
    def __call__(self, *a):
        s = ' '.join(str(x) for x in a)
        print(s, flush=True)
        self.lines.append(s)


# ---------------------------------------------------------------- the replicated tree
def _pdb_template(text:str):
    "(format string, [n,3] coords) of a PDB: columns 31-54 of ATOM/HETATM lines become %8.3f fields."
    out, xyz = [], []
    for line in text.replace('%', '%%').splitlines():
        if _COORD_PDB.match(line) and len(line) >= 54:
            xyz.append([float(line[30 + 8 * k:38 + 8 * k]) for k in range(3)])
            line = line[:30] + '%8.3f%8.3f%8.3f' + line[54:]
        out.append(line)
    return '\n'.join(out) + '\n', np.array(xyz, dtype=np.float64).reshape(-1, 3)


def _sdf_template(text:str):
    "(format string, coords) of a V2000 SDF (first molecule's atom block: three %10.4f fields per atom line)."
    lines = text.replace('%', '%%').splitlines()
    n = int(lines[3][:3])
    xyz = []
    for i in range(4, 4 + n):
        xyz.append([float(lines[i][10 * k:10 * k + 10]) for k in range(3)])
        lines[i] = '%10.4f%10.4f%10.4f' + lines[i][30:]
    return '\n'.join(lines) + '\n', np.array(xyz, dtype=np.float64).reshape(-1, 3)


def _mol2_template(text:str):
    "(format string, coords) of a mol2: the @<TRIPOS>ATOM lines rebuilt with three %10.4f coordinate fields."
    lines, xyz, inside = text.replace('%', '%%').splitlines(), [], False
    for i, line in enumerate(lines):
        if line.startswith('@<TRIPOS>'):
            inside = line.strip() == '@<TRIPOS>ATOM'
            continue
        tok = line.split()
        if inside and len(tok) >= 6:
            xyz.append([float(t) for t in tok[2:5]])
            lines[i] = f'{tok[0]:>7} {tok[1]:<8} %10.4f %10.4f %10.4f ' + ' '.join(tok[5:])
    return '\n'.join(lines) + '\n', np.array(xyz, dtype=np.float64).reshape(-1, 3)


_TEMPLATES = {'_pocket.pdb': _pdb_template, '_ligand.sdf': _sdf_template, '_ligand.mol2': _mol2_template}


def load_templates(toy:Path=TOY) -> list:
    "One template per toy complex: its INDEX line after the code and, per file suffix, (format string, coords)."
    idx = next(toy.glob('INDEX_*'))
    lines = [ln for ln in idx.read_text().splitlines() if ln.strip() and not ln.startswith('#')]
    out = []
    for ln in lines:
        code = ln.split()[0].lower()
        files = {}
        for suf, fn in _TEMPLATES.items():
            p = toy/code/f'{code}{suf}'
            if p.exists(): files[suf] = fn(p.read_text())
        if '_pocket.pdb' in files: out.append(dict(code=code, rest=ln[len(code):], files=files))
    return out


def make_codes(n:int, avoid=()) -> list:
    "`n` distinct PDB-style codes (digit + 3 base-36 characters) not in `avoid`."
    alpha, avoid, out, i = '0123456789abcdefghijklmnopqrstuvwxyz', set(avoid), [], 0
    while len(out) < n:
        d, r = divmod(i, 36 ** 3)
        c = f'{1 + d % 9}{alpha[r // 1296]}{alpha[r // 36 % 36]}{alpha[r % 36]}'
        if c not in avoid: out.append(c)
        i += 1
    return out


def write_tree(root:Path, n:int, templates:list, seed:int=0) -> dict:
    "A PDBbind-style tree of `n` replicated complexes under `root`; returns {n, seconds, bytes}."
    t0, rng, total = time.perf_counter(), np.random.default_rng(seed), 0
    codes = make_codes(n, avoid={t['code'] for t in templates})
    index = ['# replicated toy50 complexes (bench/bench_scale.py); PDBbind INDEX_general_PL_data.2019 layout',
             '# PDB code, resolution, release year, -logKd/Ki, Kd/Ki, reference, ligand name']
    for i, code in enumerate(codes):
        t = templates[i % len(templates)]
        shift = rng.uniform(-20, 20, 3)
        (root/code).mkdir(parents=True)
        for suf, (fmt, xyz) in t['files'].items():
            moved = xyz + shift + rng.normal(0, 0.01, xyz.shape)
            data = (fmt % tuple(moved.ravel())).encode()
            (root/code/f'{code}{suf}').write_bytes(data)
            total += len(data)
        index.append(code + t['rest'])
    (root/'index').mkdir(parents=True, exist_ok=True)
    (root/'index'/'INDEX_general_PL_data.2019').write_text('\n'.join(index) + '\n')
    return dict(n=n, seconds=round(time.perf_counter() - t0, 2), bytes=total)


# ---------------------------------------------------------------- aidd_process, as a user runs it
def _tree_sample(pid:int, cpu:dict, pss:bool) -> tuple:
    """(summed RSS, summed PSS or 0) of `pid` and its descendants; records each one's CPU seconds in `cpu`.
    RSS is cheap but counts the workers' copy-on-write pages once per process; PSS shares them out but reading it
    walks every mapping (about 50 ms per process here), so it is sampled rarely."""
    import psutil
    try: procs = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
    except psutil.Error: return 0, 0
    rss, tot_pss = 0, 0
    for p in procs:
        try:
            rss += p.memory_info().rss
            if pss: tot_pss += p.memory_full_info().pss
            c = p.cpu_times()
            cpu[p.pid] = c.user + c.system
        except psutil.Error: pass
    return rss, tot_pss


def run_measured(cmd:list, env:dict, interval:float=0.5, pss_every:float=10.0) -> dict:
    """Run `cmd`: wall seconds, CPU seconds of the process tree and of the command's own process (sampled: the last
    `interval` of each process is missed), peak summed RSS and PSS of the tree (sampled), largest process (wait4)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    buf = []
    reader = threading.Thread(target=lambda: buf.extend(p.stdout), daemon=True)
    reader.start()
    peak_rss, peak_pss, cpu, next_pss = 0, 0, {}, t0 + 2.0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid: break
        now = time.perf_counter()
        rss, pss = _tree_sample(p.pid, cpu, now >= next_pss)
        if now >= next_pss: next_pss = now + pss_every
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(interval)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=10)
    main_cpu = ru.ru_utime + ru.ru_stime if len(cpu) <= 1 else cpu.get(p.pid, 0.0)
    tree_cpu = sum(cpu.values()) - cpu.get(p.pid, 0) + main_cpu
    return dict(rc=p.returncode, seconds=round(wall, 2), cpu_seconds=round(tree_cpu, 2),
                cpu_seconds_main=round(main_cpu, 2), processes=len(cpu), peak_tree_rss_bytes=int(peak_rss),
                peak_tree_pss_bytes=int(peak_pss), peak_largest_process_bytes=int(ru.ru_maxrss) * 1024,
                tail=''.join(buf)[-1500:])


def process_step(root:Path, out:Path, workers:int) -> dict:
    "`aidd_process` twice: first run (everything processed) and cached re-run."
    exe = Path(sys.executable).parent/'aidd_process'
    cmd = [str(exe) if exe.exists() else 'aidd_process', '--root', str(root), '--out', str(out),
           '--workers', str(workers), '--log-level', 'WARNING']
    env = dict(os.environ, AIDD_NO_PROGRESS='1', OMP_NUM_THREADS='1')
    first = run_measured(cmd, env)
    if first['rc'] != 0: raise SystemExit(f'aidd_process failed (exit {first["rc"]}):\n{first["tail"]}')
    m = json.loads((out/'manifest.json').read_text())
    own, workers_cpu = first['cpu_seconds_main'], first['cpu_seconds'] - first['cpu_seconds_main']
    first.update(n_ok=m['n_ok'], n_failed=m['n_failed'], seconds_pool=m['seconds_processing'],
                 seconds_process_dataset=m['seconds_total'],
                 cpu_bound_seconds=round(own + workers_cpu / max(workers, 1), 2),
                 worker_cpu_ms_per_complex=round(1000 * workers_cpu / max(m['n_ok'] + m['n_failed'], 1), 2))
    again = run_measured(cmd, env)
    m2 = json.loads((out/'manifest.json').read_text())
    again.update(n_cached=m2['n_cached'], seconds_process_dataset=m2['seconds_total'])
    return dict(process=first, process_cached=again)


# ---------------------------------------------------------------- the training side, in a fresh interpreter
def _rss() -> int:
    import psutil
    gc.collect()
    return psutil.Process().memory_info().rss


def _timed(res:dict, name:str, fn, repeat:int=1):
    """Run `fn` `repeat` times; keep the fastest wall and CPU seconds under `res['wall'][name]` and `res['cpu'][name]`
    (CPU time is what a busy, shared machine disturbs least); return the last result."""
    wall, cpu = math.inf, math.inf
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        r = fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    res['wall'][name], res['cpu'][name] = round(wall, 4), round(cpu, 4)
    return r


def _epoch(loader, device) -> tuple:
    "One pass over `loader` (collate + `.to(device)`): (batches, atoms)."
    nb, na = 0, 0
    for b in loader:
        b = b.to(device, non_blocking=True)
        nb, na = nb + 1, na + int(b.num_nodes)
    return nb, na


def train_side(out:Path, device:str) -> dict:
    "The training side's data steps on a processed folder, timed, with the RSS they add."
    import torch
    from aidd_train.config import Config
    from aidd_train.data.dataset import load_graphs, read_manifest
    from aidd_train.data.loader import make_loader, worst_case_batch
    from aidd_train.data.split import make_splits
    from aidd_train.optimize.probe import WorstCase
    from aidd_train.optimize.profile import data_info
    torch.set_num_threads(1)
    dev, cfg, t, mem = torch.device(device), Config(), dict(wall={}, cpu={}), {}
    base = _rss()
    graphs = _timed(t, 'load', lambda: load_graphs(out))
    mem['after_load'] = _rss() - base
    m = read_manifest(out)
    info = _timed(t, 'fingerprint', lambda: data_info(m, graphs), repeat=5)
    _timed(t, 'worst_case', lambda: (WorstCase.from_graphs(graphs), worst_case_batch(graphs, 64)), repeat=5)
    split_graphs = _timed(t, 'split', lambda: _split(graphs, cfg, out, make_splits))
    _timed(t, 'split_reuse', lambda: make_splits(graphs, cfg.data, out=out), repeat=5)
    loaders = _timed(t, 'loaders', lambda: _loaders(split_graphs, cfg.train, make_loader))
    mem['after_loaders'] = _rss() - base
    nb, na = _timed(t, 'epoch', lambda: _epoch(loaders[0], dev), repeat=2)
    ab = make_loader(split_graphs['train'], 64, shuffle=True, seed=0, max_atoms_per_batch=4096)
    nb2, _ = _timed(t, 'epoch_atom_budget', lambda: _epoch(ab, dev), repeat=2)
    import resource
    mem['after_epoch'] = _rss() - base
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    memory = dict(mem, baseline_rss=base, peak_rss=peak, data_memory=mem['after_loaders'], data_memory_peak=peak - base)
    return dict(n_graphs=len(graphs), n_train=len(split_graphs['train']), batches=nb, atoms=na, batches_atom_budget=nb2,
                seconds=t['wall'], cpu_seconds=t['cpu'], memory=memory,
                fingerprint=info['fingerprint'], worst_case_edges=info.get('worst_case_edges'))


def _split(graphs, cfg, out, make_splits) -> dict:
    "A fresh split (splits.json removed first) and the trainer's id → graph lists."
    (Path(out)/'splits.json').unlink(missing_ok=True)
    splits = make_splits(graphs, cfg.data, out=out)
    by_code = {g.pdb_code: g for g in graphs}
    return {k: [by_code[c] for c in v] for k, v in splits.items()}


def _loaders(split_graphs:dict, tc, make_loader) -> tuple:
    "The trainer's loaders: shuffled training loader and one evaluation loader per split."
    train = make_loader(split_graphs['train'], tc.batch_size, shuffle=True, seed=tc.seed,
                        max_atoms_per_batch=tc.max_atoms_per_batch, num_workers=tc.num_workers)
    evals = [make_loader(v, tc.batch_size, shuffle=False, max_atoms_per_batch=tc.max_atoms_per_batch) for v in
             split_graphs.values() if v]
    return train, evals


def train_step(out:Path, device:str) -> dict:
    "Run `train_side` in a fresh interpreter (clean RSS); its JSON result."
    res = out.parent/f'{out.name}.train.json'
    env = dict(os.environ, AIDD_NO_PROGRESS='1', OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, __file__, '--train-side', str(out), '--device', device, '--out', str(res)],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0: raise SystemExit(f'training-side child failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}')
    return json.loads(res.read_text())


# ---------------------------------------------------------------- table, slopes, goals
def slope(ns:list, vs:list):
    "Least-squares exponent k of v ∝ N^k (None with fewer than two positive points)."
    pts = [(math.log(n), math.log(v)) for n, v in zip(ns, vs) if v and v > 0]
    if len(pts) < 2: return None
    x, y = np.array(pts).T
    return round(float(np.polyfit(x, y, 1)[0]), 2)


def step_series(runs:list) -> tuple:
    "(sizes, {step: wall seconds per N}, {step: CPU seconds per N}, {memory: bytes per N})."
    ns = [r['n'] for r in runs]
    sec = {'process': [r['process']['seconds'] for r in runs],
           'process_dataset': [r['process']['seconds_process_dataset'] for r in runs],
           'process_pool': [r['process']['seconds_pool'] for r in runs],
           'process_cpu_bound': [r['process']['cpu_bound_seconds'] for r in runs],
           'process_cached': [r['process_cached']['seconds'] for r in runs]}
    sec.update({k: [r['train']['seconds'][k] for r in runs] for k in TRAIN_STEPS})
    cpu = {'process': [r['process']['cpu_seconds'] for r in runs],
           'process_main': [r['process']['cpu_seconds_main'] for r in runs],
           'process_cached': [r['process_cached']['cpu_seconds'] for r in runs]}
    cpu.update({k: [r['train']['cpu_seconds'][k] for r in runs] for k in TRAIN_STEPS})
    mem = {'process_tree_rss': [r['process']['peak_tree_rss_bytes'] for r in runs],
           'process_tree_pss': [r['process']['peak_tree_pss_bytes'] for r in runs],
           'process_largest': [r['process']['peak_largest_process_bytes'] for r in runs],
           'data_memory': [r['train']['memory']['data_memory'] for r in runs],
           'data_memory_peak': [r['train']['memory']['data_memory_peak'] for r in runs]}
    return ns, sec, cpu, mem


def last_slope(ns:list, vs:list):
    "The exponent between the two largest N (a fixed cost pulls the fitted slope down; this one less so)."
    (n0, v0), (n1, v1) = sorted(zip(ns, vs))[-2:] if len(ns) > 1 else ((1, 0), (1, 0))
    return round(math.log(v1 / v0) / math.log(n1 / n0), 2) if min(v0, v1) > 0 and n1 > n0 else None


def all_slopes(ns, sec, cpu, mem) -> dict:
    "Fitted and last-pair slopes of every series, by kind."
    kinds = dict(seconds=sec, cpu_seconds=cpu, memory=mem)
    return {kind: {k: dict(fit=slope(ns, vs), last=last_slope(ns, vs)) for k, vs in d.items()}
            for kind, d in kinds.items()}


def at_20k(ns, vs, k):
    """The value at N=20000: measured if run; else extrapolated from the two largest N, the larger of a straight
    line (fixed cost + cost per complex) and the power law N^k (k: the fitted slope)."""
    if 20000 in ns: return vs[ns.index(20000)], 'measured'
    if len(ns) < 2 or k is None: return None, 'n/a'
    (n0, v0), (n1, v1) = sorted(zip(ns, vs))[-2:]
    line = v1 + (v1 - v0) / (n1 - n0) * (20000 - n1)
    return max(line, v1 * (20000 / n1) ** k), 'extrapolated'


def goals(ns, sec, cpu, mem, slopes) -> dict:
    """Each goal of issue 13 item 5: value, limit, met. Linearity is judged on CPU seconds (a shared machine bends
    wall times), on the larger of the fitted and the last-pair slope; steps under 20 ms at the largest N are noise."""
    g = {}
    checks = (('process_20k_seconds', 'process', sec, GOALS['process_seconds_20k']),
              ('process_20k_cpu_bound_seconds', 'process_cpu_bound', sec, GOALS['process_seconds_20k']),
              ('load_seconds_20k', 'load', sec, GOALS['load_seconds']),
              ('data_memory_20k_bytes', 'data_memory', mem, GOALS['data_memory_bytes']))
    for name, key, series, limit in checks:
        kind = 'memory' if series is mem else 'seconds'
        v, how = at_20k(ns, series[key], slopes[kind][key]['fit'])
        g[name] = dict(value=None if v is None else round(v, 2), limit=limit, how=how, met=v is not None and v <= limit)
    def worst(kind, d):
        return {k: max(x for x in s.values() if x is not None) for k, s in slopes[kind].items()
                if not _noise(k, d) and any(x is not None and x > GOALS['slope'] for x in s.values())}
    bad = worst('cpu_seconds', cpu)
    g['linear_or_better'] = dict(limit=GOALS['slope'], judged_on='cpu_seconds', above=bad, met=not bad,
                                 wall_above=worst('seconds', sec))
    return g


def _noise(k, series) -> bool:
    return k in series and max(series[k]) < NOISE_S


def _mb(b): return f'{b / 2**20:,.0f}'


def table(runs:list, res:dict, say) -> None:
    "Print the per-N table (slopes: fitted over all N, and between the two largest) and the goals."
    ns, sec, cpu, mem = step_series(runs)
    w = 12
    for kind, title, d, fmt in (('seconds', 'wall seconds', sec, lambda v: f'{v:>{w}.3f}'),
                                ('cpu_seconds', 'CPU seconds', cpu, lambda v: f'{v:>{w}.3f}'),
                                ('memory', 'MiB', mem, lambda v: f'{_mb(v):>{w}}')):
        say('\n' + f'{title:<24}' + ''.join(f'{f"N={n}":>{w}}' for n in ns) + f'{"slope":>{w}}{"last":>{w}}')
        for k, vs in d.items():
            sl = res['slopes'][kind][k]
            mark = ' (noise)' if kind != 'memory' and _noise(k, d) else ''
            say(f'{k:<24}' + ''.join(fmt(v) for v in vs) + ''.join(f'{"-" if sl[x] is None else sl[x]:>{w}}'
                                                                   for x in ('fit', 'last')) + mark)
    say('\ngoals')
    for k, g in res['goals'].items(): say(f'  {k}: {"met" if g["met"] else "MISSED"} ' +
                                          json.dumps({a: b for a, b in g.items() if a != 'met'}))


# ---------------------------------------------------------------- driver
def check_disk(tmp:Path, n:int, say) -> None:
    "Refuse to start a size that would not fit: about 160 kB per complex (tree + cache) with a factor 2 to spare."
    free = shutil.disk_usage(tmp).free
    need = n * 160_000 * 2
    say(f'N={n}: disk free {free / 2**30:.1f} GiB, need about {need / 2**30:.1f} GiB')
    if free < need: raise SystemExit(f'not enough free disk under the temporary folder for N={n}')


def run_size(n:int, a, templates:list, tmp:Path, say) -> dict:
    "Tree → aidd_process (twice), for one N; the tree is removed unless --keep (the processed folder stays for now)."
    check_disk(tmp, n, say)
    root, out = tmp/f'root_{n}', tmp/f'out_{n}'
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    gen = write_tree(root, n, templates, seed=n)
    t0 = time.perf_counter()
    os.sync()                          # a real tree is on disk already: its writeback must not compete with processing
    gen['sync_seconds'] = round(time.perf_counter() - t0, 2)
    say(f'N={n}: tree written in {gen["seconds"]} s ({gen["bytes"] / 2**20:,.0f} MiB), '
        f'flushed in {gen["sync_seconds"]} s')
    r = dict(n=n, tree=gen, load_average_start=round(os.getloadavg()[0], 2))
    r.update(process_step(root, out, a.workers))
    p = r['process']
    say(f'N={n}: aidd_process {p["seconds"]} s (CPU {p["cpu_seconds"]} s, CPU-bound {p["cpu_bound_seconds"]} s, '
        f'pool {p["seconds_pool"]} s), '
        f'{p["n_ok"]} ok, {p["n_failed"]} failed; cached re-run {r["process_cached"]["seconds"]} s')
    r['load_average_end'] = round(os.getloadavg()[0], 2)
    for k in ('process', 'process_cached'): r[k].pop('tail', None)
    if not a.keep: shutil.rmtree(root, ignore_errors=True)
    return r


def _fastest(rounds:list) -> dict:
    "One training-side record from several rounds: each step's fastest wall and CPU seconds, the first round's rest."
    best = dict(rounds[0])
    for kind in ('seconds', 'cpu_seconds'):
        best[kind] = {k: min(r[kind][k] for r in rounds) for k in rounds[0][kind]}
    best['rounds'] = len(rounds)
    return best


def train_rounds(runs:list, a, tmp:Path, say) -> None:
    """The training side for every N, `--train-rounds` times in turn (1k, 5k, 20k, 1k, …): a step's fastest round is
    kept, so one busy minute on a shared machine does not bend one size's numbers. Then the processed folders go."""
    rounds = {r['n']: [] for r in runs}
    for i in range(a.train_rounds):
        for r in runs:
            rounds[r['n']].append(train_step(tmp/f'out_{r["n"]}', a.device))
            say(f'N={r["n"]}: training side, round {i + 1}: {json.dumps(rounds[r["n"]][-1]["seconds"])}')
    for r in runs:
        r['train'] = _fastest(rounds[r['n']])
        say(f'N={r["n"]}: data memory {_mb(r["train"]["memory"]["data_memory"])} MiB')
        if not a.keep: shutil.rmtree(tmp/f'out_{r["n"]}', ignore_errors=True)


def summarize(runs:list, a) -> dict:
    "The JSON record: environment, per-N results, slopes, goals."
    import torch
    ns, sec, cpu, mem = step_series(runs)
    slopes = all_slopes(ns, sec, cpu, mem)
    return dict(bench='bench/bench_scale.py', sizes=ns, workers=a.workers, device=a.device, cpu_count=os.cpu_count(),
                torch=torch.__version__, date=time.strftime('%Y-%m-%d'), goals_spec=GOALS, runs=runs, slopes=slopes,
                goals=goals(ns, sec, cpu, mem, slopes))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sizes', default=None, help=f'comma-separated N (default {DEFAULT_SIZES})')
    ap.add_argument('--quick', action='store_true', 
                    help=f'tiny run ({QUICK_SIZES}); writes nothing unless --out is given')
    ap.add_argument('--workers', type=int, default=2, help='aidd_process --workers')
    ap.add_argument('--device', default='cpu', help='device the loader epoch moves batches to')
    ap.add_argument('--tmp', default=None, help='folder for the replicated trees (default: a new temporary folder)')
    ap.add_argument('--keep', action='store_true', help='keep the trees and processed folders')
    ap.add_argument('--train-rounds', type=int, default=2, help='rounds of the training-side steps over all sizes')
    ap.add_argument('--out', default=None, 
                    help='results JSON (default bench/results/scale.json; a .log is written beside)')
    ap.add_argument('--train-side', default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    a.sizes = [int(s) for s in (a.sizes or (QUICK_SIZES if a.quick else DEFAULT_SIZES)).split(',')]
    if a.out is None and not a.quick: a.out = str(RESULTS/'scale.json')
    return a


def main(argv=None):
    a = parse_args(argv)
    if a.train_side:
        Path(a.out).write_text(json.dumps(train_side(Path(a.train_side), a.device)))
        return
    say, templates = Tee(), load_templates()
    tmp = Path(a.tmp) if a.tmp else Path(tempfile.mkdtemp(prefix='aidd_scale_'))
    tmp.mkdir(parents=True, exist_ok=True)
    say(f'scale bench: sizes {a.sizes}, {a.workers} workers, {len(templates)} toy templates, {os.cpu_count()} CPUs, '
        f'load average {os.getloadavg()[0]:.2f}')
    runs = [run_size(n, a, templates, tmp, say) for n in sorted(a.sizes)]
    train_rounds(runs, a, tmp, say)
    res = summarize(runs, a)
    table(runs, res, say)
    if not a.keep and not a.tmp: shutil.rmtree(tmp, ignore_errors=True)
    if a.out:
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=1) + '\n')
        out.with_suffix('.log').write_text('\n'.join(say.lines) + '\n')
        say(f'wrote {os.path.relpath(out)} and {os.path.relpath(out.with_suffix(".log"))}')
    return res


if __name__ == '__main__':
    main()
