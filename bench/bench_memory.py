"""Flat memory over a long run of training steps, without `empty_cache()`: the long form of `train.loop`'s test.

A fresh Python process trains a tiny model (L1 C16) on toy50 batches of 4 (16 complexes, shuffled, through
`train_epoch`, with coordinate noise) for `--steps` steps and samples its resident memory (RSS) after every step,
with glibc's mmap threshold fixed (`MALLOC_MMAP_THRESHOLD_=65536`) so that RSS tracks live memory. The same
detector is fed an artificial leak of 100 KiB per step, so a pass means something. Pass: least-squares trend after
the warm-up below 4 KiB per step and the mean of the last `--window` steps at most 1 MiB above the first window
after the warm-up.

    python bench/bench_memory.py [--steps 300 --warmup 50] [--out bench/results/memory_flat.json]
"""
from __future__ import annotations
import argparse, json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, torch
from aidd_train.config import ModelConfig, TrainConfig
from aidd_train.data.dataset import load_graphs
from aidd_train.data.loader import make_loader
from aidd_train.model import build_model, target_stats
from aidd_train.train.loop import EpochState, train_epoch
from aidd_train.train.device import make_scaler

def rss_mib():
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20

torch.manual_seed(0)
toy, kind, steps = load_graphs(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rss = []
if kind == 'leak':
    leak = []
    for i in range(steps):
        leak.append(torch.ones(25_600))
        rss.append(rss_mib())
else:
    m = build_model(ModelConfig(hidden_channels=16, num_layers=1, num_heads=2, num_rbf=8))
    m.set_target_stats(*target_stats(torch.cat([g.y for g in toy])))
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    dl = make_loader(toy[:16], 4, shuffle=True, seed=0)
    st = EpochState()
    for epoch in range(steps // 4):
        st = train_epoch(m, dl, opt, make_scaler('fp32', 'cpu'), TrainConfig(device='cpu'), 'cpu', noise=0.05,
                         state=EpochState(epoch=epoch, step=st.step), on_step=lambda s: rss.append(rss_mib()))
print(json.dumps(rss))
"""


def processed_toy50() -> Path:
    "toy50, processed by the library into a temporary cache (reused between runs)."
    from aidd_train.data.dataset import process_dataset
    root = REPO/'tests'/'data'/'toy50'
    cache = Path(tempfile.gettempdir())/'aidd_bench_memory_toy50'
    process_dataset(root, cache, index=next(iter(sorted(root.glob('INDEX_*'))), None), workers=1)
    return cache


def rss_run(data:Path, kind:str, steps:int) -> list:
    "RSS (MiB) after each step of a fresh process: kind 'train' or 'leak'."
    env = dict(os.environ, PYTHONPATH=str(REPO), AIDD_NO_PROGRESS='1', MALLOC_MMAP_THRESHOLD_='65536')
    out = subprocess.run([sys.executable, '-c', CHILD, str(data), kind, str(steps)], env=env, capture_output=True,
                         text=True, timeout=3600)
    if out.returncode != 0: raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def trend(samples:list, warmup:int, window:int) -> dict:
    "Least-squares slope (KiB/step) after the warm-up, and the last window's mean minus the first window's (MiB)."
    y = samples[warmup:]
    n = len(y)
    xm, ym = (n - 1) / 2, sum(y) / n
    slope = sum((i - xm) * (v - ym) for i, v in enumerate(y)) / sum((i - xm) ** 2 for i in range(n))
    delta = sum(y[-window:]) / window - sum(y[:window]) / window
    return {'slope_kib_per_step': slope * 1024, 'last_minus_first_window_mib': delta,
            'flat': slope * 1024 < 4 and delta < 1}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--warmup', type=int, default=50)
    ap.add_argument('--window', type=int, default=50)
    ap.add_argument('--out', type=Path, default=REPO/'bench'/'results'/'memory_flat.json')
    a = ap.parse_args(argv)
    data = processed_toy50()
    t0 = time.time()
    runs = {kind: rss_run(data, kind, a.steps) for kind in ('leak', 'train')}
    res = {'what': 'RSS after each training step of a fresh process (tiny model, toy50 batches of 4); a 100 KiB/step '
                   'leak fed to the same detector', 'date': time.strftime('%Y-%m-%d'),
           'python': platform.python_version(), 'machine': platform.machine(), 'cpu_count': os.cpu_count(),
           'load_average_start': os.getloadavg()[0], 'steps': a.steps, 'warmup': a.warmup, 'window': a.window,
           'seconds': time.time() - t0,
           'train': {'rss_first_mib': runs['train'][0], 'rss_after_warmup_mib': runs['train'][a.warmup],
                     'rss_last_mib': runs['train'][-1], **trend(runs['train'], a.warmup, a.window)},
           'leak': trend(runs['leak'], a.warmup, a.window)}
    res['detector_fires_on_leak'] = not res['leak']['flat']
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2))
    t = res['train']
    verdict = 'flat' if t['flat'] else 'GROWING'
    print(f"{a.steps} steps: RSS {t['rss_first_mib']:.0f} → {t['rss_after_warmup_mib']:.0f} → "
          f"{t['rss_last_mib']:.0f} MiB; trend {t['slope_kib_per_step']:+.2f} KiB/step, last minus first window "
          f"{t['last_minus_first_window_mib']:+.2f} MiB → {verdict}; "
          f"the detector fires on the leak: {res['detector_fires_on_leak']} → {a.out.name}")
    return res


if __name__ == '__main__':
    main()
