#!/usr/bin/env bash
# The checks that need a GPU, in one go: the CUDA tests, then the speed benchmark on a workload
# big enough that start-up does not dominate (512 documents), and the
# attention comparison on CUDA. Writes its logs to ${OUT:-gpu-out}/.
#   PYTHONPATH=. bash benchmarks/gpu.sh
set -uo pipefail
out=${OUT:-gpu-out}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$out/gpu.txt"
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())" 2>&1 | tee -a "$out/gpu.txt"
timeout 150 python3 -m pytest -q -p no:cacheprovider -rs tests/test_attention.py tests/test_attention_families.py tests/test_backends.py tests/test_device.py -k "cuda or Cuda or CUDA" 2>&1 | tee "$out/tests.txt"
timeout 240 python3 benchmarks/bench_speed.py --device cuda --only torch --threads 8 --documents 512 --json "$out/speed.json" 2>&1 | tee "$out/speed.txt"
model=$(mktemp -d)/t5-small-shaped
python3 -c "import sys; sys.path.insert(0, 'tests'); from pathlib import Path; from tiny_t5 import T5_SMALL_SHAPE, build_tiny_t5; build_tiny_t5(Path('$model'), shape=T5_SMALL_SHAPE, window=512)" > /dev/null 2>&1
for batch in 1 8; do
  timeout 60 python3 -m summarizer compare-attention --model "$model" --device cuda --dtype float32 --batch $batch --format json 2>&1 | tee "$out/attention-b$batch.json"
done
