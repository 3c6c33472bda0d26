"""The console scripts stopped the way people and batch systems stop them, run as a user runs them (subprocesses).

- `aidd_optimize` stopped by SIGTERM, then run again: the partial profile is valid, and the re-run repeats none of
  the probes that were already run and finishes.
- `aidd_train` stopped by SIGTERM (a preemption): exit 130, a step checkpoint, and `--resume` finishes the run.
- `aidd_train` stopped by SIGINT (Ctrl-C): exit 130, and what it had written (metrics.csv, checkpoints, train.log)
  is whole and readable — no half-written file, no temporary file left — and `--resume` finishes the run."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from aidd_train.config import sample_path, sample_index
from aidd_train.io import read_csv

pytestmark = pytest.mark.xdist_group('signals')   # module fixtures: one worker runs the module (make test: -n 2)

BIN = Path(sys.executable).parent
ENV = dict(os.environ, AIDD_NO_PROGRESS='1')
CFG = ('model:\n  num_heads: 2\n  num_rbf: 8\n'
       'optimize:\n  prototyping_layers: [1, 2]\n  prototyping_channels: [16, 32]\n  n_calls: 4\n  n_initial_points: 2\n'
       '  cycle_batches: 20\n  prototyping_minutes: 5\n  tolerance_minutes: 5\n  probe_steps: 3\n  timing_steps: 4\n')
# a run long enough to be stopped in the middle: one-complex batches, many epochs, a step checkpoint every 4 steps
TRAIN = ('model:\n  hidden_channels: 16\n  num_layers: 1\n  num_heads: 2\n  num_rbf: 8\n'
         'train:\n  batch_size: 1\n  epochs: 40\n  warmup_steps: 1\n  device: cpu\n  checkpoint_every: 4\n'
         'data:\n  val_fraction: 0.2\n  test_fraction: 0.25\n')

def _probes(p:Path) -> list:
    try: return json.loads(p.read_text())['probes']
    except (OSError, ValueError, KeyError): return []

def _key(p:dict) -> tuple: return (p['num_layers'], p['hidden_channels'], p['batch_size'])

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    w = tmp_path_factory.mktemp('opt_signals')
    r = subprocess.run([BIN/'aidd_process', '--root', sample_path(), '--index', sample_index(), '--out', w/'data', '--workers', '0'],
                       env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    (w/'cfg.yaml').write_text(CFG)
    (w/'train.yaml').write_text(TRAIN)
    return w

@pytest.mark.slow
def test_sigterm_then_resume(data):
    out = data/'hp.json'
    cmd = [BIN/'aidd_optimize', '--data', data/'data', '--stages', 'prototyping', '--device', 'cpu', '--memory-budget', '1GiB',
           '--config', data/'cfg.yaml', '--out', out]
    p = subprocess.Popen([str(c) for c in cmd], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while len(_probes(out)) < 3 and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
    assert p.poll() is None, f'aidd_optimize finished before it could be stopped: {p.stderr.read()[-2000:]}'
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 130, err[-2000:]
    assert 'interrupted' in err
    partial = json.loads(out.read_text())                               # a valid profile, written by the handler
    assert partial['interrupted'] and partial['stopped_by'] == 'SIGTERM' and 'prototyping' not in partial['stages']
    before = partial['probes']
    assert len(before) >= 3
    r = subprocess.run([str(c) for c in cmd], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    final = json.loads(out.read_text())
    assert 'prototyping' in final['stages'] and not final.get('interrupted')
    assert final['probes'][:len(before)] == before                      # the earlier probes kept as they were
    new = final['probes'][len(before):]
    seen = {_key(q) for q in before if not q['confirmation']}
    assert [_key(q) for q in new if _key(q) in seen and not q['confirmation']] == []   # none of them run again


def _epochs(run:Path) -> int:
    try: return len(read_csv(run/'metrics.csv'))
    except (OSError, ValueError): return 0

def _stop_training(data:Path, run:Path, sig) -> subprocess.CompletedProcess:
    "Start `aidd_train`, send `sig` once an epoch is recorded, wait; the run's exit, stdout and stderr."
    cmd = [BIN/'aidd_train', '--data', data/'data', '--run-dir', run, '--config', data/'train.yaml']
    p = subprocess.Popen([str(c) for c in cmd], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while _epochs(run) < 1 and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
    assert p.poll() is None, f'aidd_train finished before it could be stopped: {p.stderr.read()[-2000:]}'
    p.send_signal(sig)
    out, err = p.communicate(timeout=300)
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)

def _resume_to_end(data:Path, run:Path) -> dict:
    "`aidd_train --resume` with fewer epochs planned: it finishes, and its results say so."
    r = subprocess.run([str(c) for c in [BIN/'aidd_train', '--data', data/'data', '--run-dir', run, '--resume',
                        '--epochs', _epochs(run) + 1, '--json']], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)

def _whole(run:Path) -> None:
    "What an interrupted run left is whole: no temporary files, every checkpoint loads, metrics.csv parses."
    from aidd_train.train.checkpoint import load_checkpoint
    assert not [p.name for p in run.rglob('*.tmp*')], sorted(p.name for p in run.rglob('*'))
    cks = sorted((run/'checkpoints').glob('*.pt'))
    assert cks and all(isinstance(load_checkpoint(p), dict) for p in cks), cks
    assert all(r['epoch'] for r in read_csv(run/'metrics.csv'))

def test_train_sigterm_then_resume(data):
    run = data/'run_term'
    r = _stop_training(data, run, signal.SIGTERM)
    assert r.returncode == 130, r.stderr[-2000:]
    assert 'aidd_train: interrupted after epoch' in r.stdout and '--resume' in r.stdout, r.stdout
    assert 'interrupted at step' in r.stderr, r.stderr[-2000:]
    assert list((run/'checkpoints').glob('step_*.pt')), 'SIGTERM must leave a step checkpoint'
    _whole(run)
    done = _resume_to_end(data, run)
    assert (done['stopped'], done['epochs_run']) == ('completed', done['epochs_planned']), done

def test_train_sigint_then_resume(data):
    run = data/'run_int'
    r = _stop_training(data, run, signal.SIGINT)
    assert r.returncode == 130, r.stderr[-2000:]
    assert 'aidd_train: interrupted' in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    _whole(run)
    assert 'epoch' in (run/'train.log').read_text()
    done = _resume_to_end(data, run)
    assert (done['stopped'], done['epochs_run']) == ('completed', done['epochs_planned']), done
