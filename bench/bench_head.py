"""What our affinity head costs: one training step of `AffinityModel` against the stock PyG `ViSNet`, side by side.

Same backbone sizes and radius graph (`make_visnet(cfg, reduce_op='mean')`), the same batches of the bundled
12-complex sample (processed by the library, shuffled, batches of 4), fp32 on the CPU, AdamW, MSE on the raw
label. The two alternate which goes first on every repeat, so drifts in machine load hit both alike. Our role
embedding and ligand-mean readout replace ViSNet's `EquivariantScalar` + `Atomref` + sum. Goal: ours/bare >= 0.9
(at most a few percent slower).

    python bench/bench_head.py [--layers 2 --channels 32 --batch 4 --repeats 8 --threads 2]
                               [--out bench/results/head.json]
"""
from __future__ import annotations
import argparse, json, os, platform, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch_geometric.data import Batch

REPO = Path(__file__).resolve().parents[1]


def sample_batches(batch_size:int) -> list:
    "The bundled sample, processed by the library into a temporary cache, shuffled into full batches."
    from aidd_train.config import sample_index, sample_path
    from aidd_train.data.dataset import load_graphs, process_dataset
    cache = Path(tempfile.mkdtemp(prefix='aidd_bench_head_'))
    process_dataset(sample_path(), cache, index=sample_index(), workers=1)
    graphs = load_graphs(cache)
    order = torch.randperm(len(graphs), generator=torch.Generator().manual_seed(1)).tolist()
    return [Batch.from_data_list([graphs[i] for i in order[k:k + batch_size]])
            for k in range(0, len(graphs) - batch_size + 1, batch_size)]


def steppers(layers:int, channels:int):
    "A training step for each model: ours (`AffinityModel`) and the stock ViSNet, built from the same seed."
    from aidd_train.config import ModelConfig
    from aidd_train.model import build_model, make_visnet
    cfg = ModelConfig(hidden_channels=channels, num_layers=layers)
    torch.manual_seed(0)
    ours = build_model(cfg)
    torch.manual_seed(0)
    bare = make_visnet(cfg, reduce_op='mean')
    opt_ours = torch.optim.AdamW(ours.parameters(), 1e-4)
    opt_bare = torch.optim.AdamW(bare.parameters(), 1e-4)

    def step_ours(b):
        opt_ours.zero_grad(set_to_none=True)
        F.mse_loss(ours(b), b.y.view(-1)).backward()
        opt_ours.step()

    def step_bare(b):
        opt_bare.zero_grad(set_to_none=True)
        out = bare(b.z, b.pos, b.batch)[0].squeeze(-1)
        F.mse_loss(out, b.y.view(-1)).backward()
        opt_bare.step()
    return step_ours, step_bare


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--layers', type=int, default=2)
    ap.add_argument('--channels', type=int, default=32)
    ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--repeats', type=int, default=8)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--out', type=Path, default=REPO/'bench'/'results'/'head.json')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    load_start = os.getloadavg()[0]
    batches = sample_batches(a.batch)
    step_ours, step_bare = steppers(a.layers, a.channels)
    for b in batches:                                   # warm-up: allocator and first-call costs out of the timing
        step_ours(b)
        step_bare(b)
    seconds = {'ours': 0.0, 'bare': 0.0}
    for rep in range(a.repeats):
        pair = [('ours', step_ours), ('bare', step_bare)]
        if rep % 2: pair.reverse()
        for b in batches:
            for name, step in pair:
                t = time.perf_counter()
                step(b)
                seconds[name] += time.perf_counter() - t
    n = a.repeats * sum(b.num_graphs for b in batches)
    rate = {k: n / v for k, v in seconds.items()}
    res = {'what': 'training-step throughput: AffinityModel vs stock PyG ViSNet, same backbone, same batches',
           'date': time.strftime('%Y-%m-%d'), 'torch': torch.__version__, 'python': platform.python_version(),
           'machine': platform.machine(), 'cpu_count': os.cpu_count(), 'threads': a.threads,
           'load_average_start': load_start, 'load_average_end': os.getloadavg()[0],
           'model': {'num_layers': a.layers, 'hidden_channels': a.channels},
           'batch_size': a.batch, 'repeats': a.repeats, 'complexes_timed': n, 'complexes_per_s': rate,
           'ratio_ours_vs_bare': rate['ours'] / rate['bare'], 'goal': 0.9}
    res['meets_goal'] = res['ratio_ours_vs_bare'] >= res['goal']
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2))
    print(f"ours {rate['ours']:.2f} complexes/s, stock ViSNet {rate['bare']:.2f} complexes/s, "
          f"ratio {res['ratio_ours_vs_bare']:.3f} (goal >= {res['goal']}) → {a.out.name}")
    return res


if __name__ == '__main__':
    main()
