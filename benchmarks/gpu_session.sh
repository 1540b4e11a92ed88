#!/usr/bin/env bash
# One prepared session on a lent GPU machine (the `device` tool): all GPU measurements in one go.
# Runs from the repository root with the carried folder .gpu/ (git-ignored) holding: an fp16 copy of the mini
# encoder (.gpu/mini-fp16), the canonical NER splits + topics-dev (.gpu/shared/data/...), wheels missing on the
# GPU image (.gpu/wheels), and the silver topic data (data/silver, carried). Results go to $OUT.
set -u
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT" /tmp/res
LOG=/tmp/res/session.log
step() { local name=$1; shift; local t0=$SECONDS; echo "=== $name" | tee -a $LOG
  "$@" > /tmp/res/$name.log 2>&1; local rc=$?; echo "=== $name rc=$rc $((SECONDS-t0))s" | tee -a $LOG
  tail -n 25 /tmp/res/$name.log | grep -v "it/s\]" >> $LOG; }

python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/wheels/*.whl
export PYTHONPATH=/tmp/site:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a $LOG
python3 -c "import torch, transformers, sys; print('torch', torch.__version__, 'transformers', transformers.__version__, sys.version)" | tee -a $LOG
# ../shared stand-in (.gpu/shared, passed explicitly below): the carried data plus the mini encoder in float32
S=.gpu/shared; mkdir -p $S/models
python3 - <<'PY'
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer
m = AutoModelForMaskedLM.from_pretrained(".gpu/mini-fp16", dtype=torch.float32).float()
m.save_pretrained(".gpu/shared/models/arabic-mini-bert")
AutoTokenizer.from_pretrained(".gpu/mini-fp16").save_pretrained(".gpu/shared/models/arabic-mini-bert")
PY

# 1. NER (issue 2): CRF, plain run_ner-style recipe and ours, one run, same encoder and split
step ner python3 benchmarks/ner_anercorp.py --shared $S --systems crf,plain,ours --out /tmp/res/ner_anercorp.json
# 2. topics (issue 3): our recipe, then rules / TF-IDF baselines and our model on topics-dev
step topics_train python3 -m tagger.cli train training/configs/topics-mini.yaml \
  --set model=$S/models/arabic-mini-bert --set dev=$S/data/gold/topics-dev.jsonl
step topics_dev python3 benchmarks/topics_dev.py --dev $S/data/gold/topics-dev.jsonl --model runs/topics-mini \
  --json /tmp/res/topics_dev.json
# 3. speed (issue 6): bf16 path vs transformers pipeline on the GPU
step speed python3 benchmarks/speed.py --device cuda --shared $S \
  --models ner=runs/anercorp-mini,topics=runs/topics-mini,arabert-shape-ner --json /tmp/res/speed_gpu.json
# 4. the seed article with tashkeel, tagged by the ANERcorp model
step seed python3 - <<'PY'
from tagger import Tagger
text = open("seeds/seed_article.txt", encoding="utf-8").read()
text = text.replace("هاشمي", "هاشِمي").replace("كينيا", "كِينيا").replace("وزارة", "وِزارة")
for e in Tagger.from_pretrained("runs/anercorp-mini").predict([text])[0].entities:
    assert text[e.start:e.end] == e.text
    print(e.label, e.text, e.start, e.end, round(e.score, 3))
PY
# bring back: results, and the trained NER model as fp16 parts (the 16 MiB per-file limit)
python3 - <<'PY'
import torch
from transformers import AutoModelForTokenClassification
m = AutoModelForTokenClassification.from_pretrained("runs/anercorp-mini").half()
m.save_pretrained("/tmp/ner16")
PY
mkdir -p /tmp/res/ner-model && cp runs/anercorp-mini/*.json runs/anercorp-mini/*.yaml runs/anercorp-mini/README.md /tmp/res/ner-model/ 2>/dev/null
tar czf "$OUT/results.tgz" -C /tmp res
split -b 15M -d /tmp/ner16/model.safetensors "$OUT/ner16.part"
ls -la "$OUT"
