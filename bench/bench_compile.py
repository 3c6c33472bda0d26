"""Compiled vs eager training, end to end: `aidd_train --compile on` against `--compile off` on toy50, fixed seed.

Both runs start from the same seed, data and split and train the same epochs; the compiled one must reach the same
best validation RMSE within 5 % (compiled kernels round differently, so the curves are close, not identical).
A third run with `--compile auto` shows the decision it logs. Wall times are reported with the compile time inside.

    python bench/bench_compile.py [--epochs 6 --hidden 32 --layers 2 --batch-size 8]
                                  [--out bench/results/compile_train.json]
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(data, run_dir, mode, a) -> dict:
    "One `aidd_train` run as a user starts it; its results.json, wall time and the log's compile line."
    cmd = [str(Path(sys.executable).parent/'aidd_train'), '--data', str(data), '--run-dir', str(run_dir),
           '--epochs', str(a.epochs), '--hidden-channels', str(a.hidden), '--num-layers', str(a.layers),
           '--batch-size', str(a.batch_size), '--seed', '7', '--device', 'cpu', '--compile', mode]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, AIDD_NO_PROGRESS='1'))
    wall = time.perf_counter() - t
    if p.returncode != 0: raise SystemExit(f'{mode}: exit {p.returncode}\n{p.stderr[-2000:]}')
    res = json.loads((Path(run_dir)/'results.json').read_text())
    line = next((l for l in (Path(run_dir)/'train.log').read_text().splitlines() if 'compile:' in l), '')
    return {'exit': p.returncode, 'wall_seconds': wall, 'best_value': res['best_value'], 'monitor': res['monitor'],
            'compile': res['compile'], 'log_line': line.split('] ', 1)[-1]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', type=Path, default=REPO/'tests'/'data'/'toy50')
    ap.add_argument('--epochs', type=int, default=6)
    ap.add_argument('--hidden', type=int, default=32)
    ap.add_argument('--layers', type=int, default=2)
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('--out', type=Path, default=REPO/'bench'/'results'/'compile_train.json')
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    subprocess.run([str(Path(sys.executable).parent/'aidd_process'), '--root', str(a.root), '--out', str(tmp/'data'),
                    '--workers', '2', '--log-level', 'WARNING'], check=True, capture_output=True)
    rows = {m: run(tmp/'data', tmp/m, m, a) for m in ('off', 'on', 'auto')}
    for m, r in rows.items():
        print(f"--compile {m:4s}: best {r['monitor']} {r['best_value']:.4f}, {r['wall_seconds']:.0f} s; "
              f"{r['log_line']}", flush=True)
    rel = abs(rows['on']['best_value'] - rows['off']['best_value']) / rows['off']['best_value']
    res = {'date': time.strftime('%Y-%m-%d'), 'epochs': a.epochs, 'model': [a.layers, a.hidden],
           'batch_size': a.batch_size, 'runs': rows, 'relative_difference': rel, 'goal': 0.05,
           'meets_goal': rel <= 0.05}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2))
    print(f"best val RMSE compiled vs eager: {rel:.1%} apart (goal <= 5 %): {'met' if rel <= 0.05 else 'NOT met'} "
          f"→ {a.out.name}")
    return res


if __name__ == '__main__':
    main()
