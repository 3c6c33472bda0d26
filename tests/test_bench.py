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
