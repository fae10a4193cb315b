#!/usr/bin/env bash
# The product-path evaluation of README "Search quality through the product": every figure's command.
# About 2 hours on 2 CPU cores. Writes reports/product-eval/*.json.
# PART=table: only the README's first table (small slices, but the reference queries ask all 1,159 articles:
# 1 h 45 min on 2 slow cores beside other jobs); PART=whole: the rest (whole benchmarks, keyword search alone,
# quoted phrases); default both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
# The README's first table: the shipped default (MODEL=default); the whole-benchmark tables below it:
# MODEL=runs/lora-r16-merged (the first shipped default, rebuilt by its REPORT command).
MODEL=${MODEL:-default}
PART=${PART:-all}
OUT=reports/product-eval
mkdir -p $OUT
if [[ $PART != whole ]]; then
for spec in "xquad-r 20" "constitutions 60" "milpac 40"; do
  set -- $spec
  $PY -m trainer evaluate --model $MODEL --benchmark $1 --limit $2 --json $OUT/$1-trainer.json >/dev/null
  $PY -m app evaluate --model $MODEL --benchmark $1 --limit $2 --mode dense --json $OUT/$1-dense.json
  $PY -m app evaluate --model $MODEL --benchmark $1 --limit $2 --mode hybrid --keywords all --json $OUT/$1-hybrid-all.json
  $PY -m app evaluate --model $MODEL --benchmark $1 --limit $2 --mode hybrid --keywords references-flat --json $OUT/$1-hybrid-refs-flat.json
  $PY -m app evaluate --model $MODEL --benchmark $1 --limit $2 --mode hybrid --json $OUT/$1-hybrid.json
done
for spec in "xquad-r 60" "constitutions 60" "milpac 40"; do
  set -- $spec
  $PY -m app evaluate --model $MODEL --benchmark $1 --limit $2 --index ivf --json $OUT/$1-dense-ivf.json
done
$PY -m app evaluate --model $MODEL --benchmark xquad-r --limit 60 --json $OUT/xquad-r-60-dense.json
$PY -m trainer evaluate --model $MODEL --benchmark mlqa-r --limit 20 --json $OUT/mlqa-r-trainer.json >/dev/null
$PY -m app evaluate --model $MODEL --benchmark mlqa-r --limit 20 --mode dense hybrid --json "$OUT/mlqa-r-{mode}.json"
$PY -m app evaluate --model $MODEL --benchmark constitutions --queries references --mode dense --json $OUT/constitutions-references-dense.json
$PY -m app evaluate --model $MODEL --benchmark constitutions --queries references --mode hybrid --keywords all --json $OUT/constitutions-references-hybrid-all.json
$PY -m app evaluate --model $MODEL --benchmark constitutions --queries references --mode hybrid --keywords references-flat --json $OUT/constitutions-references-hybrid-refs-flat.json
$PY -m app evaluate --model $MODEL --benchmark constitutions --queries references --mode hybrid --json $OUT/constitutions-references-hybrid.json
fi
[[ $PART == table ]] && exit 0
# Keyword search alone through the product (issue #14), and dense against hybrid on every question of
# each whole benchmark that hybrid fuses keyword evidence for (on all others hybrid is dense search).
$PY -m app evaluate --model $MODEL --benchmark xquad-r --limit 20 --mode keywords --json $OUT/xquad-r-keywords.json
for b in milpac constitutions xquad-r mlqa-r; do
  $PY -m app evaluate --model $MODEL --benchmark $b --queries fused --mode dense hybrid --json "$OUT/$b-fused-{mode}.json"
done
# Quoted phrases: as shipped (marked) against placing them first within their language or fusing them.
for spec in "milpac" "constitutions" "xquad-r --limit 200"; do
  set -- $spec
  $PY -m app evaluate --model $MODEL --benchmark $spec --queries quoted --mode dense hybrid --json "$OUT/$1-quoted-{mode}.json"
  $PY -m app evaluate --model $MODEL --benchmark $spec --queries quoted --mode hybrid --keywords phrases-first --json "$OUT/$1-quoted-hybrid-phrases-first.json"
  $PY -m app evaluate --model $MODEL --benchmark $spec --queries quoted --mode hybrid --keywords phrases-fused --json "$OUT/$1-quoted-hybrid-phrases-fused.json"
done
$PY scripts/product_reports.py   # REPORT.md + plots beside each fused comparison
