"""PyTorch side of the Dance Diffusion benchmark: diffusers 0.21.4's UNet1DModel and DanceDiffusionPipeline
built from a config folder with random (default-init) weights, on Debian's CPU torch. Times one U-Net step
(batch 1, stereo, the window's length, t = 0.5) after one warm-up, `--repeat` times, and one whole clip of
`--steps` IPNDM steps. Prints one JSON line in the shape of `euterpe bench --json` ({"stages": {"unet": ...,
"total": ...}, "peak_rss_mb": ...}). Run with the reference environment: `. ../shared/reference/env.sh`.

Usage: python3 bench/time_dance_pytorch.py CONFIG_DIR [--threads N] [--steps N] [--repeat N] [--samples N]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
from diffusers import DanceDiffusionPipeline, IPNDMScheduler, UNet1DModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config_dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--samples", type=int, default=0, help="length (default: the config's sample_size)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with open(os.path.join(a.config_dir, "unet", "config.json")) as f:
        cfg = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    unet = UNet1DModel(**cfg).eval()
    length = a.samples or cfg["sample_size"]
    x = torch.randn(1, cfg.get("in_channels", 2), length)
    t = torch.tensor(0.5)
    runs = []
    with torch.no_grad():
        unet(x, t)  # warm-up
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            unet(x, t)
            runs.append(time.perf_counter() - t0)
        pipe = DanceDiffusionPipeline(unet=unet, scheduler=IPNDMScheduler())
        pipe.set_progress_bar_config(disable=True)
        t0 = time.perf_counter()
        pipe(batch_size=1, num_inference_steps=a.steps, audio_length_in_s=length / cfg["sample_rate"],
             generator=torch.Generator().manual_seed(0))
        total = time.perf_counter() - t0
    stage = lambda r: {"median_s": statistics.median(r), "min_s": min(r), "runs_s": r}
    print(json.dumps({"stages": {"unet": stage(runs), "total": stage([total])}, "threads": a.threads,
                      "samples": length, "steps": a.steps, "torch": torch.__version__,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    sys.exit(main())
