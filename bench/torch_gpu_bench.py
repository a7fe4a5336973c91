#!/usr/bin/env python3
"""PyTorch side of the device kit's GPU benchmark: diffusers' and transformers' own modules, eager, fp16.

Times, on the full-size audioldm-s-full-v2 configs with random weights (no weights are carried):
  unet        one UNet2DConditionModel forward, CFG batch 2, timestep 500, 10 s of audio
  vae_decode  AutoencoderKL.decode of one latent
  vocoder     transformers' SpeechT5HifiGan on the decoded mel
  total       a whole clip through diffusers' AudioLDMPipeline (DDIM, STEPS steps, guidance 2.5), or,
              where that pipeline cannot be built with the installed transformers, the same loop written
              out with the same modules (the report says which)
Each stage but the whole clip runs once untimed, then REPEAT timed runs (median reported); the whole clip
runs once untimed with 2 steps, then once timed. Times are wall-clock around CUDA-synchronised calls.
FLOPs come from torch.utils.flop_counter (2 per multiply-add of matmuls and convolutions), as the
engine's FlopCounter counts them.

diffusers is imported from --diffusers (its src/ folder, carried in the device kit; the GPU machine has
transformers and torch but no diffusers). Writes one JSON report to --out:
{"stages": {name: {median_s, min_s, runs_s, gflop, gflops_per_s}}, "torch": ..., "device": ..., ...}

Usage: torch_gpu_bench.py --configs DIR --diffusers SRC [--device cuda|cpu] [--seconds 10] [--steps 20]
                          [--repeat 3] [--dtype fp16|fp32] --out FILE
"""
import argparse
import json
import math
import os
import statistics
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--configs", required=True)
    p.add_argument("--diffusers", required=True, help="diffusers' src/ folder")
    p.add_argument("--device", default="cuda")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dtype", default="fp16", choices=("fp16", "fp32"))
    p.add_argument("--out", required=True)
    return p.parse_args()


def config(configs, component):
    with open(os.path.join(configs, component, "config.json")) as f:
        d = json.load(f)
    return {k: v for k, v in d.items()
            if not k.startswith("_") and k not in ("architectures", "transformers_version", "torch_dtype")}


def main():
    a = parse()
    sys.path.insert(0, os.path.abspath(a.diffusers))
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    import diffusers
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    import transformers
    from transformers import ClapTextConfig, ClapTextModelWithProjection, SpeechT5HifiGan, SpeechT5HifiGanConfig

    dev = torch.device(a.device)
    dtype = torch.float16 if a.dtype == "fp16" else torch.float32
    cuda = dev.type == "cuda"
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 runs, if asked for, stay fp32
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    report = {"torch": torch.__version__, "diffusers": diffusers.__version__,
              "diffusers_path": os.path.dirname(diffusers.__file__), "transformers": transformers.__version__,
              "dtype": a.dtype, "mode": "eager", "seconds": a.seconds, "steps": a.steps, "repeat": a.repeat,
              "device": torch.cuda.get_device_name(dev) if cuda else "cpu (%d threads)" % torch.get_num_threads(),
              "stages": {}}
    if cuda:
        report["cuda"] = torch.version.cuda
        report["cudnn"] = torch.backends.cudnn.version()

    # The latent geometry the engine uses: mel frames of the clip, rounded up to the VAE's factor.
    voc_cfg = config(a.configs, "vocoder")
    vae_cfg = config(a.configs, "vae")
    hop = math.prod(voc_cfg["upsample_rates"])
    frames = int(a.seconds * voc_cfg["sampling_rate"] / hop)
    scale = 2 ** (len(vae_cfg["block_out_channels"]) - 1)
    frames = -(-frames // scale) * scale
    unet_cfg = config(a.configs, "unet")
    lat = [1, unet_cfg["in_channels"], frames // scale, voc_cfg["model_in_dim"] // scale]
    report["latent_shape"] = lat

    def flops(fn):
        counter = FlopCounterMode(display=False)
        with counter:
            fn()
        sync()
        return counter.get_total_flops()

    def timed(name, fn, repeat, warmup=True):
        if warmup:
            fn()
        sync()
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            sync()
            runs.append(time.perf_counter() - t0)
        return {"median_s": statistics.median(runs), "min_s": min(runs), "runs_s": runs}

    def record(name, timing, n_flops):
        timing["gflop"] = n_flops / 1e9
        timing["gflops_per_s"] = timing["gflop"] / timing["median_s"]
        report["stages"][name] = timing
        print("%-11s %.4f s  %.1f GFLOP  %.1f GFLOP/s" % (name, timing["median_s"], timing["gflop"],
                                                       timing["gflops_per_s"]), flush=True)

    g = torch.Generator(device="cpu").manual_seed(0)
    with torch.inference_mode():
        torch.manual_seed(0)
        unet = UNet2DConditionModel.from_config(unet_cfg).to(dev, dtype).eval()
        x = torch.randn([2] + lat[1:], generator=g).to(dev, dtype)
        labels = torch.nn.functional.normalize(torch.randn(2, unet_cfg.get("projection_class_embeddings_input_dim")
                                                           or 512, generator=g), dim=-1).to(dev, dtype)
        t = torch.tensor(500, device=dev)
        f = lambda: unet(x, t, encoder_hidden_states=None, class_labels=labels).sample  # noqa: E731
        record("unet", timed("unet", f, a.repeat), flops(f))

        vae = AutoencoderKL.from_config(vae_cfg).to(dev, dtype).eval()
        z = torch.randn(lat, generator=g).to(dev, dtype)
        f = lambda: vae.decode(z / vae_cfg["scaling_factor"]).sample  # noqa: E731
        record("vae_decode", timed("vae_decode", f, a.repeat), flops(f))
        mel = f()

        vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(**voc_cfg)).to(dev, dtype).eval()
        m = mel.squeeze(1)
        f = lambda: vocoder(m)  # noqa: E731
        record("vocoder", timed("vocoder", f, a.repeat), flops(f))

        text_encoder = ClapTextModelWithProjection(ClapTextConfig(**config(a.configs, "text_encoder"))).to(dev, dtype)
        text_encoder.eval()
        scheduler = DDIMScheduler.from_config(
            json.load(open(os.path.join(a.configs, "scheduler", "scheduler_config.json"))))
        tok_dir = os.path.join(a.configs, "tokenizer")
        prompt = "a dog barking in the rain"
        try:
            total, how, n_flops = whole_clip_pipeline(a, dev, dtype, vae, text_encoder, tok_dir, unet, scheduler,
                                                     vocoder, prompt, timed, flops)
        except Exception as e:  # noqa: BLE001 - any incompatibility of the installed transformers
            print("AudioLDMPipeline not usable (%s: %s); timing the loop written out" % (type(e).__name__, e),
                  flush=True)
            total, how, n_flops = whole_clip_loop(a, dev, dtype, vae, text_encoder, unet, scheduler, vocoder, timed,
                                                  flops, g)
            how += " (AudioLDMPipeline failed: %s: %s)" % (type(e).__name__, str(e)[:200])
        report["total_how"] = how
        record("total", total, n_flops)
    if cuda:
        report["peak_allocated_mib"] = torch.cuda.max_memory_allocated(dev) / 2 ** 20
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1)
    print("wrote", a.out)


def whole_clip_pipeline(a, dev, dtype, vae, text_encoder, tok_dir, unet, scheduler, vocoder, prompt, timed, flops):
    from diffusers.pipelines.deprecated.audioldm import AudioLDMPipeline
    from transformers import RobertaTokenizer

    tokenizer = RobertaTokenizer(os.path.join(tok_dir, "vocab.json"), os.path.join(tok_dir, "merges.txt"),
                                 model_max_length=512)
    pipe = AudioLDMPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                            vocoder=vocoder)
    pipe.set_progress_bar_config(disable=True)

    def run(steps):
        return pipe(prompt, num_inference_steps=steps, audio_length_in_s=a.seconds, guidance_scale=2.5,
                    output_type="np").audios

    run(2)  # warm-up (kernel selection, allocator)
    n_flops = flops(lambda: run(a.steps))
    return timed("total", lambda: run(a.steps), 1, warmup=False), "diffusers AudioLDMPipeline", n_flops


def whole_clip_loop(a, dev, dtype, vae, text_encoder, unet, scheduler, vocoder, timed, flops, g):
    import torch

    # [unconditional, conditional] prompts, padded as the tokenizer pads them: <s> tokens </s> <pad>...
    ids = torch.full((2, 512), 1, dtype=torch.long)
    ids[:, 0] = 0
    ids[:, 1:20] = torch.randint(4, 50000, (2, 19), generator=g)
    ids[:, 20] = 2
    ids = ids.to(dev)
    mask = (ids != 1).long()

    def run(steps):
        emb = text_encoder(ids, attention_mask=mask).text_embeds
        emb = torch.nn.functional.normalize(emb, dim=-1)
        scheduler.set_timesteps(steps, device=dev)
        latents = torch.randn(LAT, device=dev, dtype=dtype) * scheduler.init_noise_sigma
        for t in scheduler.timesteps:
            inp = scheduler.scale_model_input(torch.cat([latents] * 2), t)
            eps = unet(inp, t, encoder_hidden_states=None, class_labels=emb).sample
            uncond, cond = eps.chunk(2)
            latents = scheduler.step(uncond + 2.5 * (cond - uncond), t, latents).prev_sample
        mel = vae.decode(latents / vae.config.scaling_factor).sample
        return vocoder(mel.squeeze(1))

    global LAT
    LAT = [1, unet.config.in_channels] + latent_tail(a, vae, vocoder)
    run(2)
    n_flops = flops(lambda: run(a.steps))
    return timed("total", lambda: run(a.steps), 1, warmup=False), "the pipeline's loop written out", n_flops


def latent_tail(a, vae, vocoder):
    cfg = vocoder.config
    hop = math.prod(cfg.upsample_rates)
    frames = int(a.seconds * cfg.sampling_rate / hop)
    scale = 2 ** (len(vae.config.block_out_channels) - 1)
    frames = -(-frames // scale) * scale
    return [frames // scale, cfg.model_in_dim // scale]


LAT = None

if __name__ == "__main__":
    main()
