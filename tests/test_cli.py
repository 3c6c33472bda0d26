"""The console scripts, run the way a user runs them: installed executables in a subprocess, checked for exit
status, output and the files they leave (or do not leave) behind. Data: the 12-complex sample bundled with the
package."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest
from aidd_train.config import sample_path, sample_index

pytestmark = pytest.mark.xdist_group('cli')   # module fixtures: one worker runs the module (make test: -n 2)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCRIPTS = ('aidd_process', 'aidd_optimize', 'aidd_train', 'aidd_predict', 'aidd_demo')
TINY = ('model:\n  hidden_channels: 16\n  num_layers: 1\n  num_heads: 2\n  num_rbf: 8\n'
        'train:\n  batch_size: 3\n  lr: 0.003\n  warmup_steps: 1\n  device: cpu\n'
        'data:\n  val_fraction: 0.2\n  test_fraction: 0.25\n')
ENV = dict(os.environ, AIDD_NO_PROGRESS='1', PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")

def run(*cmd, timeout=600, cwd=None) -> subprocess.CompletedProcess:
    "Run a command (console scripts by name, from this environment's bin/)."
    cmd = [str(c) for c in cmd]
    if cmd[0] in SCRIPTS:
        assert (BIN/cmd[0]).exists(), f'{cmd[0]} is not installed in {BIN}: pip install -e .'
        cmd[0] = str(BIN/cmd[0])
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout, cwd=cwd)

def snapshot(d:Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file()}

@pytest.fixture(scope='module')
def work(tmp_path_factory):
    "The one-liner a README reader types: process the sample, train, predict — chained with &&."
    w = tmp_path_factory.mktemp('cli')
    (w/'tiny.yaml').write_text(TINY)
    line = (f"aidd_process --root '{sample_path()}' --index '{sample_index()}' --out '{w/'data'}' --workers 0 && "
            f"aidd_train --data '{w/'data'}' --run-dir '{w/'run'}' --config '{w/'tiny.yaml'}' --epochs 2 && "
            f"aidd_predict --checkpoint '{w/'run'/'checkpoints'/'best.pt'}' --root '{sample_path()}' --out '{w/'preds.csv'}'")
    r = run('bash', '-c', line)
    w.joinpath('oneliner.json').write_text(json.dumps({'rc': r.returncode, 'stdout': r.stdout, 'stderr': r.stderr[-5000:]}))
    return w

def test_one_liner(work):
    r = json.loads((work/'oneliner.json').read_text())
    assert r['rc'] == 0, r['stderr']
    out = r['stdout'].splitlines()
    assert out[0].startswith('aidd_process: 12 ok, 0 failed'), out
    assert out[1].startswith('aidd_train: completed — 2/2 epochs, best epoch'), out
    assert out[2].startswith('  test: RMSE ') and 'complexes)' in out[2], out
    assert out[-1] == f"aidd_predict: 12 predictions → {work/'preds.csv'}", out
    assert (work/'run'/'results.json').exists() and len((work/'run'/'metrics.csv').read_text().splitlines()) == 3
    lines = (work/'preds.csv').read_text().splitlines()
    assert lines[0] == 'pdb_code,pred,y' and len(lines) == 13
    assert 'INFO' in r['stderr'] and '{' not in r['stdout']          # logs on stderr; people-readable stdout

def test_json_and_pause_resume(work):
    common = ['--data', work/'data', '--run-dir', work/'run_json', '--config', work/'tiny.yaml']
    r = run('aidd_train', *common, '--epochs', 2, '--stop-after', 1, '--json')
    assert r.returncode == 0, r.stderr[-3000:]
    full = json.loads((work/'run'/'results.json').read_text())       # the same run, uninterrupted (test_one_liner)
    assert full['steps'] > 0 and full['steps'] % 2 == 0, full['steps']
    assert json.loads(r.stdout) == {'run_dir': str(work/'run_json'), 'stopped': 'paused', 'epochs_run': 1,
                                    'epochs_planned': 2, 'steps': full['steps'] // 2}
    r = run('aidd_train', '--data', work/'data', '--run-dir', work/'run_json', '--resume', '--json')
    assert r.returncode == 0, r.stderr[-3000:]
    d = json.loads(r.stdout)
    assert (d['stopped'], d['epochs_run'], set(d['test'])) == ('completed', 2, {'rmse', 'mae', 'pearson', 'spearman', 'ci', 'n'})
    assert d['steps'] == full['steps']
    assert (work/'run_json'/'metrics.csv').read_text() == (work/'run'/'metrics.csv').read_text()   # same run, resumed

def _bad_inputs(work):
    d, s = work/'data', sample_path()
    (work/'bad.yaml').write_text('train:\n  epochs: 3\n  learning_rate: 0.1\n')
    (work/'profile.json').write_text(json.dumps({'stages': {'prototyping': {'hidden_channels': 16, 'num_layers': 1, 'batch_size': 2}}}))
    new = work/'never_written'
    cases = [
        (['aidd_train'], 'the following arguments are required: --data, --run-dir'),
        (['aidd_train', '--data', d, '--run-dir', new, '--bogus'], 'unrecognized arguments: --bogus'),
        (['aidd_train', '--data', d, '--run-dir', new, '--epochs', 'two'], "invalid int value: 'two'"),
        (['aidd_train', '--data', work/'nope', '--run-dir', new], 'not found'),
        (['aidd_train', '--data', d, '--run-dir', new, '--config', work/'bad.yaml'], "unknown key(s) ['train.learning_rate']"),
        (['aidd_train', '--data', d, '--run-dir', new, '--config', work/'missing.yaml'], 'config file not found'),
        (['aidd_train', '--data', d, '--run-dir', new, '--profile', work/'profile.json', '--stage', 'production'],
         "stage 'production' is not in"),
        (['aidd_train', '--data', d, '--run-dir', new, '--epochs', 0], 'train.epochs=0 is out of range'),
        (['aidd_train', '--data', d, '--run-dir', work/'run'], 'already holds a run'),
        (['aidd_process', '--out', new], 'the following arguments are required: --root'),
        (['aidd_process', '--root', work/'nope', '--out', new], 'PDBbind root not found'),
        (['aidd_predict', '--checkpoint', work/'nope.pt', '--root', s], 'checkpoint not found'),
        (['aidd_predict', '--checkpoint', work/'run'/'checkpoints'/'best.pt', '--root', work/'nope', '--out', new/'p.csv'],
         'folder of complexes not found'),
        (['aidd_demo', '--epochs', 'x'], "invalid int value: 'x'"),
        (['aidd_optimize', '--data', work/'nope', '--out', new/'hp.json'], 'processed data folder not found'),
        (['aidd_optimize', '--data', d, '--stages', 'prototyping,final', '--out', new/'hp.json'], "unknown stage(s) ['final']"),
        (['aidd_optimize', '--data', d, '--memory-budget', 'lots', '--out', new/'hp.json'], 'cannot read memory size'),
        (['aidd_optimize', '--data', d, '--n-calls', 0, '--out', new/'hp.json'], 'optimize.n_calls=0 is out of range'),
        (['aidd_optimize', '--data', d, '--world-size', 0, '--out', new/'hp.json'], 'optimize.world_size=0 is out of range'),
        (['aidd_train', '--data', d, '--run-dir', new, '--accept-profile'], '--accept-profile needs --profile'),
    ]
    import torch
    if not torch.cuda.is_available():
        cases.append((['aidd_train', '--data', d, '--run-dir', new, '--device', 'cuda'], 'CUDA is not available'))
    return cases, new

def test_bad_input_one_line_exit_2(work):
    "Every kind of bad input: exit status 2, exactly one line on stderr naming the problem, nothing written."
    from concurrent.futures import ThreadPoolExecutor
    cases, new = _bad_inputs(work)
    with ThreadPoolExecutor(4) as pool:        # independent commands, each mostly its interpreter's start-up
        results = list(pool.map(lambda case: run(*case[0], cwd=work), cases))
    for (args, why), r in zip(cases, results):
        assert r.returncode == 2, (args, r.returncode, r.stderr[-2000:])
        assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith(f'{args[0]}: error: ') and why in r.stderr, (args, r.stderr)
        assert r.stdout == '' and not new.exists(), (args, r.stdout)
    assert not (work/'demo_out').exists()

def test_resume_never_starts_over(work):
    "A run folder whose only resume checkpoint is torn: --resume stops (exit 2, one line naming the file), every byte kept."
    run_dir = work/'torn'
    shutil.copytree(work/'run', run_dir)
    for p in (run_dir/'checkpoints').glob('step_*.pt'): p.unlink()
    last = run_dir/'checkpoints'/'last.pt'
    last.write_bytes(last.read_bytes()[:last.stat().st_size // 2])
    before = snapshot(run_dir)
    r = run('aidd_train', '--data', work/'data', '--run-dir', run_dir, '--resume')
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert f'cannot resume {run_dir}' in r.stderr and 'last.pt' in r.stderr and 'truncated or corrupt' in r.stderr, r.stderr
    assert 'best.pt is intact' in r.stderr and 'Nothing was changed' in r.stderr
    assert snapshot(run_dir) == before

def test_help_and_module(work):
    for s in SCRIPTS:
        r = run(s, '--help')
        assert r.returncode == 0 and r.stdout.startswith(f'usage: {s}'), (s, r.stderr)
        assert '_' not in ''.join(w for w in r.stdout.split() if w.startswith('--')), (s, r.stdout)   # --kebab-case
    r = run(sys.executable, '-m', 'aidd_train')
    assert r.returncode == 0 and all(s in r.stdout for s in SCRIPTS), r.stdout
    r = run(sys.executable, '-m', 'aidd_train.cli', 'predict', '--help')
    assert r.returncode == 0 and r.stdout.startswith('usage: aidd_predict')
    r = run(sys.executable, '-m', 'aidd_train', 'optimise')
    assert r.returncode == 2 and "unknown command 'optimise'" in r.stderr

@pytest.mark.slow
def test_demo(work):
    """aidd_demo as a user runs it: process → optimize → train exactly the profile's choice → report; run again, it
    reuses the profile (no new probe) and never overwrites the first run."""
    demo = work/'demo'
    r = run('aidd_demo', '--out', demo, '--epochs', 1, '--json')
    assert r.returncode == 0, r.stderr[-3000:]
    d = json.loads(r.stdout)
    assert (d['stopped'], d['epochs_run'], d['run_dir']) == ('completed', 1, str(demo/'run'))
    for line in ('1/3 processing the bundled sample', '2/3 hardware optimizer: prototyping stage', 'chose layers',
                 'Test set', 'against the baselines', 'metrics per epoch'):
        assert line in r.stderr, (line, r.stderr[-3000:])
    prof = json.loads((demo/'hardware_profile.json').read_text())
    st = prof['stages']['prototyping']
    res = json.loads((demo/'run'/'results.json').read_text())
    got = (res['config']['model']['num_layers'], res['config']['model']['hidden_channels'], res['config']['train']['batch_size'])
    assert got == (st['num_layers'], st['hidden_channels'], st['batch_size']), (got, st)
    assert (res['sources']['profile']['differences'], res['sources']['profile']['accepted_differences']) == ([], [])
    for f in (demo/'run'/'curves.png', demo/'hardware_profile.png', demo/'hardware_optimizer.log'):
        assert f.exists(), f
    first = (demo/'run'/'results.json').read_text()
    r = run('aidd_demo', '--out', demo, '--epochs', 1, '--json')
    assert r.returncode == 0 and json.loads(r.stdout)['run_dir'] == str(demo/'run-2'), r.stderr[-3000:]
    assert (demo/'run'/'results.json').read_text() == first                                    # the first run kept
    assert len(json.loads((demo/'hardware_profile.json').read_text())['probes']) == len(prof['probes'])   # reused

OPT = ('optimize:\n  cycle_batches: 20\n  prototyping_minutes: 5\n  tolerance_minutes: 5\n  n_calls: 3\n  n_initial_points: 2\n'
       '  probe_steps: 1\n  timing_steps: 2\n  prototyping_layers: [1, 2]\n  prototyping_channels: [16, 32]\n')

@pytest.fixture(scope='module')
def optimized(work):
    "aidd_optimize on the CPU under a budget (prototyping, a small space): the profile, the config it measured, the output."
    cfg = work/'tiny_opt.yaml'; cfg.write_text(TINY + OPT)
    hp = work/'opt'/'hardware_profile.json'
    r = run('aidd_optimize', '--data', work/'data', '--stages', 'prototyping', '--device', 'cpu', '--memory-budget', '512MiB',
            '--config', cfg, '--out', hp)
    return dict(cfg=cfg, hp=hp, rc=r.returncode, stdout=r.stdout, stderr=r.stderr[-3000:])

def test_optimize_then_train(work, optimized):
    "aidd_optimize on the CPU under a budget → a profile (+ picture, log); aidd_train --profile trains exactly its choice."
    cfg, hp, r = optimized['cfg'], optimized['hp'], optimized
    assert r['rc'] == 0, r['stderr']
    assert r['stdout'].startswith('aidd_optimize: ') and 'prototyping  layers' in r['stdout'] and '--profile' in r['stdout'], r['stdout']
    assert hp.exists() and hp.with_suffix('.png').exists() and (hp.parent/'hardware_optimizer.log').exists()
    prof = json.loads(hp.read_text()); st = prof['stages']['prototyping']
    assert prof['probes'] and all(p['status'] in ('ok', 'oom', 'error', 'pruned') for p in prof['probes'])
    assert st['peak_memory_bytes'] <= 0.9 * 512 * 2**20
    r = run('aidd_train', '--data', work/'data', '--run-dir', work/'run_prof', '--config', cfg, '--profile', hp,
            '--stage', 'prototyping', '--epochs', 1, '--json')
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((work/'run_prof'/'results.json').read_text())
    got = (res['config']['model']['num_layers'], res['config']['model']['hidden_channels'], res['config']['train']['batch_size'])
    assert got == (st['num_layers'], st['hidden_channels'], st['batch_size']), (got, st)
    assert res['sources']['profile']['mismatch'] == [] and (work/'run_prof'/'curves.png').exists()
    assert res['sources']['profile']['differences'] == []          # this machine, this data, this code: nothing to accept
    assert {'train_mean', 'ligand_size'} <= set(res['baselines'])
    r = run('aidd_optimize', '--data', work/'data', '--stages', 'prototyping', '--device', 'cpu', '--memory-budget', '512MiB',
            '--config', cfg, '--out', hp, '--json')                       # same hardware, data, settings: reused
    assert r.returncode == 0 and json.loads(r.stdout)['n_probes'] == len(prof['probes']), r.stderr[-2000:]

def test_optimize_budget_too_small(work):
    "A budget below the smallest model's need: exit 2, one line, no profile."
    hp = work/'tiny_budget'/'hp.json'
    r = run('aidd_optimize', '--data', work/'data', '--stages', 'prototyping', '--device', 'cpu', '--memory-budget', '4MiB', '--out', hp)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "below the smallest model's need" in r.stderr and not hp.exists()

def test_profile_from_another_machine(work, optimized):
    "A profile whose hardware fingerprint says another machine: exit 2 naming it, nothing written; --accept-profile trains and says so."
    assert optimized['rc'] == 0, optimized['stderr']
    prof = json.loads(optimized['hp'].read_text())
    prof['hardware'].update(device='cuda', name='NVIDIA A100 80GB', fingerprint='a100-elsewhere')   # as if measured there
    prof['key_parts']['hardware'] = 'a100-elsewhere'
    other = work/'a100_profile.json'
    other.write_text(json.dumps(prof))
    args = ['aidd_train', '--data', work/'data', '--run-dir', work/'run_a100', '--config', optimized['cfg'], '--profile', other,
            '--stage', 'prototyping', '--epochs', 1]
    r = run(*args)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr[-3000:]
    assert f"{other} was measured on other hardware (cuda, NVIDIA A100 80GB vs this machine's cpu, " in r.stderr, r.stderr
    assert 'other data' not in r.stderr and 'other code' not in r.stderr and '--accept-profile' in r.stderr, r.stderr
    assert r.stdout == '' and not (work/'run_a100').exists()
    r = run(*args, '--accept-profile')
    assert r.returncode == 0, r.stderr[-3000:]
    src = json.loads((work/'run_a100'/'results.json').read_text())['sources']['profile']
    assert src['accepted_differences'] == ['hardware'] and [d['part'] for d in src['differences']] == ['hardware'], src
    log = (work/'run_a100'/'train.log').read_text()
    assert 'WARNING' in log and 'NVIDIA A100 80GB' in log and '--accept-profile' in log, log[-2000:]

def test_compile_auto_logs_its_decision(work):
    "`--compile auto` on a short run stays eager and says why, in train.log and results.json; a bad mode is exit 2."
    r = run('aidd_train', '--data', work/'data', '--run-dir', work/'run_auto', '--config', work/'tiny.yaml',
            '--epochs', 1, '--compile', 'auto')
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((work/'run_auto'/'results.json').read_text())
    assert (res['compile']['mode'], res['compile']['compile'], res['compile']['basis']) == ('auto', False, 'estimate')
    line = next(l for l in (work/'run_auto'/'train.log').read_text().splitlines() if 'compile: auto:' in l)
    assert 'staying eager' in line and 'compile time' in line, line
    r = run('aidd_train', '--data', work/'data', '--run-dir', work/'run_bad', '--compile', 'yes')
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'train.compile' in r.stderr, r.stderr
