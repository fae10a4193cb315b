#!/usr/bin/env bash
# The merge-weight comparison of reports/REPORT.md ("The merge weight, on the benchmarks"): about 45
# minutes on 2 CPU cores (XQuAD-R is most of it). Writes reports/lora/sweep/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=reports/lora/sweep
mkdir -p $OUT
$PY -m trainer evaluate --model base --benchmark milpac --json $OUT/base-milpac-full.json
$PY -m trainer evaluate --model runs/lora-r16-merged --benchmark milpac --json $OUT/w070-milpac-full.json
$PY -m trainer merge --tuned runs/lora-r16 --out runs/lora-r16-w075 --weight 0.75
$PY -m trainer evaluate --model runs/lora-r16-w075 --benchmark milpac --json $OUT/w075-milpac-full.json
$PY -m trainer evaluate --model runs/lora-r16-w075 --benchmark milpac --limit 200 --json $OUT/w075-milpac.json
$PY -m trainer evaluate --model runs/lora-r16-w075 --benchmark xquad-r --json $OUT/w075-xquad-r.json
