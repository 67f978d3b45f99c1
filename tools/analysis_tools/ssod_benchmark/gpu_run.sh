#!/usr/bin/env bash
# The benchmark's `gpu` budget (512 px, 1.5x the default iterations, the main rows of the first
# seed) on one GPU, rows side by side where they are independent: the 5% trunk beside the 100% row,
# then MeanTeacher, SoftTeacher and AnoMed from that trunk together; then the report. A row that
# fails leaves its log and the others go on. Needs mmcv with CUDA ops.
#   bash tools/analysis_tools/ssod_benchmark/gpu_run.sh [WORK_DIR] [RESULTS] [DOC]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
PY=${PYTHON:-python}
WORK=${1:-work_dirs/benchmark/gpu}
RESULTS=${2:-docs/results/benchmark_gpu.jsonl}
DOC=${3:-docs/benchmark.md}
mkdir -p "$WORK"
bench() { $PY tools/analysis_tools/benchmark_ssod.py --budget gpu --work-dir "$WORK" --results "$RESULTS" --doc "$DOC" "$@"; }
side_by_side() {  # one benchmark process per row, each logging to $WORK/<first method>.log
    local pids=() m
    for m in "$@"; do
        bench --methods $m > "$WORK/${m##* }.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || echo "a row failed: see $WORK/*.log"; done
}
bench --data-only || exit 1
side_by_side supervised supervised_full
if grep -qs '"supervised_5pct_seed0"' "$RESULTS"; then  # a row is in the results once trained and tested
    side_by_side 'supervised mean_teacher' 'supervised soft_teacher' 'supervised anomed'
else
    echo "the 5% trunk did not finish: no semi-supervised rows (see $WORK/supervised.log)"
fi
bench --report-only
