#!/usr/bin/env bash
# The main job on the offline default: project gold English entities of
# Europarl-NER onto the human German and Spanish translations, with eflomal
# alignments helped by the parallel text in ../shared/data/parallel, and print
# strict span F1 against the German / Spanish gold.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
data="${XLNER_SHARED_DATA:-../shared/data}"
out="${XLNER_DEMO_OUT:-$(mktemp -d)}"
for lang in de es; do
    echo "== Europarl-NER en -> $lang (offline default: eflomal + parallel text, ILP alignment+string) =="
    .venv/bin/xlner project \
        --source "$data/europarl-ner/en.test.conll" \
        --target "$data/europarl-ner/$lang.test.conll" \
        --src-lang en --tgt-lang "$lang" \
        --extra-parallel "$data/parallel" \
        --output "$out/$lang.projected.conll" \
        --gold "$data/europarl-ner/$lang.test.conll"
done
echo "projected files: $out"
