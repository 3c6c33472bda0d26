#!/usr/bin/env bash
# The GPU checks of aidd-train, prepared to run in one go on a machine with one GPU (an H200, say):
#   (a) the notebooks' `#| gpu` cells: 31a train.device, 31 train.checkpoint, 40 optimize.device, tutorials/04 multi-GPU
#   (b) aidd_process on tests/data/toy50, then aidd_optimize on CUDA under a 6 GB budget, all three stages
#   (c) one aidd_train run per stage with that profile, through bench/gpu_check_report.py measure-train, which
#       records what training does not: the training steps' time and CUDA peak per epoch, the GradScaler's skips.
#       Two epochs by default: the first carries the warm-up (first kernels, allocator growth), the second is timed.
#   (d) bench/gpu_check_report.py report: per stage, the profile's peak memory against training's, OOM events
#       (must be 0), the profile's cycle against the measured one, the steps the GradScaler skipped.
# Every step has a time limit, and all of them together at most GPU_CHECK_DEADLINE seconds (480: 8 minutes).
# Outputs go to $OUT when it is set (the device tool collects it), else to a new temporary folder: gpu_check.log
# (everything printed), hardware_profile.json, report.txt, report.json, outputs.tar.gz (the run folders without
# checkpoints, the optimizer's log and picture). Processed data and checkpoints stay in a work folder.
#
# usage: bash bench/gpu_check.sh [--dry-run] [--epochs N] [--memory-budget 6GB] [--stages a,b,c] [--device cuda|cpu]
#        bash bench/gpu_check.sh --fetch-wheels   # where PyPI is reachable: the packages a GPU machine lacks → .whl/
# --dry-run prints every command and runs none of them (exit 0 on any machine). --device cpu rehearses the script
# without a GPU: the same steps on the CPU, the notebooks without their gpu cells (allow it a longer
# GPU_CHECK_DEADLINE, or fewer --stages).
# Python: $PYTHON, else .venv/bin/python when it exists, else python3. Wheels in .whl/ (from --fetch-wheels) are
# installed into the work folder first; the repository itself is put on PYTHONPATH.
set -euo pipefail

DRY=0
FETCH=0
DEVICE=cuda
EPOCHS=2
BUDGET=6GB
STAGES=prototyping,validation,production
DEADLINE=${GPU_CHECK_DEADLINE:-480}
WHEEL_PY=${GPU_CHECK_WHEEL_PY:-3.12}       # the GPU machine's Python, for --fetch-wheels
while (( $# )); do
    case $1 in
        --dry-run) DRY=1 ;;
        --fetch-wheels) FETCH=1 ;;
        --epochs) EPOCHS=$2; shift ;;
        --memory-budget) BUDGET=$2; shift ;;
        --stages) STAGES=$2; shift ;;
        --device) DEVICE=$2; shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "gpu_check: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [[ $DEVICE != cuda && $DEVICE != cpu ]]; then echo "gpu_check: --device cuda or cpu, not $DEVICE" >&2; exit 2; fi
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
if [[ -n ${PYTHON:-} ]]; then PY=$PYTHON
elif [[ -x .venv/bin/python ]]; then PY=$REPO/.venv/bin/python
else PY=$(command -v python3)
fi
# the notebooks that hold `#| gpu` cells (pytest ids of tests/test_notebooks.py)
NOTEBOOKS="31a_train.device or 31_train.checkpoint or 40_optimize.device or 04_multi_gpu"
# what a GPU machine's image lacks (its python3 has torch, torch_geometric, scipy, scikit-learn, matplotlib, pytest)
WHEELS="rdkit gemmi scikit-optimize pyaml fastcore nbdev execnb ghapi fastgit astunparse asttokens watchdog ipython
        ipython-pygments-lexers jedi parso matplotlib-inline prompt-toolkit wcwidth pexpect ptyprocess stack-data
        executing pure-eval traitlets"

show() { printf '+'; printf ' %q' "$@"; printf '\n'; }

if (( FETCH )); then
    # pin each wheel to the version this project tests with (the local interpreter's), where it is installed
    pins=$("$PY" -c 'import sys, importlib.metadata as md
def pin(n):
    try: return f"{n}=={md.version(n)}"
    except md.PackageNotFoundError: return n
print(" ".join(pin(n) for n in sys.argv[1:]))' $WHEELS)
    cmd=("$PY" -m pip download --no-deps --only-binary=:all: --python-version "$WHEEL_PY" --implementation cp
         --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
         --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl $pins)
    show "${cmd[@]}"
    if (( DRY )); then exit 0; fi
    exclude=$(git rev-parse --git-path info/exclude)
    mkdir -p "$(dirname "$exclude")"
    grep -qx '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >> "$exclude"     # local only: the wheels are not committed
    "${cmd[@]}"
    echo "gpu_check: $(ls .whl/*.whl | wc -l) wheels, $(du -sh .whl | cut -f1) in .whl/ — carry .whl with the run"
    exit 0
fi

if (( DRY )); then
    OUTDIR=${OUT:-${TMPDIR:-/tmp}/aidd_gpu_check.XXXXXX}
    WORK=${TMPDIR:-/tmp}/aidd_gpu_work.XXXXXX
else
    OUTDIR=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/aidd_gpu_check.XXXXXX")}
    mkdir -p "$OUTDIR"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/aidd_gpu_work.XXXXXX")
fi
START=$SECONDS
STEPS=()

step() {   # step NAME SECONDS CMD...: print CMD, run it under a time limit (within the deadline), record the outcome
    local name=$1 want=$2
    shift 2
    local left=$(( DEADLINE - (SECONDS - START) ))
    local limit=$(( want < left ? want : left ))
    echo
    echo "=== $name (limit ${limit} s)"
    show "$@"
    if (( DRY )); then
        STEPS+=("$name|not run (dry run)|0")
        return 0
    fi
    if (( limit < 10 )); then
        STEPS+=("$name|FAILED: not started, the ${DEADLINE} s deadline is spent|0")
        return 1
    fi
    local t0=$SECONDS rc=0
    timeout --kill-after=15 "$limit" "$@" || rc=$?
    local outcome=ok
    if (( rc == 124 || rc == 137 )); then outcome="FAILED: timed out after ${limit} s"
    elif (( rc != 0 )); then outcome="FAILED: exit status $rc"
    fi
    STEPS+=("$name|$outcome|$(( SECONDS - t0 ))")
    return "$rc"
}

collect() {   # the small outputs into $OUTDIR (at most 8 files come back from the device tool)
    [[ -f $WORK/hp.json ]] && cp "$WORK/hp.json" "$OUTDIR/hardware_profile.json"
    [[ -f $WORK/report.txt ]] && cp "$WORK/report.txt" "$OUTDIR/report.txt"
    [[ -f $WORK/report.json ]] && cp "$WORK/report.json" "$OUTDIR/report.json"
    local keep=()
    for f in hardware_optimizer.log hp.png runs; do [[ -e $WORK/$f ]] && keep+=("$f"); done
    if (( ${#keep[@]} )); then
        tar -czf "$OUTDIR/outputs.tar.gz" -C "$WORK" --exclude=checkpoints --exclude=tensorboard "${keep[@]}"
    fi
}

finish() {
    local rc=$?
    trap - EXIT
    (( DRY )) || collect || echo "gpu_check: could not collect every output"
    echo
    echo "=== summary ($(( SECONDS - START )) s; outputs in $OUTDIR, work files in $WORK)"
    local failed=0 s
    for s in "${STEPS[@]}"; do
        IFS='|' read -r name outcome secs <<< "$s"
        printf '  %-26s %5s s  %s\n' "$name" "$secs" "$outcome"
        [[ $outcome == FAILED* ]] && failed=1
    done
    if (( rc == 0 && failed )); then rc=1; fi
    if (( DRY )); then echo "gpu_check: dry run, nothing was run"
    elif (( rc == 0 )); then echo "gpu_check: PASSED"
    else echo "gpu_check: FAILED (exit status $rc)"
    fi
    exit "$rc"
}

main() {
    trap finish EXIT
    echo "gpu_check: python $PY, outputs $OUTDIR, work $WORK, deadline $DEADLINE s"
    # the packages the GPU machine lacks, from .whl/ (see --fetch-wheels), and the repository itself
    local site=$WORK/site
    if compgen -G ".whl/*.whl" > /dev/null; then
        step wheels 120 "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target "$site" .whl/*.whl
    fi
    export PYTHONPATH="$REPO:$site${PYTHONPATH:+:$PYTHONPATH}"
    export AIDD_NO_PROGRESS=1 MPLBACKEND=Agg PYTHONUNBUFFERED=1
    # console scripts (torchrun in the multi-GPU tutorial starts `aidd_train`): wrappers where none is installed
    if [[ ! -x $(dirname "$PY")/aidd_train ]] && ! command -v aidd_train > /dev/null; then
        echo "+ console scripts aidd_* as wrappers of '$PY -m aidd_train' in $WORK/bin"
        if (( ! DRY )); then
            mkdir -p "$WORK/bin"
            for c in aidd_process aidd_optimize aidd_train aidd_predict aidd_demo; do
                printf '#!/bin/sh\nPYTHONPATH=%q exec %q -m aidd_train %s "$@"\n' "$PYTHONPATH" "$PY" "$c" > "$WORK/bin/$c"
                chmod +x "$WORK/bin/$c"
            done
        fi
        export PATH="$WORK/bin:$PATH"
    fi
    step preflight 120 "$PY" bench/gpu_check_report.py preflight --device "$DEVICE"
    # (a) the notebooks' gpu cells (with every other cell of those notebooks, slow ones apart)
    local flags=gpu
    [[ $DEVICE == cuda ]] || flags=''
    step "notebooks (gpu cells)" 240 env AIDD_TEST_FLAGS="$flags" "$PY" -m pytest -q -p no:cacheprovider \
        tests/test_notebooks.py -k "$NOTEBOOKS" || true
    # (b) data and the hardware profile
    step process 120 "$PY" -m aidd_train aidd_process --root tests/data/toy50 --out "$WORK/toy50"
    step optimize 240 "$PY" -m aidd_train aidd_optimize --data "$WORK/toy50" --device "$DEVICE" --memory-budget "$BUDGET" \
        --stages "$STAGES" --out "$WORK/hp.json"
    # (c) one training run per stage, measured
    local s
    for s in ${STAGES//,/ }; do
        step "train $s" 120 "$PY" bench/gpu_check_report.py measure-train -- --data "$WORK/toy50" \
            --run-dir "$WORK/runs/$s" --profile "$WORK/hp.json" --stage "$s" --epochs "$EPOCHS" --device "$DEVICE" || true
    done
    # (d) the comparison
    step report 60 "$PY" bench/gpu_check_report.py report --profile "$WORK/hp.json" --runs "$WORK/runs" \
        --stages "$STAGES" --json "$WORK/report.json" --text "$WORK/report.txt"
}

if (( DRY )); then
    main
else
    main 2>&1 | tee -a "$OUTDIR/gpu_check.log"
fi
