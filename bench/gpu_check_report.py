"""The GPU check's Python parts (`bench/gpu_check.sh` calls them): `preflight`, `measure-train` and `report`.

`preflight` says whether this interpreter can run the check: the packages it imports, CUDA, the GPU.

    python bench/gpu_check_report.py preflight

`measure-train` runs `aidd_train` in this process, exactly as the console script does, and records what training
itself does not write down: per epoch, the training steps' wall time (synchronized), their number, and on CUDA the
caching allocator's peak (`max_memory_reserved`, the figure the optimizer's probes measure); and the steps the
fp16 `GradScaler` skipped. The record goes to `RUN/gpu_check_measure.json`.

    python bench/gpu_check_report.py measure-train -- --data DATA --run-dir RUN --profile hp.json --stage S --epochs 2

`report` reads a hardware profile and the run folders `RUNS/<stage>/` (`results.json`, `metrics.csv`,
`train.log`, and `gpu_check_measure.json` where present) and prints, per stage, the profile's peak memory
against the one measured in training, the OOM events (must be 0), the profile's cycle against the measured one
(seconds per training batch × the profile's `cycle_batches`) and the steps the GradScaler skipped. Exit status
1 when a check fails: a stage without results, an OOM event, a measured peak above the usable memory.

    python bench/gpu_check_report.py report --profile hp.json --runs RUNS [--json report.json]

`report` is plain Python (no aidd_train, no torch), so it also reads outputs copied from another machine.
"""
from __future__ import annotations
import argparse, csv, json, re, sys, time
from pathlib import Path

MEASURE_FILE = 'gpu_check_measure.json'
GiB = 2**30
# what the check imports: the library's own needs, then the notebook tests' (pytest → nbdev → execnb → IPython)
NEEDED = ('torch', 'torch_geometric', 'rdkit', 'gemmi', 'skopt', 'fastcore', 'yaml', 'scipy', 'sklearn', 'matplotlib',
          'tqdm', 'nbdev', 'execnb', 'IPython', 'pytest')

# ---------------------------------------------------------------------------------------------- preflight
def preflight(device:str='cuda') -> int:
    """Print the interpreter, the missing packages and the GPU; 1 when the check cannot run here (`device='cpu'`: no GPU
    needed)."""
    import importlib, platform
    missing = []
    for m in NEEDED:
        try: importlib.import_module(m)
        except Exception as e: missing.append(f'{m} ({type(e).__name__})')
    print(f'python {platform.python_version()} at {sys.executable}')
    if missing:
        print('missing: ' + ', '.join(missing))
        print('fix: on a machine that reaches PyPI run `bash bench/gpu_check.sh --fetch-wheels`, then carry .whl/')
        return 1
    import torch, torch_geometric
    print(f'torch {torch.__version__} (CUDA {torch.version.cuda}), torch_geometric {torch_geometric.__version__}')
    if device == 'cuda' and not torch.cuda.is_available():
        print('CUDA is not available to this torch: nothing to check on a GPU')
        return 1
    for i in range(torch.cuda.device_count()):
        free, total = torch.cuda.mem_get_info(i)
        print(f'cuda:{i} {torch.cuda.get_device_name(i)}, compute capability {torch.cuda.get_device_capability(i)}, '
              f'{free / GiB:.1f} GiB free of {total / GiB:.1f} GiB')
    import aidd_train.cli
    print(f'aidd_train {aidd_train.__version__} from {Path(aidd_train.__file__).parent}')
    return 0

# ---------------------------------------------------------------------------------------------- measure-train
def _instrument(record:dict) -> None:
    "Time each training epoch (and read its CUDA peak) and count GradScaler skips, by wrapping two methods."
    import torch
    from aidd_train.train import engine
    orig_epoch = getattr(engine.Trainer, '_train_epoch', None)
    if orig_epoch is None:
        record['notes'].append('Trainer._train_epoch not found: epochs not timed, no training peak')
    else:
        def timed_epoch(self, epoch, noise):
            cuda = self.device.type == 'cuda'
            if cuda:
                torch.cuda.synchronize(self.device)
                torch.cuda.reset_peak_memory_stats(self.device)      # the peak of this epoch's training steps only
            t0 = time.perf_counter()
            st = orig_epoch(self, epoch, noise)
            if cuda:
                torch.cuda.synchronize(self.device)
            row = dict(epoch=epoch + 1, seconds=time.perf_counter() - t0, batches=len(self.train_loader),
                       completed=st is not None)
            if cuda:
                row.update(peak_reserved_bytes=int(torch.cuda.max_memory_reserved(self.device)),
                           peak_allocated_bytes=int(torch.cuda.max_memory_allocated(self.device)))
            record['epochs'].append(row)
            return st
        engine.Trainer._train_epoch = timed_epoch
    orig_update = torch.amp.GradScaler.update
    def counted_update(self, new_scale=None):
        if not self.is_enabled():
            return orig_update(self, new_scale)
        before = self.get_scale()
        out = orig_update(self, new_scale)
        record['scaler_updates'] += 1
        if new_scale is None and self.get_scale() < before:      # the scale backs off exactly when a step was skipped
            record['scaler_skipped'] += 1
        return out
    torch.amp.GradScaler.update = counted_update

def _run_dir(args:list) -> Path:
    for i, a in enumerate(args):
        if a in ('--run-dir', '--run_dir') and i + 1 < len(args): return Path(args[i + 1])
        if a.startswith(('--run-dir=', '--run_dir=')): return Path(a.split('=', 1)[1])
    raise SystemExit('measure-train: the aidd_train arguments need --run-dir')

def measure_train(args:list) -> int:
    "Run `aidd_train ARGS` in this process with the instruments on; write RUN/gpu_check_measure.json; its exit status."
    import torch
    from aidd_train.cli import main
    run_dir = _run_dir(args)
    record = dict(argv=['aidd_train', *args], epochs=[], scaler_updates=0, scaler_skipped=0, notes=[],
                  cuda=torch.cuda.is_available())
    if record['cuda']:
        i = torch.cuda.current_device()
        free, total = torch.cuda.mem_get_info(i)
        record.update(gpu=torch.cuda.get_device_name(i), capability=list(torch.cuda.get_device_capability(i)),
                      free_at_start_bytes=int(free), total_bytes=int(total))
    _instrument(record)
    t0 = time.perf_counter()
    try:
        status = main(['aidd_train', *args])
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    record.update(exit_status=status, wall_seconds=time.perf_counter() - t0)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir/MEASURE_FILE).write_text(json.dumps(record, indent=1))
    return int(status or 0)

# ---------------------------------------------------------------------------------------------- report
_EPOCH_LINE = re.compile(r'\] epoch (\d+)/\d+ .*\| ([0-9.]+) s(?: \||$)')

def _read_json(p:Path):
    return json.loads(p.read_text()) if p.is_file() else None

def _read_csv(p:Path) -> list:
    if not p.is_file(): return []
    with p.open(newline='') as f: return list(csv.DictReader(f))

def _gib(n) -> str:
    return 'n/a' if n is None else f'{n / GiB:.2f} GiB'

def _min(x) -> str:
    return 'n/a' if x is None else f'{x:.2f} min'

def _log_epoch_seconds(log:Path) -> list:
    "Epoch wall times from train.log's epoch lines (training, validation and checkpointing together)."
    if not log.is_file(): return []
    return [(int(m.group(1)), float(m.group(2))) for l in log.read_text().splitlines() if (m := _EPOCH_LINE.search(l))]

def stage_row(stage:str, st:dict, run:Path, cycle_batches:int) -> dict:
    "What the profile said about `stage` beside what its training run measured; `checks` lists (level, text)."
    res, meas = _read_json(run/'results.json'), _read_json(run/MEASURE_FILE)
    metrics = _read_csv(run/'metrics.csv')
    row = dict(stage=stage, run_dir=str(run), num_layers=st.get('num_layers'),
               hidden_channels=st.get('hidden_channels'), batch_size=st.get('batch_size'),
               profile_peak_bytes=st.get('peak_memory_bytes'),
               profile_predicted_peak_bytes=st.get('predicted_peak_bytes'), usable_bytes=st.get('usable_memory_bytes'),
               profile_cycle_minutes=st.get('cycle_minutes'), checks=[])
    fail = lambda t: row['checks'].append(('FAIL', t))
    warn = lambda t: row['checks'].append(('WARN', t))
    note = lambda t: row['checks'].append(('note', t))
    if res is None:
        status = (meas or {}).get('exit_status')
        fail(f'no results.json in {run}: training did not finish'
             + (f' (exit status {status})' if status is not None else ''))
        return row
    row.update(precision=res.get('precision'), device=res.get('device'), epochs_run=res.get('epochs_run'),
               stopped=res.get('stopped'), oom_events=res.get('oom_events'), bad_steps=res.get('bad_steps'),
               trained_batch_size=(res.get('model_summary') or {}).get('batch_size'))
    if row['stopped'] != 'completed': fail(f"training stopped: {row['stopped']}")
    if row['trained_batch_size'] != row['batch_size']:
        fail(f"trained with batch {row['trained_batch_size']}, the profile says {row['batch_size']}")
    # OOM events: results.json and metrics.csv both record them
    csv_oom = int(metrics[-1]['oom_events']) if metrics and metrics[-1].get('oom_events') not in (None, '') else None
    if row['oom_events'] is None: fail('results.json has no oom_events')
    elif row['oom_events'] or csv_oom:
        fail(f"{row['oom_events']} out-of-memory events in training (metrics.csv: {csv_oom})")
    # peak memory: training records none; the measure-train instruments read the caching allocator's peak
    epochs = [e for e in (meas or {}).get('epochs', []) if e.get('completed')]
    peaks = [e['peak_reserved_bytes'] for e in epochs if e.get('peak_reserved_bytes') is not None]
    row['train_peak_bytes'] = max(peaks) if peaks else None
    if row['train_peak_bytes'] is None:
        note('no measured training peak (training records none; measure-train reads it on CUDA only)')
    else:
        if row['usable_bytes'] and row['train_peak_bytes'] > row['usable_bytes']:
            fail(f"training peak {_gib(row['train_peak_bytes'])} above the usable {_gib(row['usable_bytes'])}")
        elif row['profile_peak_bytes'] and row['train_peak_bytes'] > row['profile_peak_bytes']:
            warn(f"training peak {_gib(row['train_peak_bytes'])} above the profile's worst-case peak "
                 f"{_gib(row['profile_peak_bytes'])}")
    # cycle: seconds per training batch of the last completed epoch (the first carries the warm-up)
    if epochs:
        last = epochs[-1]
        row['measured_cycle_minutes'] = last['seconds'] / max(last['batches'], 1) * cycle_batches / 60
        row['cycle_source'] = (f"training steps of epoch {last['epoch']}: {last['batches']} batches in "
                               f"{last['seconds']:.2f} s")
    else:
        logged = _log_epoch_seconds(run/'train.log')
        acc = ((res.get('config') or {}).get('train') or {}).get('accumulate') or 1
        per_epoch = res.get('steps', 0) * acc / max(res.get('epochs_run') or 1, 1)
        if logged and per_epoch:
            ep, sec = logged[-1]
            row['measured_cycle_minutes'] = sec / per_epoch * cycle_batches / 60
            row['cycle_source'] = (f'train.log epoch {ep}: {sec:.1f} s for {per_epoch:g} batches, validation and '
                                   f'checkpoint included (an upper bound)')
        else:
            row['measured_cycle_minutes'], row['cycle_source'] = None, 'no epoch time found'
    if len(epochs) == 1: note('one epoch only: its time includes the warm-up (first kernels, allocator growth)')
    if row.get('measured_cycle_minutes') and row['profile_cycle_minutes']:
        row['cycle_ratio'] = row['measured_cycle_minutes'] / row['profile_cycle_minutes']
        if not 0.5 <= row['cycle_ratio'] <= 2.0:
            warn(f"measured cycle {row['measured_cycle_minutes']:.2f} min is {row['cycle_ratio']:.2f}× the profile's")
    # GradScaler: enabled for fp16 on CUDA only; training records no count of the steps it skipped
    if meas is None:
        row['scaler_skipped'] = None
    elif row['precision'] == 'fp16':
        row['scaler_skipped'] = meas.get('scaler_skipped')
        row['scaler_updates'] = meas.get('scaler_updates')
    else:
        row['scaler_skipped'] = 0                 # no loss scaling in bf16 or fp32: the scaler cannot skip a step
    return row

def _scaler_text(r:dict) -> str:
    if r.get('scaler_skipped') is None: return 'not measured'
    if r.get('precision') == 'fp16': return f"{r['scaler_skipped']} of {r.get('scaler_updates')} fp16 steps"
    return f"0 ({r.get('precision')}: no loss scaling)"

def _lines(prof:dict, rows:list) -> list:
    hw = prof.get('hardware') or {}
    lim = hw.get('memory_limit') or 'not recorded'
    free = hw.get('free_memory_at_start_bytes')
    out = [f"device {hw.get('name')} ({hw.get('device')}): total {_gib(hw.get('total_memory_bytes'))}, "
           f"free at start {_gib(free) if free is not None else 'not recorded'}, "
           f"budget {_gib(hw.get('memory_budget_bytes'))} (limit: {lim})", '']
    for r in rows:
        out.append(f"{r['stage']}: layers {r['num_layers']}, channels {r['hidden_channels']}, batch {r['batch_size']}"
                   + (f", {r.get('precision')} on {r.get('device')}, {r.get('epochs_run')} epoch(s)"
                      if 'precision' in r else ''))
        if 'precision' in r:
            pred = r['profile_predicted_peak_bytes']
            tp = r['train_peak_bytes']
            out.append(f"  peak memory   profile {_gib(r['profile_peak_bytes'])} (worst-case batch"
                       + (f"; memory model predicted {_gib(pred)}" if pred else '') + ")  |  training "
                       + ('not measured' if tp is None else f"{_gib(tp)} (max_memory_reserved)")
                       + f"  |  usable {_gib(r['usable_bytes'])}")
            out.append(f"  OOM events    {r['oom_events']}")
            out.append(f"  cycle         profile {_min(r['profile_cycle_minutes'])}  |  measured "
                       f"{_min(r.get('measured_cycle_minutes'))} ({r['cycle_source']})")
            out.append(f"  scaler skips  {_scaler_text(r)}")
        for level, text in r['checks']: out.append(f'  {level}: {text}')
        out.append('')
    fails = [(r['stage'], t) for r in rows for l, t in r['checks'] if l == 'FAIL']
    out.append('report: ' + ('PASSED' if not fails else f'FAILED ({len(fails)}): '
                             + '; '.join(f'{s}: {t}' for s, t in fails)))
    return out

def report(profile:str, runs:str, stages:str|None=None, json_out:str|None=None, text_out:str|None=None) -> int:
    "Print the per-stage comparison; 1 when a check failed."
    prof = json.loads(Path(profile).read_text())
    names = stages.split(',') if stages else list(prof.get('stages') or {})
    cycle_batches = int(((prof.get('settings') or {}).get('optimize') or {}).get('cycle_batches') or 450)
    rows = []
    for s in names:
        st = (prof.get('stages') or {}).get(s)
        if st is None:
            rows.append(dict(stage=s, num_layers=None, hidden_channels=None, batch_size=None,
                             checks=[('FAIL', f'the profile has no stage {s!r}')]))
            continue
        rows.append(stage_row(s, st, Path(runs)/s, cycle_batches))
    text = '\n'.join(_lines(prof, rows))
    print(text)
    if text_out:
        Path(text_out).write_text(text + '\n')
    if json_out:
        Path(json_out).write_text(json.dumps(dict(profile=str(profile), hardware=prof.get('hardware'),
                                                  cycle_batches=cycle_batches, stages=rows), indent=1, default=str))
    return 1 if any(l == 'FAIL' for r in rows for l, _ in r['checks']) else 0

def main(argv:list|None=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['measure-train']:
        rest = argv[1:]
        if rest[:1] == ['--']: rest = rest[1:]
        return measure_train(rest)
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    sub.add_parser('measure-train', help='run aidd_train ARGS (after --) with the measuring instruments')
    r = sub.add_parser('report', help='compare the profile with the training runs')
    r.add_argument('--profile', required=True, help='hardware profile JSON from aidd_optimize')
    r.add_argument('--runs', required=True, help='folder holding one run folder per stage (RUNS/<stage>/)')
    r.add_argument('--stages', default=None, help='comma list (default: every stage of the profile)')
    r.add_argument('--json', default=None, help='also write the rows as JSON here')
    r.add_argument('--text', default=None, help='also write the printed report here')
    pf = sub.add_parser('preflight', help='can this interpreter run the check? (packages, CUDA, the GPU)')
    pf.add_argument('--device', default='cuda', choices=('cuda', 'cpu'), help='cpu: a rehearsal, no GPU needed')
    a = p.parse_args(argv)
    if a.cmd == 'preflight':
        return preflight(a.device)
    return report(a.profile, a.runs, a.stages, a.json, a.text)

if __name__ == '__main__':
    sys.exit(main())
