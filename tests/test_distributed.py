"""Training runs unchanged under torchrun: 2 CPU processes (gloo), DDP through Trainer, one model saved once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

torch = pytest.importorskip("torch")
if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
    pytest.skip("torch.distributed with the gloo backend is not available", allow_module_level=True)

SCRIPT = """
import json, logging, os, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
from tagger.trainer import train
result = train(json.loads(open(sys.argv[1], encoding="utf-8").read()))
from accelerate import PartialState
state = PartialState()
print("RANK-REPORT " + json.dumps({"rank": state.process_index, "world": state.num_processes,
                                   "type": str(state.distributed_type), "steps": result.metrics["global_step"]}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_distributed_torchrun_two_cpu_processes(tiny_encoder, tmp_path):
    out = tmp_path / "runs" / "model"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "task": "ner", "model": str(tiny_encoder), "train": str(FIXTURES / "ner_small.jsonl"),
        "dev": str(FIXTURES / "ner_small.jsonl"), "output_dir": str(out), "max_steps": 4, "batch_size": 2,
        "learning_rate": 1e-3, "max_length": 24, "stride": 4, "seed": 1, "evaluations_per_epoch": 2,
    }), encoding="utf-8")
    script = tmp_path / "run_train.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATE_", "RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_"))}
    env.update({"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"})
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
           f"--master_port={_free_port()}", str(script), str(config)]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]

    reports = sorted((json.loads(line.split("RANK-REPORT ", 1)[1]) for line in proc.stdout.splitlines()
                      if "RANK-REPORT " in line), key=lambda r: r["rank"])
    assert [r["rank"] for r in reports] == [0, 1]
    assert all(r["world"] == 2 and r["type"].endswith("MULTI_CPU") for r in reports), reports  # real DDP (gloo)
    assert log.count(f"saved {out.resolve()}") == 1  # one process writes the model
    leftovers = [p.name for p in out.parent.iterdir() if p.name != "model"]
    assert leftovers == []  # no temporary or work directories left by either rank
    assert (out / "model.safetensors").is_file()

    from tagger import Tagger

    preds = Tagger.from_pretrained(out).predict(["التقى ستار هاشمي نظيره الكيني في نيروبي"])
    assert len(preds) == 1
    metrics = json.loads(Path(out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["global_step"] == 4
