"""Training throughput: aidd_train's loop vs a bare PyG training loop, side by side in one run.

Same model (the ViSNet `AffinityModel`, same initial weights), same data (real PDBbind graphs processed by
`aidd_process`'s library code), the same pre-collated batches in the same order. The two loops are
interleaved (bare, ours, ours, bare, bare, ours, ...) so drifts in machine load hit both alike.

- bare: `zero_grad(set_to_none=True)`, forward, MSE on standardized targets, `backward()`, `step()`.
- ours: `aidd_train.train.loop.train_epoch` → `train_step` with everything training uses: autocast
  (a no-op on CPU), Huber loss, gradient clipping, NaN/Inf guard, OOM handler, epoch bookkeeping.

Goal: ours >= 0.95 x bare, in complexes per second.

    python bench/bench_train_loop.py [--root tests/data/toy50] [--hidden 32 --layers 2
        --batch-size 8 --batches 10 --repeats 6 --threads 2 --device cpu] [--out bench/results/train_loop.json]
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', type=Path, default=default_root(), help='raw PDBbind-style folder (toy50)')
    ap.add_argument('--cache', type=Path, default=None, help='processed-graph cache folder')
    ap.add_argument('--hidden', type=int, default=32); ap.add_argument('--layers', type=int, default=2)
    ap.add_argument('--batch-size', type=int, default=8); ap.add_argument('--batches', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2, help='untimed batches before each timed pass')
    ap.add_argument('--repeats', type=int, default=6); ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--workers', type=int, default=2, help='processes for structure processing')
    ap.add_argument('--device', default='cpu'); ap.add_argument('--out', type=Path, default=REPO/'bench'/'results'/'train_loop.json')
    a = ap.parse_args(argv)

    from aidd_train.config import ModelConfig, TrainConfig
    from aidd_train.model import build_model, count_parameters, target_stats
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    t0 = time.time()
    graphs = load_data(a.root, a.cache, a.workers)
    print(f"{len(graphs)} graphs from {a.root} ({time.time() - t0:.1f} s)", flush=True)
    batches = make_batches(graphs, a.batch_size, a.warmup + a.batches)
    warm, timed = batches[:a.warmup], batches[a.warmup:]
    n_complexes = sum(b.num_graphs for b in timed)
    n_atoms = sum(b.num_nodes for b in timed)

    torch.manual_seed(0)
    mcfg = ModelConfig(hidden_channels=a.hidden, num_layers=a.layers)
    base = build_model(mcfg)
    base.set_target_stats(*target_stats(torch.cat([g.y.view(-1) for g in graphs])))
    init = copy.deepcopy(base.state_dict())
    tcfg = TrainConfig(device=a.device)

    def fresh():
        m = build_model(mcfg); m.load_state_dict(init); m.to(device).train()
        return m, torch.optim.AdamW(m.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)

    times = {'bare': [], 'ours': []}
    for rep in range(a.repeats):
        for name in (('bare', 'ours') if rep % 2 == 0 else ('ours', 'bare')):      # alternate who goes first
            m, opt = fresh()
            run = (lambda bs: bare_loop(m, opt, bs, device)) if name == 'bare' else (lambda bs: our_loop(m, opt, bs, device, tcfg))
            run(warm)
            t = time.perf_counter(); run(timed); dt = time.perf_counter() - t
            times[name].append(dt)
            print(f"repeat {rep + 1}/{a.repeats} {name:4s}: {dt:7.2f} s  {n_complexes / dt:6.2f} complexes/s", flush=True)

    tput = {k: [n_complexes / t for t in v] for k, v in times.items()}
    ratios = [o / b for o, b in zip(tput['ours'], tput['bare'])]
    res = {
        'what': 'complexes/s of aidd_train train_epoch/train_step vs a bare loop; same model, init, batches',
        'device': str(device), 'threads': a.threads, 'torch': torch.__version__, 'python': platform.python_version(),
        'machine': platform.machine(), 'cpu_count': os.cpu_count(),
        'model': {'hidden_channels': a.hidden, 'num_layers': a.layers, 'parameters': count_parameters(base)},
        'batch_size': a.batch_size, 'timed_batches': len(timed), 'complexes': n_complexes, 'atoms': n_atoms,
        'repeats': a.repeats, 'seconds': times,
        'complexes_per_s': {k: statistics.median(v) for k, v in tput.items()},
        'ratio_per_repeat': ratios, 'ratio_median': statistics.median(ratios),
        'goal': 0.95, 'meets_goal': statistics.median(ratios) >= 0.95,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2))
    print(f"\nbare {res['complexes_per_s']['bare']:.2f} complexes/s | ours {res['complexes_per_s']['ours']:.2f} complexes/s | "
          f"ratio ours/bare = {res['ratio_median']:.3f} (per repeat: {', '.join(f'{r:.3f}' for r in ratios)}); "
          f"goal >= 0.95: {'met' if res['meets_goal'] else 'NOT met'}\n→ {a.out}")
    return res


if __name__ == '__main__':
    main()
