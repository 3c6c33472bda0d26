"""The prepared GPU check, rehearsed on a machine without a GPU: `--dry-run` prints every step it would take and
runs none of them."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_gpu_check_dry_run():
    r = subprocess.run(['bash', str(ROOT/'bench'/'gpu_check.sh'), '--dry-run'], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout + r.stderr
    for step in ('aidd_optimize', '--device cuda', '--memory-budget 6GB', 'prototyping', 'validation', 'production', 'report'):
        assert step in out, step
    assert 'dry run, nothing was run' in out


def _bench_scale():
    "bench/bench_scale.py as a module (bench/ is not a package)."
    import importlib.util
    spec = importlib.util.spec_from_file_location('bench_scale', ROOT/'bench'/'bench_scale.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

def test_scale_bench_tree(tmp_path):
    """The scale bench's replicated PDBbind tree is real input: distinct codes, an INDEX that reads back, and
    replicas that load as their template moved rigidly (plus 0.01 Å noise); its slope fit reads exponents."""
    import numpy as np
    from aidd_train.config import DataConfig
    from aidd_train.data.dataset import find_complex_dirs, find_index
    from aidd_train.data.labels import read_labels
    from aidd_train.data.structure import load_complex
    b = _bench_scale()
    templates = b.load_templates()
    assert len(templates) == 50
    info = b.write_tree(tmp_path/'root', 120, templates, seed=1)
    dirs, notes = find_complex_dirs(tmp_path/'root')
    labels = read_labels(find_index(tmp_path/'root'))
    assert (info['n'], len(dirs), len(labels), notes) == (120, 120, 120, [])
    assert not set(dirs) & {t['code'] for t in templates}
    for i in (0, 51):                                   # replica i is template i % 50
        t, code = templates[i % 50], sorted(dirs)[i]
        assert labels[code].pK == read_labels(find_index(b.TOY))[t['code']].pK
        new, old = load_complex(dirs[code], DataConfig(), code), load_complex(b.TOY/t['code'], DataConfig(), t['code'])
        assert (new.ligand.z == old.ligand.z).all() and (new.pocket.z == old.pocket.z).all()
        shift = new.ligand.pos.mean(0) - old.ligand.pos.mean(0)
        assert np.abs(new.pocket.pos - old.pocket.pos - shift).max() < 0.1   # same geometry, moved
    assert (b.slope([1000, 4000], [2.0, 8.0]), b.slope([1000, 4000], [1.0, 16.0])) == (1.0, 2.0)
    assert b.at_20k([1000, 5000], [20.0, 60.0], 0.68) == (210.0, 'extrapolated')   # fixed cost + linear part

def test_scale_bench_measures_a_command():
    "`run_measured`: exit status, wall and CPU seconds, and the memory of a short command."
    import os, sys
    cmd = [sys.executable, '-c', 'x = bytearray(50_000_000); print("done")']
    r = _bench_scale().run_measured(cmd, dict(os.environ))
    assert r['rc'] == 0 and 'done' in r['tail'] and r['seconds'] > 0
    assert r['peak_largest_process_bytes'] > 50_000_000
