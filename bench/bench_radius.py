"""Radius graph: the vectorised `radius_graph_torch` vs the per-graph loop it replaced, side by side in one run.

Both get the same pre-collated toy50 batches (real PDBbind pockets built by the data layer, 199-854 heavy atoms)
with ViSNet's setting: cutoff 5 A, 32 neighbours, self loops. Three variants, interleaved in every repeat (the
order rotates, so drifts in machine load hit all alike):

- old: the per-graph Python loop (one `cdist` + a full stable sort per graph, graph boundaries read with
  `.tolist()`), copied here from the code it replaced;
- new: `aidd_train.model.radius_graph_torch(pos, r, batch, ...)`, graph sizes read from `batch`;
- new_ptr: the same with `ptr` (the batch's boundaries on the host), as `AffinityModel` calls it.

Every variant's edges are checked against the old ones (same set) before timing. The variants run back to back
on each batch (paired), so the ratio old/new is the median of per-batch ratios, robust to a shared machine's
changing load; also reported: the median over repeats of the mean time per batch, for batches of 8 and 32.

    python bench/bench_radius.py [--root tests/data/toy50] [--batch-sizes 8,32] [--batches 6] [--repeats 5]
        [--threads 1,2] [--device cpu] [--out bench/results/radius_graph.json]
"""
from __future__ import annotations
import argparse, json, math, os, platform, statistics, sys, time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


@torch.no_grad()
def radius_graph_loop(pos, r, batch=None, max_num_neighbors=32, loop=False, block_elems=2**21):
    "The per-graph loop that `radius_graph_torch` replaced (its code before the vectorised version)."
    n, dev = pos.size(0), pos.device
    empty = torch.empty(2, 0, dtype=torch.long, device=dev)
    if n == 0 or max_num_neighbors < 1: return empty
    if batch is None: batch = torch.zeros(n, dtype=torch.long, device=dev)
    batch = batch.to(dev).long()
    if n > 1 and bool((batch[1:] < batch[:-1]).any()):
        perm = torch.argsort(batch, stable=True)
        return perm[radius_graph_loop(pos[perm], r, batch[perm], max_num_neighbors, loop, block_elems)]
    bounds = torch.searchsorted(batch, torch.arange(int(batch[-1]) + 2, device=dev)).tolist()
    srcs, dsts = [], []
    for s, e in zip(bounds[:-1], bounds[1:]):
        m = e - s
        k = min(max_num_neighbors, m if loop else m - 1)
        if k < 1: continue
        p = pos[s:e]
        rows = max(1, block_elems // m)
        for q0 in range(0, m, rows):
            q1 = min(m, q0 + rows)
            d = torch.cdist(p[q0:q1], p, compute_mode='donot_use_mm_for_euclid_dist')
            qi = torch.arange(q0, q1, device=dev)
            if not loop: d[qi - q0, qi] = math.inf
            d = d.masked_fill(d > r, math.inf)
            vals, idx = torch.sort(d, dim=1, stable=True)
            vals, idx = vals[:, :k], idx[:, :k]
            keep = torch.isfinite(vals)
            srcs.append(idx[keep] + s)
            dsts.append(qi[:, None].expand_as(idx)[keep] + s)
    if not srcs: return empty
    return torch.stack([torch.cat(srcs), torch.cat(dsts)])


def load_toy(root:Path) -> list:
    from aidd_train.data.structure import load_complex
    from aidd_train.data.graph import complex_to_graph
    codes = sorted(p.name for p in root.iterdir() if p.is_dir())
    return [complex_to_graph(load_complex(root/c), 0.0) for c in codes]


def make_batches(graphs, batch_size:int, n_batches:int, device) -> list:
    "`n_batches` batches of `batch_size` graphs from seeded shuffles of all graphs (reshuffled when used up)."
    from torch_geometric.data import Batch
    out, seed, order = [], 0, []
    while len(out) < n_batches:
        if len(order) < batch_size:
            order = torch.randperm(len(graphs), generator=torch.Generator().manual_seed(seed)).tolist()
            seed += 1
        out.append(Batch.from_data_list([graphs[i] for i in order[:batch_size]]).to(device))
        order = order[batch_size:]
    return out


def variants(r:float=5.0, k:int=32) -> dict:
    from aidd_train.model import radius_graph_torch
    return {'old': lambda b: radius_graph_loop(b.pos, r, b.batch, k, True),
            'new': lambda b: radius_graph_torch(b.pos, r, b.batch, k, True),
            'new_ptr': lambda b: radius_graph_torch(b.pos, r, b.batch, k, True, ptr=b._slice_dict['pos'])}


def edge_set(ei) -> set: return set(map(tuple, ei.t().tolist()))


def time_batches(fs:dict, batches:list, repeats:int, sync) -> dict:
    """Seconds of every variant on every batch in every repeat: the variants run back to back on each batch, in an
    order that rotates, so that changes in machine load hit them alike (paired measurements)."""
    names, out = list(fs), {name: [[None] * len(batches) for _ in range(repeats)] for name in fs}
    for rep in range(repeats):
        for i, b in enumerate(batches):
            j = (rep + i) % len(names)
            for name in names[j:] + names[:j]:
                sync()
                t = time.perf_counter()
                fs[name](b)
                sync()
                out[name][rep][i] = time.perf_counter() - t
    return out


def measure(graphs, batch_size:int, n_batches:int, repeats:int, device) -> dict:
    batches = make_batches(graphs, batch_size, n_batches, device)
    fs = variants()
    for b in batches:
        ref = edge_set(fs['old'](b))
        for name in ('new', 'new_ptr'):
            if edge_set(fs[name](b)) != ref: raise SystemExit(f'{name} gives other edges than old (batch {batch_size})')
    sync = torch.cuda.synchronize if torch.device(device).type == 'cuda' else (lambda: None)
    for f in fs.values(): f(batches[0])                                   # warm-up
    secs = time_batches(fs, batches, repeats, sync)
    ms = {name: round(1e3 * statistics.median(statistics.mean(r) for r in v), 2) for name, v in secs.items()}
    def ratio(name):                                      # median over (repeat, batch) pairs of old / variant
        return round(statistics.median(o / x for ro, rx in zip(secs['old'], secs[name]) for o, x in zip(ro, rx)), 2)
    return dict(batch_size=batch_size, batches=len(batches),
                atoms_per_batch=round(statistics.mean(b.num_nodes for b in batches)),
                edges_per_batch=round(statistics.mean(fs['new'](b).size(1) for b in batches)), identical_edges=True,
                ms_per_batch_median=ms, ratio_old_over_new=ratio('new'), ratio_old_over_new_ptr=ratio('new_ptr'),
                seconds={name: [[round(x, 5) for x in r] for r in v] for name, v in secs.items()})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', default=str(REPO/'tests'/'data'/'toy50'))
    ap.add_argument('--batch-sizes', default='8,32')
    ap.add_argument('--batches', type=int, default=6, help='timed batches per batch size')
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--threads', default='1,2', help='torch threads; one run per value')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--out', default=str(REPO/'bench'/'results'/'radius_graph.json'))
    a = ap.parse_args()
    os.environ.setdefault('AIDD_NO_PROGRESS', '1')
    graphs = load_toy(Path(a.root))
    load = os.getloadavg()
    res = []
    for th in (int(x) for x in a.threads.split(',')):
        torch.set_num_threads(th)
        res += [dict(threads=th, **measure(graphs, int(bs), a.batches, a.repeats, a.device))
                for bs in a.batch_sizes.split(',')]
    out = dict(what='radius graph per batch: per-graph loop (old) vs vectorised radius_graph_torch (new), toy50, '
                    'r=5 A, 32 neighbours, self loops; median ms per batch, median paired ratio',
               date=time.strftime('%Y-%m-%d'), device=a.device, torch=torch.__version__,
               python=platform.python_version(), machine=platform.machine(), cpu_count=os.cpu_count(),
               load_average_1min=[round(load[0], 2), round(os.getloadavg()[0], 2)],
               root=os.path.relpath(a.root, REPO), repeats=a.repeats, results=res)
    for r in res:
        ms = r['ms_per_batch_median']
        print(f"{r['threads']} thread(s), batch {r['batch_size']:3d} ({r['atoms_per_batch']} atoms): "
              f"old {ms['old']:.1f} ms, "
              f"new {ms['new']:.1f} ms (x{r['ratio_old_over_new']}), "
              f"new with ptr {ms['new_ptr']:.1f} ms (x{r['ratio_old_over_new_ptr']})")
    Path(a.out).write_text(json.dumps(out, indent=1) + '\n')
    print(f'written: {os.path.relpath(a.out, REPO)}')
    return out


if __name__ == '__main__':
    main()
