"""Training throughput: a bare PyG loop (stock eager) vs aidd_train's loop eager vs compiled, side by side in one run.

Same model (the ViSNet `AffinityModel`, same initial weights), same data (real PDBbind graphs processed by
`aidd_process`'s library code), the same pre-collated batches in the same order. The two loops are
interleaved (bare, ours, ours, bare, bare, ours, ...) so drifts in machine load hit both alike.

- bare: `zero_grad(set_to_none=True)`, forward, MSE on standardized targets, `backward()`, `step()`.
- ours: `aidd_train.train.loop.train_epoch` → `train_step` with everything training uses: autocast
  (a no-op on CPU), Huber loss, gradient clipping, NaN/Inf guard, OOM handler, epoch bookkeeping.

- compiled: the same `train_epoch` with the model wrapped in `CompiledModel` (`train.compile=on`): compiled once
  per configuration (its first call, reported apart as the compile time), then reset to the initial weights.

Goals: ours >= 0.95 x bare; compiled >= 2 x bare, in complexes per second. Graph breaks of the compiled model
are counted with `torch._dynamo.explain` (on one batch) and reported. A profiled pass of 5 batches (not timed with the
rest) says where each step's time goes, eager and compiled: compiled kernels, matmuls, eager elementwise ops,
scatter/gather/index, the radius graph, the optimizer, and the rest (Python, autograd, dispatch).

    python bench/bench_train_loop.py [--root tests/data/toy50] [--configs 2x32x8,6x48x2 --batches 10
        --repeats 4 --threads 2 --device cpu --no-profile] [--out bench/results/train_loop.json]
"""
from __future__ import annotations
import argparse, copy, json, os, platform, statistics, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch_geometric.data import Batch

REPO = Path(__file__).resolve().parents[1]


def default_root() -> Path:
    "The toy50 set carried in the repository (50 real PDBbind complexes)."
    return REPO/'tests'/'data'/'toy50'


def load_data(root:Path, cache:Path|None, workers:int):
    from aidd_train.data.dataset import process_dataset, load_graphs
    index = next(iter(sorted(root.glob('INDEX_*'))), None)
    cache = Path(cache) if cache else Path(tempfile.gettempdir())/'aidd_bench_toy50'
    process_dataset(root, cache, index=index, workers=workers)
    return load_graphs(cache)


def make_batches(graphs, batch_size:int, n_batches:int, seed:int=0) -> list:
    g = torch.Generator().manual_seed(seed)
    out = []
    while len(out) < n_batches:
        perm = torch.randperm(len(graphs), generator=g).tolist()
        for i in range(0, len(perm) - batch_size + 1, batch_size):
            out.append(Batch.from_data_list([graphs[j] for j in perm[i:i + batch_size]]))
            if len(out) == n_batches: break
    return out


def bare_loop(model, opt, batches, device):
    for b in batches:
        b = b.to(device)
        opt.zero_grad(set_to_none=True)
        out = model(b)
        loss = F.mse_loss(out, model.standardize(b.y.view(-1)))
        loss.backward()
        opt.step()
    if device.type == 'cuda': torch.cuda.synchronize()


def our_loop(model, opt, batches, device, cfg):
    from aidd_train.train.loop import train_epoch
    from aidd_train.train.device import make_scaler, resolve_precision
    prec = resolve_precision(cfg.precision, device)
    train_epoch(model, batches, opt, make_scaler(prec, device), cfg, device, precision=prec)
    if device.type == 'cuda': torch.cuda.synchronize()


def graph_breaks(model, batch) -> dict:
    "Graphs and breaks of the compiled model's forward on one batch (`torch._dynamo.explain`), and the breaks' reasons."
    import torch._dynamo as dynamo
    dynamo.reset()
    with dynamo.config.patch(capture_dynamic_output_shape_ops=True):
        ex = dynamo.explain(model)(batch)
    dynamo.reset()
    reasons = sorted({str(b.reason).splitlines()[0][:160] for b in ex.break_reasons})
    return {'graphs': ex.graph_count, 'breaks': ex.graph_break_count, 'reasons': reasons}


GROUPS = (('compiled kernels', ('## Call CompiledFxGraph',)),
          ('matmul', ('aten::mm', 'aten::addmm', 'aten::bmm', 'aten::linear')),
          ('elementwise', ('aten::mul', 'aten::add', 'aten::sub', 'aten::div', 'aten::silu', 'aten::exp', 'aten::neg',
                           'aten::pow', 'aten::sqrt', 'aten::cos', 'aten::sin', 'aten::sigmoid', 'aten::where',
                           'aten::linalg_vector_norm', 'aten::sum', 'aten::mean', 'aten::silu_backward')),
          ('scatter / gather / index', ('aten::scatter', 'aten::index', 'aten::gather', 'aten::_index_put')),
          ('radius graph', ('aten::topk', 'aten::_cdist', 'aten::sort', 'aten::cdist')),
          ('optimizer', ('Optimizer.', 'aten::_foreach', 'aten::lerp', 'aten::addcmul', 'aten::addcdiv')))


def where_time_goes(model, opt, batches, device, cfg) -> dict:
    """Milliseconds per step by kind of work (`torch.profiler` self CPU time, grouped by op name) over `batches`
    of our loop, after one untimed pass; what is left is Python, autograd and dispatch."""
    from torch.profiler import profile
    our_loop(model, opt, batches, device, cfg)
    with profile() as prof:
        t = time.perf_counter()
        our_loop(model, opt, batches, device, cfg)
        wall = time.perf_counter() - t
    n = len(batches)
    out = {k: 0.0 for k, _ in GROUPS}
    for e in prof.key_averages():
        group = next((k for k, prefixes in GROUPS if e.key.startswith(prefixes)), None)
        if group: out[group] += e.self_cpu_time_total / 1e3 / n
    out = {k: round(v, 1) for k, v in out.items()}
    out['step (profiled)'] = round(wall / n * 1e3, 1)
    out['other'] = round(out['step (profiled)'] - sum(v for k, v in out.items() if k != 'step (profiled)'), 1)
    return out


def bench_config(graphs, L, C, bs, a, device):
    "One configuration: the three loops, interleaved, from the same initial weights on the same batches."
    from aidd_train.config import ModelConfig, TrainConfig
    from aidd_train.model import build_model, count_parameters, target_stats
    from aidd_train.train.compile import CompiledModel
    batches = make_batches(graphs, bs, a.warmup + a.batches)
    warm, timed = batches[:a.warmup], batches[a.warmup:]
    n_complexes = sum(b.num_graphs for b in timed)
    torch.manual_seed(0)
    mcfg = ModelConfig(hidden_channels=C, num_layers=L)
    base = build_model(mcfg)
    base.set_target_stats(*target_stats(torch.cat([g.y.view(-1) for g in graphs])))
    init = copy.deepcopy(base.state_dict())
    tcfg = TrainConfig(device=a.device)
    breaks = graph_breaks(copy.deepcopy(base).to(device), batches[0].to(device))
    print(f"L{L} C{C} bs{bs}: {breaks['graphs']} graphs, {breaks['breaks']} breaks; {breaks['reasons']}", flush=True)
    twin = build_model(mcfg).to(device)                  # compiled once; its weights are reset for each repeat
    compiled = CompiledModel(twin)

    def fresh(name):
        m = twin if name == 'compiled' else build_model(mcfg).to(device)
        m.load_state_dict(init)
        m.train()
        opt = torch.optim.AdamW(m.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
        return (compiled if name == 'compiled' else m), opt

    m, opt = fresh('compiled')
    t = time.perf_counter()
    our_loop(m, opt, warm[:1], device, tcfg)
    compile_s = time.perf_counter() - t
    print(f"  compile (first call, one step included): {compile_s:.1f} s", flush=True)
    names = ['bare', 'ours', 'compiled']
    times = {k: [] for k in names}
    for rep in range(a.repeats):
        for name in names[rep % 3:] + names[:rep % 3]:          # rotate who goes first
            m, opt = fresh(name)
            run = ((lambda bs_: bare_loop(m, opt, bs_, device)) if name == 'bare'
                   else (lambda bs_: our_loop(m, opt, bs_, device, tcfg)))
            run(warm)
            t = time.perf_counter()
            run(timed)
            dt = time.perf_counter() - t
            times[name].append(dt)
            print(f"  repeat {rep + 1}/{a.repeats} {name:8s}: {dt:7.2f} s  {n_complexes / dt:6.2f} complexes/s",
                  flush=True)
    spent = {}
    if a.profile:
        for name in ('ours', 'compiled'):
            m, opt = fresh(name)
            spent[name] = where_time_goes(m, opt, timed[:5], device, tcfg)
            print(f"  where the time goes, {name} (ms/step): {spent[name]}", flush=True)
    tput = {k: [n_complexes / t for t in v] for k, v in times.items()}
    ratio = {k: statistics.median([x / b for x, b in zip(tput[k], tput['bare'])]) for k in ('ours', 'compiled')}
    return {'model': {'hidden_channels': C, 'num_layers': L, 'parameters': count_parameters(base)},
            'batch_size': bs, 'timed_batches': len(timed), 'complexes': n_complexes,
            'atoms': sum(b.num_nodes for b in timed), 'repeats': a.repeats, 'seconds': times,
            'complexes_per_s': {k: statistics.median(v) for k, v in tput.items()},
            'ratio_vs_bare': ratio, 'compile_seconds': compile_s, 'graph_breaks': breaks, 'ms_per_step_by_kind': spent}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', type=Path, default=default_root(), help='raw PDBbind-style folder (toy50)')
    ap.add_argument('--cache', type=Path, default=None, help='processed-graph cache folder')
    ap.add_argument('--configs', default='2x32x8,6x48x2', help='layers x channels x batch, comma-separated')
    ap.add_argument('--batches', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2, help='untimed batches before each timed pass')
    ap.add_argument('--repeats', type=int, default=4)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--workers', type=int, default=2, help='processes for structure processing')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--no-profile', dest='profile', action='store_false',
                    help='skip the profiled pass that says where the step time goes (eager vs compiled)')
    ap.add_argument('--out', type=Path, default=REPO/'bench'/'results'/'train_loop.json')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    t0 = time.time()
    graphs = load_data(a.root, a.cache, a.workers)
    print(f"{len(graphs)} graphs from {a.root.name} ({time.time() - t0:.1f} s)", flush=True)
    rows = {}
    for spec in a.configs.split(','):
        L, C, bs = (int(x) for x in spec.split('x'))
        rows[spec] = bench_config(graphs, L, C, bs, a, device)
    res = {'what': 'complexes/s: bare PyG loop (stock eager) vs aidd_train train_epoch eager vs compiled; '
                   'same model, init, batches', 'date': time.strftime('%Y-%m-%d'),
           'device': str(device), 'threads': a.threads, 'torch': torch.__version__, 'python': platform.python_version(),
           'machine': platform.machine(), 'cpu_count': os.cpu_count(), 'configs': rows,
           'goals': {'ours_vs_bare': 0.95, 'compiled_vs_bare': 2.0}}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2))
    print('\nconfig     bare c/s   ours c/s   compiled c/s   ours/bare   compiled/bare   compile s   breaks')
    for spec, r in rows.items():
        c = r['complexes_per_s']
        print(f"{spec:10s} {c['bare']:8.2f}   {c['ours']:8.2f}   {c['compiled']:12.2f}   "
              f"{r['ratio_vs_bare']['ours']:9.3f}   {r['ratio_vs_bare']['compiled']:13.3f}   "
              f"{r['compile_seconds']:9.0f}   {r['graph_breaks']['breaks']}")
    print(f"goals: ours/bare >= 0.95, compiled/bare >= 2.0 → {a.out.name}")
    return res


if __name__ == '__main__':
    main()
