"""Writes the UniPC reference fixture that UniPcMultistepSchedulerTest replays.

Runs diffusers 0.21.4's UniPCMultistepScheduler (unmodified, not part of this project) on Debian's
CPU torch 1.13.1, for the tiny-audioldm scheduler config and a few option variants: 10 steps on a
seeded latent, with a synthetic model output that depends on the sample and the timestep (so the
UniC corrector sees a real change between steps). Every step's inputs and output are recorded, so
the Java test replays them without recomputing anything here.

Regenerate (see /work/shared/reference/README.md for the sources and Debian packages):
    PYTHONPATH=<shim>:<diffusers v0.21.4>/src:<huggingface_hub v0.17.3>/src HF_HUB_OFFLINE=1 \
        /usr/bin/python3 pipeline/src/test/python/unipc_reference.py \
        pipeline/src/test/resources/org/euterpe/pipeline/scheduler/unipc-reference.safetensors
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
from diffusers import UniPCMultistepScheduler

ROOT = Path(__file__).resolve().parents[4]
BASE = json.loads((ROOT / "pipeline/src/test/conformance/tiny-audioldm/scheduler/scheduler_config.json").read_text())
STEPS = 10
SHAPE = (1, 4, 8, 4)

# name -> keys replacing the tiny-audioldm config's (which sets leading spacing and epsilon).
VARIANTS = {
    "default": {},
    "bh1": {"solver_type": "bh1"},
    "order3": {"solver_order": 3},
    "order4-linspace": {"solver_order": 4, "timestep_spacing": "linspace"},
    "order3-full-disabled": {"solver_order": 3, "lower_order_final": False, "disable_corrector": [0, 4]},
    "v-prediction": {"prediction_type": "v_prediction"},
    "sample-prediction": {"prediction_type": "sample", "solver_type": "bh1"},
    "noise-space": {"predict_x0": False},
    "noise-space-v-order3": {"predict_x0": False, "prediction_type": "v_prediction", "solver_order": 3},
    "trailing": {"timestep_spacing": "trailing"},
    "karras": {"use_karras_sigmas": True, "timestep_spacing": "linspace"},
    "midpoint-alias": {"solver_type": "midpoint"},
}


def model_output(sample, t):
    """A deterministic stand-in for the U-Net: smooth in the sample, varying with t."""
    phase = float(t) / 250.0
    return 0.7 * torch.tanh(sample) * np.float32(np.cos(phase)) + 0.2 * torch.sin(3.0 * sample + phase)


def main(out):
    tensors = {}
    meta = {}
    for name, extra in VARIANTS.items():
        config = dict(BASE, **extra)
        s = UniPCMultistepScheduler.from_config(config)
        s.set_timesteps(STEPS)
        g = torch.Generator().manual_seed(0)
        sample = torch.randn(SHAPE, generator=g, dtype=torch.float32) * s.init_noise_sigma
        tensors[f"{name}.timesteps"] = s.timesteps.numpy().astype(np.int64)
        tensors[f"{name}.sigmas"] = s.sigmas.numpy().astype(np.float32)
        tensors[f"{name}.initial_sample"] = sample.numpy()
        for k, t in enumerate(s.timesteps):
            mo = model_output(sample, t)
            prev = s.step(mo, t, sample).prev_sample
            tensors[f"{name}.step.{k}.model_output"] = mo.numpy()
            tensors[f"{name}.step.{k}.prev_sample"] = prev.numpy()
            sample = prev
        meta[f"{name}.config"] = json.dumps(config)
    meta["variants"] = json.dumps(list(VARIANTS))
    meta["source"] = "diffusers 0.21.4 UniPCMultistepScheduler, torch " + torch.__version__
    write_safetensors(out, tensors, meta)


def write_safetensors(path, tensors, meta):
    dtypes = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    header = {"__metadata__": meta}
    blobs = []
    offset = 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtypes[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


if __name__ == "__main__":
    main(sys.argv[1])
