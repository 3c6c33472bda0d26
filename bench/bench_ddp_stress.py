r"""DDP teardown stress test: pause and resume a two-process run (gloo, CPU) many times in a row.

Each repeat is a fresh run folder trained by two `torchrun` calls, exactly as a user would:

    torchrun --standalone --nproc_per_node=2 --no-python aidd_train --data D --config tiny.yaml --run-dir R \
        --epochs 2 --stop-after 1
    torchrun --standalone --nproc_per_node=2 --no-python aidd_train --data D --config tiny.yaml --run-dir R --resume

Every call has a wall-clock limit; a call still running at the limit counts as **hung** (its whole process group is
then killed). A call that exits non-zero is **failed**. A repeat is **finished** when both calls exited 0 and the
run folder holds `results.json` and two rows in `metrics.csv`. Data: the first 24 complexes of the toy50 set
carried in `tests/data/toy50` (or `--data`, an already processed folder). Collectives use a short timeout
(`AIDD_DIST_TIMEOUT`, default here 60 s) so that a rank waiting for a dead peer fails instead of waiting 30 min.

    python bench/bench_ddp_stress.py [--repeats 20] [--limit 180] [--code REPO] [--out bench/results/ddp_stress.json]

`--code` runs another checkout's library (its folder goes first on PYTHONPATH), e.g. an older commit unpacked with
`git archive`, to compare before and after a change.
"""
from __future__ import annotations
import argparse, json, os, platform, signal, statistics, subprocess, sys, tempfile, time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TINY = ('model:\n  hidden_channels: 16\n  num_layers: 1\n  num_heads: 2\n  num_rbf: 8\n'
        'train:\n  batch_size: 4\n  lr: 0.002\n  warmup_steps: 2\n  checkpoint_every: 2\n  coord_noise: 0.05\n'
        '  device: cpu\n')


def prepare_data(work:Path) -> Path:
    "Process the first 24 toy50 complexes (from this repository's tests/data) into `work/toy24`."
    toy = REPO/'tests'/'data'/'toy50'
    if not toy.is_dir(): sys.exit(f'toy data not found at {toy}; pass --data with a processed folder')
    sys.path.insert(0, str(REPO))
    from aidd_train.data.dataset import process_dataset
    lines = [l for l in (toy/'INDEX_toy50_PL_data.2019').read_text().splitlines()
             if l.strip() and not l.startswith('#')]
    (work/'INDEX_toy24').write_text('\n'.join(lines[:24]) + '\n')
    process_dataset(toy, work/'toy24', index=work/'INDEX_toy24', workers=0)
    return work/'toy24'


def run_limited(cmd:list, env:dict, limit:float, log:Path) -> dict:
    "Run `cmd` in its own process group; kill the group at `limit` seconds. Returns rc, seconds, hung."
    t0 = time.time()
    with open(log, 'w') as f:
        p = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        try: rc, hung = p.wait(timeout=limit), False
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            rc, hung = None, True
    return {'rc': rc, 'seconds': round(time.time() - t0, 2), 'hung': hung}


def one_repeat(i:int, data:Path, work:Path, env:dict, limit:float, nproc:int) -> dict:
    "Pause after epoch 1, then resume, in a fresh run folder; the outcome of both calls."
    sys.path.insert(0, str(REPO))
    from aidd_train.train.distributed import torchrun_command
    run = work/f'run{i:02d}'
    base = ['--data', data, '--config', work/'tiny.yaml', '--run-dir', run]
    pause = run_limited(torchrun_command(nproc, base + ['--epochs', 2, '--stop-after', 1]), env, limit,
                        work/f'run{i:02d}.pause.log')
    resume = (run_limited(torchrun_command(nproc, base + ['--resume']), env, limit, work/f'run{i:02d}.resume.log')
              if not pause['hung'] else {'rc': None, 'seconds': 0.0, 'hung': False, 'skipped': True})
    rows = len((run/'metrics.csv').read_text().splitlines()) - 1 if (run/'metrics.csv').exists() else 0
    finished = pause['rc'] == 0 and resume['rc'] == 0 and (run/'results.json').exists() and rows == 2
    return {'repeat': i, 'pause': pause, 'resume': resume, 'metrics_rows': rows, 'finished': finished}


def summarize(reps:list) -> dict:
    calls = [r[k] for r in reps for k in ('pause', 'resume') if not r[k].get('skipped')]
    secs = [c['seconds'] for c in calls if not c['hung']]
    return {'repeats': len(reps), 'finished': sum(r['finished'] for r in reps),
            'hung_calls': sum(c['hung'] for c in calls), 'failed_calls': sum(c['rc'] not in (0, None) for c in calls),
            'calls': len(calls), 'call_seconds_median': round(statistics.median(secs), 1) if secs else None,
            'call_seconds_max': max(secs) if secs else None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--repeats', type=int, default=20)
    ap.add_argument('--limit', type=float, default=180, help='wall-clock seconds allowed per torchrun call')
    ap.add_argument('--nproc', type=int, default=2)
    ap.add_argument('--data', type=Path, default=None,
                    help='processed data folder (default: toy50[:24], processed here)')
    ap.add_argument('--code', type=Path, default=REPO, help='checkout whose aidd_train is run (default: this one)')
    ap.add_argument('--dist-timeout', type=int, default=60, help='AIDD_DIST_TIMEOUT for the runs (seconds)')
    ap.add_argument('--out', type=Path, default=REPO/'bench'/'results'/'ddp_stress.json')
    a = ap.parse_args(argv)
    os.environ.setdefault('AIDD_NO_PROGRESS', '1')
    work = Path(tempfile.mkdtemp(prefix='aidd_ddp_stress_'))
    data = a.data or prepare_data(work)
    (work/'tiny.yaml').write_text(TINY)
    env = dict(os.environ, PYTHONPATH=str(a.code.resolve()), AIDD_NO_PROGRESS='1', OMP_NUM_THREADS='1',
               AIDD_DIST_TIMEOUT=str(a.dist_timeout))
    reps, t0 = [], time.time()
    for i in range(a.repeats):
        r = one_repeat(i, data, work, env, a.limit, a.nproc)
        reps.append(r)
        state = 'finished' if r['finished'] else ('HUNG' if r['pause']['hung'] or r['resume']['hung'] else 'FAILED')
        print(f"{i + 1:3d}/{a.repeats} {state:8} pause {r['pause']['seconds']:6.1f} s (rc {r['pause']['rc']}), "
              f"resume {r['resume']['seconds']:6.1f} s (rc {r['resume']['rc']})", flush=True)
    res = {'date': date.today().isoformat(), 'code': a.code.resolve().name, 'limit_s': a.limit, 'nproc': a.nproc,
           'dist_timeout_s': a.dist_timeout, 'total_seconds': round(time.time() - t0, 1),
           'machine': {'python': platform.python_version(), 'cpus': os.cpu_count(), 'platform': platform.platform()},
           'summary': summarize(reps), 'repeats': reps, 'logs': work.name}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2) + '\n')
    print(json.dumps(res['summary'], indent=2))
    print(f'details: {a.out}; logs: {work}')
    return 0 if res['summary']['finished'] == a.repeats else 1


if __name__ == '__main__': sys.exit(main())
