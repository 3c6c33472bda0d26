"""`aidd_optimize` stopped the way a batch system stops it (SIGTERM), then run again: the partial profile is valid,
and the re-run repeats none of the probes that were already run and finishes. Run as a user runs it: the installed
console scripts in a subprocess."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from aidd_train.config import sample_path, sample_index

BIN = Path(sys.executable).parent
ENV = dict(os.environ, AIDD_NO_PROGRESS='1')
CFG = ('model:\n  num_heads: 2\n  num_rbf: 8\n'
       'optimize:\n  prototyping_layers: [1, 2]\n  prototyping_channels: [16, 32]\n  n_calls: 4\n  n_initial_points: 2\n'
       '  cycle_batches: 20\n  prototyping_minutes: 5\n  tolerance_minutes: 5\n  probe_steps: 3\n  timing_steps: 4\n')

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
    return w

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
