"""The hardware optimizer, measured on the real CPU with real ViSNet probes on toy50's worst-case batches.

Three questions, answered side by side in one run (the machine is noisy: ratios within a run are what count):

1. **Probes to the batch-size edge**: ours (`optimize.memory.find_max_batch`, cold: a fresh memory model per
   configuration; warm: one model shared in order, as in a stage search) against faithful re-implementations of
   Lightning's `BatchSizeFinder` modes `power` and `binsearch` (init_val 2;
   `pytorch_lightning/tuner/batch_size_scaling.py`) and Accelerate's `find_executable_batch_size` (start 128, halve
   on failure; `accelerate/utils/memory.py`). All strategies query the same oracle: the real probe of (layers,
   channels, batch) under a CPU memory budget (over the usable budget = out of memory), memoised — the allocator
   peak is repeatable to the byte, so a second strategy asking the same point gets the same answer without a second
   measurement. A batch that the memory model predicts above 2× the budget is counted as an OOM probe without being
   run (on a CPU it would not raise: it would take the machine down). The true edge is the largest batch that fits,
   from the oracle.
2. **Cycle time**: the optimizer's predicted cycle (mean of `timing_steps` representative steps × cycle batches) against
   a measured cycle: the training loop's own `train_epoch` over `--cycle-batches` real shuffled batches; three times
   per configuration, alternating, so the spread of the measured cycles (the machine's noise) is printed beside the
   error.
3. **The whole optimizer**: `optimize_hardware` with all three stages and the default windows on toy50 under a 2 GB
   CPU budget — wall time, probes, probes per configuration, evaluations counted per stage, every choice under it.
   Then (`train`) each stage's choice trains one full epoch with `aidd_train --profile`: exit status, OOM events,
   peak RSS growth against the budget.
4. **Bayesian vs exhaustive** on prototyping and validation: the whole stage grid is evaluated once with real probes
   (exhaustive, smallest first); then `BayesSearch` is replayed over those evaluations with several seeds, counting
   evaluations until it reaches the configuration the exhaustive search chose.
   The same replay with the acquisition as it was before 2026-11-29 (P(window) ranked as is, so it underflowed to
   a smallest-first order where the window is out of reach) shows what the log-space ranking changed.

    python bench/bench_optimizer.py [--root tests/data/toy50] [--parts cycle,edge,stages,train,search]
                                    [--out bench/results/optimizer_toy50.json]
"""
from __future__ import annotations
import argparse, json, os, platform, statistics, tempfile, time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _rel(p):
    "A path as written in results: relative to the repository when inside it (no machine paths in committed files)."
    p = Path(p).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else p.name


def load(root, cache):
    from aidd_train.data.dataset import process_dataset, load_graphs, read_manifest
    process_dataset(root, cache)
    return load_graphs(cache), read_manifest(cache)


class Oracle:
    "Real probes (memory only), memoised; a prediction above `refuse` × budget is an OOM without a run."
    def __init__(self, graphs, budget, refuse=2.0):
        from aidd_train.config import Config
        from aidd_train.optimize.device import CPUDevice
        from aidd_train.optimize.probe import Prober
        from aidd_train.optimize.memory import MemoryModel
        self.pr = Prober(graphs, Config(), CPUDevice(budget), margin=0.9)
        self.mm, self.cache, self.refuse, self.runs = MemoryModel(), {}, refuse, 0
        self.usable, self.worst, self.max_batch, self.device = (self.pr.usable, self.pr.worst, self.pr.max_batch,
                                                                self.pr.device)
    def parameters(self, L, C): return self.pr.parameters(L, C)
    def fits(self, L, C, b):
        from aidd_train.optimize.probe import ProbeResult
        k = (L, C, b)
        if k not in self.cache:
            pred = self.mm.predict(L, C, self.parameters(L, C), self.worst.edges(b)) if self.mm.n >= 2 else None
            if pred is not None and pred > self.refuse * self.pr.device.budget:
                r = ProbeResult(L, C, b, 'oom', error='predicted far above the budget: not run',
                                edges=self.worst.edges(b))
            else:
                r = self.pr.probe(L, C, b, timed_steps=0)
                self.runs += 1
                self.mm.add(r)
            self.cache[k] = r
        return self.cache[k]
    def probe(self, L, C, bs, timed_steps=0, max_step_seconds=None, predicted=None, stage=None):
        return self.fits(L, C, bs)


def _adjust(size, oracle, factor=None, value=None):
    "Lightning's _adjust_batch_size: scale or set, never above the dataset size; returns (new, changed)."
    new = int(size * factor) if factor is not None else int(value)
    new = max(1, min(new, oracle.max_batch))
    return new, new != size

def lightning_power(oracle, L, C, init=2, max_trials=25):
    """Lightning `_run_power_scaling`: double after a success, halve after a failure; stop at the first failure after a
    success."""
    size, n, any_success = init, 0, False
    for _ in range(max_trials):
        n += 1
        if oracle.fits(L, C, size).ok:
            new, changed = _adjust(size, oracle, factor=2.0)
            any_success = True
            if not changed: return size, n
            size = new
        else:
            size, _ = _adjust(size, oracle, factor=0.5)
            if any_success: break
    return size, n

def lightning_binsearch(oracle, L, C, init=2, max_trials=25):
    "Lightning `_run_binary_scaling`: double until a failure, then bisect between the last success and the failure."
    size, low, high, n, count = init, 1, None, 0, 0
    while True:
        n += 1
        if oracle.fits(L, C, size).ok:
            count += 1
            if count > max_trials: break
            low = size
            if high:
                if high - low <= 1: break
                size, changed = _adjust(size, oracle, value=(high + low) // 2)
            else: size, changed = _adjust(size, oracle, factor=2.0)
            if not changed: break
        else:
            high = size
            size, _ = _adjust(size, oracle, value=(high + low) // 2)
            if high - low <= 1: break
    return size, n

def accelerate(oracle, L, C, start=128):
    "Accelerate `find_executable_batch_size`: start at 128, halve after every out-of-memory failure."
    n, bs = 0, start
    while bs >= 1:
        n += 1
        if oracle.fits(L, C, min(bs, oracle.max_batch)).ok: return min(bs, oracle.max_batch), n
        bs //= 2
    return 0, n


def true_edge(oracle, L, C):
    b = 0
    while b < oracle.max_batch and oracle.fits(L, C, b + 1).ok: b += 1
    return b


def part_edge(graphs, scenarios):
    from aidd_train.optimize.memory import MemoryModel, find_max_batch
    rows, budgets = [], sorted({b for _, _, b in scenarios})
    oracles = {b: Oracle(graphs, b) for b in budgets}
    warm = {b: MemoryModel() for b in budgets}
    for L, C, b in scenarios:
        o = oracles[b]
        edge = true_edge(o, L, C)
        res = {'config': [L, C], 'budget': b, 'true_edge': edge}
        for name, f in (('lightning_power', lambda: lightning_power(o, L, C)),
                        ('lightning_binsearch', lambda: lightning_binsearch(o, L, C)),
                        ('accelerate_halving', lambda: accelerate(o, L, C))):
            bs, n = f()
            res[name] = {'found': bs, 'probes': n}
        for name, mm in (('ours_cold', MemoryModel()), ('ours_warm', warm[b])):
            er = find_max_batch(o, mm, L, C, timed_steps=0)
            res[name] = {'found': er.batch_size, 'probes': len(er.probes)}
        rows.append(res)
        print(f"({L},{C}) budget {b}: edge {edge} | "
              + ' | '.join(f"{k} {v['found']}/{v['probes']}" for k, v in res.items() if isinstance(v, dict)),
              flush=True)
    summary = {}
    for k in ('lightning_power', 'lightning_binsearch', 'accelerate_halving', 'ours_cold', 'ours_warm'):
        summary[k] = {'mean_probes': statistics.mean(r[k]['probes'] for r in rows),
                      'found_exact': sum(r[k]['found'] == r['true_edge'] for r in rows),
                      'within_5pct': sum(r[k]['found'] >= 0.95 * r['true_edge'] and r[k]['found'] <= r['true_edge']
                                         for r in rows),
                      'above_edge': sum(r[k]['found'] > r['true_edge'] for r in rows),
                      'mean_found_over_edge': statistics.mean(r[k]['found'] / r['true_edge']
                                                              for r in rows if r['true_edge'])}
    return {'scenarios': rows, 'summary': summary, 'real_probes_run': sum(o.runs for o in oracles.values())}


def part_cycle(graphs, configs, cycle_batches, timing_steps, repeats=3):
    """Predicted vs measured cycle, `repeats` times per configuration, alternating (predict, measure, predict, ...), so
    the spread of the measured cycles themselves (this machine's noise) is reported beside the prediction error.
    The prediction is the optimizer's own fused confirmation (`Prober.confirm`: worst-case step, one warm-up step,
    `timing_steps` timed representative steps, one model); the measurement is the training loop's `train_epoch` over
    `cycle_batches` real shuffled batches with a fresh model. The first pair runs first thing in this process (cold)."""
    from aidd_train.config import Config
    from aidd_train.optimize.device import CPUDevice
    from aidd_train.optimize.probe import Prober
    from aidd_train.data.loader import make_loader
    from aidd_train.train.loop import train_epoch, EpochState
    pr, rows, first = Prober(graphs, Config(), CPUDevice('8GiB')), [], True
    for L, C, bs in configs:
        preds, meas, colds = [], [], []
        for rep in range(repeats):
            c = pr.confirm(L, C, bs, n=timing_steps)
            assert c.ok, c.summary()
            preds.append(cycle_batches * c.step_seconds)
            colds.append(first)
            model, opt, scaler = pr._build(L, C)
            loader = make_loader(graphs, bs, shuffle=True, seed=123 + rep, drop_last=True)
            done, t0, epoch = 0, time.perf_counter(), 0
            while done < cycle_batches:
                st = train_epoch(model, loader, opt, scaler, pr.cfg.train, 'cpu', state=EpochState(epoch=epoch),
                                 n_batches=min(len(loader), cycle_batches - done), precision='fp32')
                done += st.batch
                epoch += 1
            meas.append(time.perf_counter() - t0)
            model = opt = None
            pr.device.free()
            print(f'cycle ({L},{C}) bs {bs} #{rep + 1}{" (cold: first in this process)" if first else ""}: predicted '
                  f'{preds[-1]:.1f} s from {timing_steps} steps, measured {meas[-1]:.1f} s over {cycle_batches} '
                  f'batches → {100 * (preds[-1] / meas[-1] - 1):+.1f} %', flush=True)
            first = False
        pm, mm = statistics.mean(preds), statistics.mean(meas)
        rows.append({'config': [L, C, bs], 'timing_steps': timing_steps, 'cycle_batches': cycle_batches,
                     'predicted_s': preds, 'measured_s': meas, 'cold': colds,
                     'error_pct': [100 * (p / m - 1) for p, m in zip(preds, meas)],
                     'error_of_means_pct': 100 * (pm / mm - 1),
                     'measured_spread_pct': 100 * (max(meas) - min(meas)) / mm})
        print(f'cycle ({L},{C}) bs {bs}: mean predicted {pm:.1f} s vs mean measured {mm:.1f} s → '
              f'{100 * (pm / mm - 1):+.1f} %; the measured cycles themselves spread '
              f'{rows[-1]["measured_spread_pct"]:.0f} %', flush=True)
    errs = [e for r in rows for e in r['error_pct']]
    return {'configs': rows, 'max_abs_error_of_means_pct': max(abs(r['error_of_means_pct']) for r in rows),
            'max_abs_error_single_pct': max(abs(e) for e in errs),
            'repeats_within_10pct': sum(abs(e) <= 10 for e in errs), 'repeats': len(errs),
            'cold_error_pct': [e for r in rows for e, c in zip(r['error_pct'], r['cold']) if c]}


def _linear_ranking():
    """BayesSearch with the acquisition as it was before 2026-11-29 (P(window)×P(memory) ranked as is, ties smaller
    first)."""
    import math
    import numpy as np
    from aidd_train.optimize.search import BayesSearch
    class LinearRanking(BayesSearch):
        def acquisition(self, pts):
            from skopt.acquisition import gaussian_ei
            X = self.X[[self.index[p] for p in pts]]
            gp_o, gp_c, obj = self._fit()
            pw, pm = self._p_window(gp_c, X), np.array([self.p_memory(*p) for p in pts], float)
            best = [-math.log(e.samples_per_s) for e in self.history
                    if e.samples_per_s and e.in_window is not False and e.status == 'ok']
            if gp_o is None or not best: return pw * pm + 1e-9 * np.arange(len(pts), 0, -1)
            return gaussian_ei(X, gp_o, y_opt=min(best), xi=0.01) * pw * pm
    return LinearRanking


def part_search(graphs, manifest, budget, seeds, stage='prototyping'):
    from aidd_train.config import Config
    from aidd_train.optimize.device import CPUDevice
    from aidd_train.optimize.probe import Prober
    from aidd_train.optimize.memory import MemoryModel
    from aidd_train.optimize.space import stage_space, candidates, stage_window
    from aidd_train.optimize.search import BayesSearch
    from aidd_train.optimize.stages import CachedProber, TimeModel, evaluate_config, select
    LinearRanking = _linear_ranking()
    cfg = Config().updated({'optimize.memory_budget': budget})
    ocfg = cfg.optimize
    pr = CachedProber(Prober(graphs, cfg, CPUDevice(budget), ocfg.memory_margin))
    mm, tm = MemoryModel(), TimeModel()
    space = stage_space(stage, ocfg, cfg.model, pr.usable, len(graphs))
    pts, window = candidates(space, cfg.model, pr.parameters), stage_window(stage, ocfg)
    t0 = time.perf_counter()
    full = BayesSearch(pts, len(pts), window, exhaustive=True)
    while (p := full.ask()) is not None:
        ev = evaluate_config(pr, mm, *p, stage, ocfg, None, tm)
        if ev.predicted_only: full.skip(p, ev.reason)
        else: full.tell(p, ev)
    t_ex = time.perf_counter() - t0
    best = select(stage, full.history, window).evaluation
    evals = {e.point: e for e in full.history}
    order = [e.point for e in full.history] + list(full.skipped)
    rank = order.index(best.point) + 1
    def replay(cls, seed):
        """BO over the exhaustive run's evaluations: (evaluations until the best, what the stage rule picks within
        n_calls)."""
        import copy
        bo, k = cls(pts, len(pts), window, n_initial=ocfg.n_initial_points, seed=seed, exhaustive=False), None
        while (p := bo.ask()) is not None:
            if p in evals: bo.tell(p, copy.deepcopy(evals[p]))
            else: bo.skip(p, full.skipped.get(p) or 'skipped in the exhaustive run')
            if p == best.point and k is None: k = len(bo.history)
        chosen = select(stage, bo.history[:ocfg.n_calls], window).evaluation
        return k, list(chosen.point) if chosen else None
    variants = {'bayes': BayesSearch, 'bayes_linear_ranking': LinearRanking}
    runs = {v: [replay(cls, s) for s in seeds] for v, cls in variants.items()}
    at = [k for k, _ in runs['bayes']]
    print(f'search ({stage}): exhaustive evaluated {len(full.history)} of {len(pts)} '
          f'(took {t_ex:.0f} s, {len(pr.new)} probes), best {best.point} at rank {rank}; '
          f'Bayesian reached it after {at} evaluations', flush=True)
    for v, r in runs.items():
        print(f'  {v}: evaluations to the best {[k for k, _ in r]}; the stage rule on the first {ocfg.n_calls} picks '
              f'{[tuple(c) if c else None for _, c in r]}', flush=True)
    return {'stage': stage, 'grid': len(pts), 'n_calls': ocfg.n_calls, 'exhaustive_evaluations': len(full.history),
            'exhaustive_seconds': t_ex, 'exhaustive_probes': len(pr.new), 'best': list(best.point),
            'exhaustive_rank_of_best': rank,
            'bayesian_evaluations_to_best': at, 'bayesian_median': statistics.median([a for a in at if a] or [0]),
            'variants': {v: {'evaluations_to_best': [k for k, _ in r], 'chosen_within_n_calls': [c for _, c in r],
                             'found_best_within_n_calls': sum(c == list(best.point) for _, c in r)}
                         for v, r in runs.items()}}


def part_stages(cache, budget='2GB', keep=None):
    from aidd_train.config import Config
    from aidd_train.optimize.stages import optimize_hardware
    cfg = Config().updated({'optimize.memory_budget': budget, 'optimize.device': 'cpu'})
    out = Path(tempfile.mkdtemp())/'hardware_profile.json'
    probes, t0 = [], time.perf_counter()
    prof = optimize_hardware(cache, cfg, out=out, on_probe=probes.append)
    wall = time.perf_counter() - t0
    budget_b = prof['hardware']['memory_budget_bytes']
    over = [p for p in probes if p.status == 'oom']
    evals = sum(1 for s in prof['search'].values() for e in s['history'] if e['n_probes'])
    per_stage = {s: {'evaluations': len(r['history']),
                     'probed_evaluations': sum(1 for e in r['history'] if e['n_probes']),
                     'skipped_without_probe': len(r['skipped']), 'outcome': r.get('outcome'),
                     'probes': sum(1 for p in probes if p.stage == s),
                     'confirmation_probes': sum(1 for p in probes if p.stage == s and p.confirmation)}
                 for s, r in prof['search'].items()}
    search_probes = sum(1 for p in probes if not p.confirmation and p.stage != 'check')
    res = {'wall_seconds': wall, 'n_probes': len(probes), 'probed_configurations': evals, 'per_stage': per_stage,
           'search_probes_per_configuration': search_probes / max(evals, 1),
           'probes_per_configuration': len(probes) / max(evals, 1), 'probes_over_budget': len(over),
           'budget_bytes': budget_b,
           'usable_bytes': prof['stages'] and next(iter(prof['stages'].values()))['usable_memory_bytes'],
           'stages': {s: {k: st[k] for k in ('num_layers', 'hidden_channels', 'batch_size', 'cycle_minutes',
                                              'samples_per_s', 'peak_memory_bytes', 'parameters', 'note')}
                      for s, st in prof['stages'].items()},
           'conditions': prof.get('conditions'), 'notes': prof.get('notes')}
    assert all(st['peak_memory_bytes'] <= budget_b for st in prof['stages'].values())
    if keep: Path(keep).write_text(out.read_text())           # the profile itself, next to the results
    for st_name, d in per_stage.items():
        print(f"  {st_name}: {d['evaluations']} evaluations counted ({d['probed_evaluations']} with new probes), "
              f"{d['skipped_without_probe']} skipped without a probe, {d['probes']} probes "
              f"incl. {d['confirmation_probes']} confirmation, outcome {d['outcome']}", flush=True)
    print(f"stages: {wall:.0f} s, {len(probes)} probes over {evals} configurations "
          f"({res['probes_per_configuration']:.2f} each, "
          f"{res['search_probes_per_configuration']:.2f} without the confirmations and the smallest check), "
          f"{len(over)} over the budget; "
          + '; '.join(f"{s} L{st['num_layers']} C{st['hidden_channels']} bs{st['batch_size']}"
                      for s, st in prof['stages'].items()), flush=True)
    return res


_RSS_WRAPPER = ('import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); '
                'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)')

def _max_rss(cmd:list, env:dict) -> tuple:
    """(exit status, peak resident memory in bytes) of a command. It runs under a small wrapper process: Linux keeps a
    process's `ru_maxrss` across exec, so a child forked straight from this (large) process would report our size."""
    import sys, subprocess
    r = subprocess.run([sys.executable, '-c', _RSS_WRAPPER] + [str(c) for c in cmd], env=env, capture_output=True,
                       text=True)
    return r.returncode, int(r.stdout.strip().splitlines()[-1]) * 1024


def part_train(cache, profile, stages=('prototyping', 'validation', 'production')):
    """Each stage's choice trained for one full epoch with `aidd_train --profile`: exit status, OOM events, and the
    peak RSS growth (the training process's peak minus the peak of a process that imports the same code and loads
    the same data without training), against the profile's memory budget."""
    import sys, subprocess
    env = dict(os.environ, AIDD_NO_PROGRESS='1')
    py = sys.executable
    base_code = ('import sys; from aidd_train.data.dataset import load_graphs; '
                 'import aidd_train.cli, aidd_train.train.engine; g = load_graphs(sys.argv[1]); print(len(g))')
    rc, base = _max_rss([py, '-c', base_code, cache], env)
    assert rc == 0
    prof = json.loads(Path(profile).read_text())
    budget = prof['hardware']['memory_budget_bytes']
    rows = {}
    for st in [s for s in stages if s in prof['stages']]:      # a stage that found nothing has nothing to train
        run = Path(tempfile.mkdtemp())/st
        rc, peak = _max_rss([Path(py).parent/'aidd_train', '--data', cache, '--run-dir', run, '--profile', profile,
                             '--stage', st, '--epochs', 1, '--device', 'cpu'], env)
        res = json.loads((run/'results.json').read_text()) if (run/'results.json').exists() else {}
        rows[st] = {'exit': rc, 'oom_events': res.get('oom_events'), 'epochs_run': res.get('epochs_run'),
                    'peak_rss_bytes': peak, 'baseline_rss_bytes': base, 'rss_growth_bytes': peak - base,
                    'budget_bytes': budget, 'profile_peak_bytes': prof['stages'][st]['peak_memory_bytes'],
                    'batch_size': prof['stages'][st]['batch_size']}
        r = rows[st]
        print(f"train {st} (batch {r['batch_size']}): exit {rc}, {r['epochs_run']} epoch, "
              f"{r['oom_events']} OOM events, RSS growth {(peak - base) / 2**30:.2f} GiB "
              f"vs budget {budget / 2**30:.2f} GiB "
              f"(profile peak {r['profile_peak_bytes'] / 2**30:.2f} GiB)", flush=True)
    return rows


def merge_previous(out:Path, res:dict) -> dict:
    "Parts not run this time keep their earlier results (and dates), so a partial re-run does not erase them."
    if not out.exists(): return res
    prev = json.loads(out.read_text())
    dates = prev.get('part_dates') or {p: prev.get('date') for p in ('cycle', 'edge', 'stages', 'train', 'search')}
    for part in ('cycle', 'edge', 'stages', 'train', 'search'):
        if part in res or part not in prev: continue
        res[part] = prev[part]
        res['part_dates'][part] = dates.get(part)
        if f'{part}_note' in prev: res[f'{part}_note'] = prev[f'{part}_note']
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--root', default=str(REPO/'tests'/'data'/'toy50'))
    ap.add_argument('--parts', default='cycle,edge,stages,train,search')
    ap.add_argument('--cycle-batches', type=int, default=60)
    ap.add_argument('--timing-steps', type=int, default=10)
    ap.add_argument('--out', default=str(REPO/'bench'/'results'/'optimizer_toy50.json'))
    a = ap.parse_args()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault('AIDD_NO_PROGRESS', '1')
    import torch
    cache = Path(tempfile.gettempdir())/'aidd_bench_opt_toy50'
    graphs, manifest = load(a.root, cache)
    res = {'date': str(date.today()), 'machine': f'{platform.machine()}, {os.cpu_count()} cores',
           'torch': torch.__version__, 'load_average_start': os.getloadavg(), 'root': _rel(a.root),
           'n_complexes': len(graphs)}
    t0 = time.perf_counter()
    parts = a.parts.split(',')
    if 'cycle' in parts:                       # first: its first prediction is the cold one of a fresh process
        res['cycle'] = part_cycle(graphs, [(2, 32, 8), (3, 64, 4)], a.cycle_batches, a.timing_steps)
    if 'edge' in parts:
        scen = [(2, 32, '512MiB'), (2, 32, '1GiB'), (2, 32, '2GiB'), (3, 64, '1GiB'), (3, 64, '2GiB'), (3, 64, '3GiB'),
                (4, 128, '2GiB'), (4, 128, '3GiB')]
        res['edge'] = part_edge(graphs, scen)
    if 'stages' in parts:
        res['stages'] = part_stages(cache, keep=Path(a.out).with_suffix('.profile.json'))
    if 'train' in parts:                       # needs the stages part's profile
        res['train'] = part_train(cache, Path(a.out).with_suffix('.profile.json'))
    if 'search' in parts:
        res['search'] = {st: part_search(graphs, manifest, '2GB', seeds=range(5), stage=st)
                         for st in ('prototyping', 'validation')}
    res['seconds'] = time.perf_counter() - t0
    res['load_average_end'] = os.getloadavg()
    res['part_dates'] = {p: res['date'] for p in parts if p in res}
    res = merge_previous(Path(a.out), res)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1, default=str))
    if 'edge' in res:
        print('\nprobes to the edge (mean over scenarios), found exactly / within 5 % / above the edge:')
        for k, v in res['edge']['summary'].items():
            print(f"  {k:20s} {v['mean_probes']:.2f} probes, {v['found_exact']}/{len(res['edge']['scenarios'])} exact, "
                  f"{v['within_5pct']} within 5 %, {v['above_edge']} above, "
                  f"mean found/edge {v['mean_found_over_edge']:.2f}")
    if 'cycle' in res:
        c = res['cycle']
        print(f"\ncycle predicted by the fused confirmation vs train_epoch: "
              f"{c['repeats_within_10pct']}/{c['repeats']} repeats within 10 %, "
              f"max |error| {c['max_abs_error_single_pct']:.1f} %, cold (first in the process) "
              f"{[round(e, 1) for e in c['cold_error_pct']]} %")
    print(f"wrote {_rel(a.out)} ({res['seconds']:.0f} s)")


if __name__ == '__main__':
    main()
