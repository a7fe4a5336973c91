#!/usr/bin/python3
"""Stable Audio Open side by side with PyTorch (driver of bench/compare-sao-pytorch.sh; see its header).

Each measurement is one fresh process per side, so each process's peak RSS (wait4's ru_maxrss) is that stage's;
rounds are interleaved (odd rounds PyTorch first, even rounds Euterpe first) so a machine that gets busier or
quieter during the run moves both sides alike. Ratios are Euterpe / PyTorch of the per-side medians over rounds.

--engine-dtypes f16,int8 also times the engine's dit and vae_decode stages with its random weights stored as
`euterpe convert --dtype D` would store them (`bench --dtype D`), one more process per dtype in each round,
interleaved with the f32 runs (the order of the sides reversed every other round); each such row reports the
median over rounds, its ratio to the engine's f32 median (goal <= 1.3) and its peak RSS (also against f32 and,
unless --engine-only, PyTorch). --engine-only leaves PyTorch out (no reference environment needed).

Also run as `compare_sao_pytorch.py --torch-total STEPS` (inside the reference environment) to time a whole clip
in PyTorch: T5 on 2 x 128 tokens, STEPS guided DiT steps (CFG batch 2, the model's full 1024 latent frames, as
diffusers always generates) with CosineDPMSolverMultistepScheduler, then the Oobleck decode of the full length,
mirroring the engine's `bench --stage total`. Random weights; the SDE noise is plain torch.randn per step.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

GOALS = {"dit": 0.5, "vae_decode": 0.6, "text_encoder": 0.5, "peak_rss": 1.0}
DTYPE_GOAL = 1.3  # a low-precision file's time over the f32 file's (issue 18)
DTYPE_STAGES = ("dit", "vae_decode")
ENGINE_DTYPES = ("f16", "bf16", "int8")


def torch_total(steps, threads, configs, out_path):
    import numpy as np
    import torch
    import torch113_shim  # noqa: F401
    torch.set_num_threads(threads)
    from diffusers import AutoencoderOobleck, CosineDPMSolverMultistepScheduler, StableAudioDiTModel
    from diffusers.models.embeddings import get_1d_rotary_pos_embed
    from transformers import T5Config, T5EncoderModel

    def cfg(sub, name="config.json"):
        d = json.load(open(os.path.join(configs, sub, name)))
        return {k: v for k, v in d.items() if not k.startswith("_") and k not in ("architectures", "transformers_version")}

    dcfg, vcfg = cfg("transformer"), cfg("vae")
    scfg = cfg("scheduler", "scheduler_config.json")
    torch.manual_seed(0)
    with torch.no_grad():
        te = T5EncoderModel(T5Config(**cfg("text_encoder"))).eval()
        dit = StableAudioDiTModel(**dcfg).eval()
        vae = AutoencoderOobleck(**vcfg).eval()
        frames = dcfg["sample_size"]
        ids = torch.randint(3, min(32000, te.config.vocab_size), (2, 128)); ids[:, 20] = 1; ids[:, 21:] = 0
        mask = (ids != 0).long()
        rot = get_1d_rotary_pos_embed(dcfg["attention_head_dim"] // 2, frames + 1, use_real=True,
                                      repeat_interleave_real=False)
        glob = torch.zeros(2, 1, dcfg["global_states_input_dim"])

        def clip():
            text = te(ids, attention_mask=mask)[0]
            d = dcfg["cross_attention_input_dim"]
            cross = torch.zeros(2, text.shape[1], d)
            cross[:, :, :min(d, text.shape[2])] = text[:, :, :d]
            s = CosineDPMSolverMultistepScheduler(**scfg)
            s.set_timesteps(steps)
            s.noise_sampler = lambda s0, s1: torch.randn(1, dcfg["in_channels"], frames)
            latents = torch.randn(1, dcfg["in_channels"], frames) * s.init_noise_sigma
            for t in s.timesteps:
                x = s.scale_model_input(torch.cat([latents, latents]), t)
                pred = dit(x, t.expand(2), encoder_hidden_states=cross, global_hidden_states=glob,
                           rotary_embedding=rot, return_dict=False)[0]
                u, c = pred.chunk(2)
                latents = s.step(u + 7.0 * (c - u), t, latents).prev_sample
            return vae.decode(latents).sample

        t0 = time.perf_counter()
        clip()
        total = time.perf_counter() - t0
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "steps": steps,
               "total": {"median_s": total, "min_s": total, "runs_s": [total]}}, open(out_path, "w"), indent=1)
    print("total", total, flush=True)


def run(cmd, env, log):
    """Runs cmd; returns (rc, wall seconds, peak RSS in MiB of that process, its descendants excluded)."""
    t0 = time.perf_counter()
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n"); f.flush()
        p = subprocess.Popen(cmd, env=env, stdout=f, stderr=f)
        _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, time.perf_counter() - t0, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--torch-total", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--model", help="Stable Audio config folder (default ../shared/model-configs/stable-audio-open-1.0)")
    ap.add_argument("--stages", default="text_encoder,dit,vae_decode,total")
    ap.add_argument("--seconds", default="10,47.55", help="lengths for dit and vae_decode")
    ap.add_argument("--steps", default="8,25,100", help="step counts for total (whole clip, full length)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2, help="timed runs per process (after a warm-up)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="JSON report (default bench/results/cpu-sao-vs-pytorch-DATE.json)")
    ap.add_argument("--work", help="folder for the per-run JSON and logs")
    ap.add_argument("--engine-dtypes", default="",
                    help="also time the engine's dit/vae_decode with these weight dtypes (of f16,bf16,int8) beside f32")
    ap.add_argument("--engine-only", action="store_true", help="leave PyTorch out: the engine's sides only")
    a = ap.parse_args()
    if a.torch_total:
        return torch_total(a.torch_total, a.threads, os.environ["SAO_CONFIGS"], os.environ["TOTAL_OUT"])

    shared = os.environ.get("EUTERPE_SHARED", os.path.join(a.root, "..", "shared"))
    model = os.path.abspath(a.model or os.path.join(shared, "model-configs", "stable-audio-open-1.0"))
    stages = [s for s in a.stages.split(",") if s]
    unknown = set(stages) - {"text_encoder", "dit", "vae_decode", "total"}
    if unknown:
        sys.exit(f"compare-sao-pytorch: unknown stages {sorted(unknown)} (text_encoder,dit,vae_decode,total)")
    seconds = [float(s) for s in a.seconds.split(",") if s]
    steps = [int(s) for s in a.steps.split(",") if s]
    if a.rounds < 1 or a.repeat < 1 or a.threads < 1 or any(s <= 0 for s in seconds) or any(n < 1 for n in steps):
        sys.exit("compare-sao-pytorch: --rounds, --repeat, --threads, --seconds and --steps must be positive")
    dtypes = [d for d in a.engine_dtypes.split(",") if d]
    bad = [d for d in dtypes if d not in ENGINE_DTYPES] + [d for d in set(dtypes) if dtypes.count(d) > 1]
    if bad:
        sys.exit(f"compare-sao-pytorch: --engine-dtypes takes distinct dtypes of {','.join(ENGINE_DTYPES)}, got {bad}")
    if dtypes and not any(s in DTYPE_STAGES for s in stages):
        sys.exit("compare-sao-pytorch: --engine-dtypes times the dit and vae_decode stages; --stages has neither")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    work = a.work or os.path.join(a.root, "bench", "results", "tmp", "sao-" + stamp)
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "log.txt")
    ref = os.environ.get("REF_ROOT", os.path.join(shared, "reference-sao"))
    env_t = dict(os.environ, THREADS=str(a.threads), SAO_CONFIGS=model,
                 PYTHONPATH=os.environ.get("SAO_PYTHONPATH", ""), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                 DIFFUSERS_NO_ADVISORY_WARNINGS="1", TOKENIZERS_PARALLELISM="false", HF_HOME=os.path.join(work, "hf"))
    env_e = dict(os.environ)
    euterpe = os.path.join(a.root, "euterpe")
    meta = json.loads(subprocess.run(["/usr/bin/python3", "-c", "import json,os;print(json.dumps({'cpu':os.popen("
                                      "\"lscpu | grep 'Model name'\").read().strip()}))"],
                                     capture_output=True, text=True).stdout)

    # One entry per measurement: (key, stage, torch command, euterpe command, torch result reader)
    jobs = []
    for stage in stages:
        if stage in ("dit", "vae_decode"):
            for s in seconds:
                jobs.append((f"{stage}@{s:g}s", stage, s, None))
        elif stage == "text_encoder":
            jobs.append(("text_encoder@2x128", stage, None, None))
        else:
            for n in steps:
                jobs.append((f"total@{n}steps", stage, None, n))

    def torch_cmd(key, stage, s, n, out_dir):
        if stage == "total":
            return ["/usr/bin/python3", os.path.abspath(__file__), "--torch-total", str(n), "--threads",
                    str(a.threads)], dict(env_t, TOTAL_OUT=os.path.join(out_dir, "torch.json"))
        cmd = ["/usr/bin/python3", os.path.join(ref, "time_fullsize_sao.py"), "--stages", stage, "--runs", str(a.repeat)]
        if s is not None:
            cmd += ["--seconds", str(s)]
        return cmd, dict(env_t, GOLDEN_OUT=out_dir)

    def euterpe_cmd(stage, s, n, dtype="f32"):
        cmd = [euterpe, "bench", "--model", model, "--stage", stage, "--threads", str(a.threads), "--repeat",
               str(a.repeat), "--dtype", dtype, "--json"]
        if s is not None:
            cmd += ["--seconds", str(s)]
        if stage == "total":
            cmd += ["--steps", str(n), "--seconds", "47.55"]  # the whole clip is decoded, as diffusers does
        return cmd

    def sides(stage):
        """The processes of one measurement: PyTorch (unless --engine-only), the engine at f32, then its dtypes."""
        out = ([] if a.engine_only else ["torch"]) + ["euterpe"]
        return out + (["euterpe-" + d for d in dtypes] if stage in DTYPE_STAGES else [])

    results = {key: {side: [] for side in sides(stage)} for key, stage, *_ in jobs}
    for rnd in range(1, a.rounds + 1):
        for key, stage, s, n in jobs:
            order = sides(stage) if rnd % 2 == 1 else sides(stage)[::-1]
            for side in order:
                out_dir = os.path.join(work, f"{key}-r{rnd}-{side}")
                os.makedirs(out_dir, exist_ok=True)
                if side == "torch":
                    cmd, env = torch_cmd(key, stage, s, n, out_dir)
                    rc, wall, rss = run(cmd, env, log)
                    f = os.path.join(out_dir, "torch.json" if stage == "total" else "fullsize_timing_sao.json")
                    if rc != 0 or not os.path.exists(f):
                        sys.exit(f"compare-sao-pytorch: PyTorch {key} failed (rc {rc}); see {log}")
                    r = json.load(open(f))[stage]
                    t = r["timing"]["median_s"] if "timing" in r else r["median_s"]
                else:
                    out_file = os.path.join(out_dir, "euterpe.json")
                    cmd = euterpe_cmd(stage, s, n, side.split("-", 1)[1] if "-" in side else "f32")
                    with open(out_file, "w") as f:
                        t0 = time.perf_counter()
                        p = subprocess.Popen(cmd, env=env_e, stdout=f, stderr=open(log, "a"))
                        _, status, usage = os.wait4(p.pid, 0)
                        rc, wall, rss = os.waitstatus_to_exitcode(status), time.perf_counter() - t0, usage.ru_maxrss / 1024.0
                    if rc != 0:
                        sys.exit(f"compare-sao-pytorch: Euterpe {key} failed (rc {rc}); see {log}")
                    lines = [l for l in open(out_file).read().splitlines() if l.startswith("{")]
                    t = json.loads(lines[-1])["stages"][stage]["median_s"]
                results[key][side].append({"median_s": t, "peak_rss_mb": rss, "wall_s": wall})
                print(f"round {rnd} {key:22} {side:12} {t:9.3f} s  peak RSS {rss:8.0f} MiB", file=sys.stderr, flush=True)

    report = {"date": stamp, "threads": a.threads, "rounds": a.rounds, "repeat": a.repeat, "model": model,
              "cpu": meta.get("cpu"), "goals": GOALS, "engine_only": a.engine_only, "engine_dtypes": dtypes,
              "dtype_goal": DTYPE_GOAL, "measurements": {}}
    print(f"{'measurement':22} {'torch s':>9} {'euterpe s':>10} {'ratio':>7} {'goal':>6}   "
          f"{'torch MiB':>9} {'euterpe MiB':>11} {'ratio':>6}")
    nan = float("nan")
    for key, stage, *_ in jobs:
        torch_runs = results[key].get("torch", [])
        t = statistics.median(r["median_s"] for r in torch_runs) if torch_runs else nan
        e = statistics.median(r["median_s"] for r in results[key]["euterpe"])
        tr = max(r["peak_rss_mb"] for r in torch_runs) if torch_runs else nan
        er = max(r["peak_rss_mb"] for r in results[key]["euterpe"])
        goal = GOALS.get(stage)
        ratio, rss_ratio = e / t, er / tr
        m = report["measurements"][key] = {
            "stage": stage, "torch_median_s": None if a.engine_only else t, "euterpe_median_s": e,
            "ratio": None if a.engine_only else ratio, "goal": goal,
            "met": None if goal is None or a.engine_only else ratio <= goal,
            "torch_peak_rss_mb": None if a.engine_only else tr, "euterpe_peak_rss_mb": er,
            "rss_ratio": None if a.engine_only else rss_ratio, "rss_goal": GOALS["peak_rss"],
            "rss_met": None if a.engine_only else rss_ratio <= GOALS["peak_rss"], "rounds": results[key]}
        mark = "" if goal is None or a.engine_only else ("  ok" if ratio <= goal else "  MISSED")
        print(f"{key:22} {t:9.3f} {e:10.3f} {ratio:7.3f} {goal if goal else '':>6}{mark:8} {tr:9.0f} {er:11.0f} "
              f"{rss_ratio:6.3f}{'' if a.engine_only or rss_ratio <= 1.0 else '  MISSED'}")
        for d in (dtypes if stage in DTYPE_STAGES else []):
            runs = results[key]["euterpe-" + d]
            ed = statistics.median(r["median_s"] for r in runs)
            rd = max(r["peak_rss_mb"] for r in runs)
            m.setdefault("engine_dtypes", {})[d] = {
                "median_s": ed, "ratio_to_f32": ed / e, "goal": DTYPE_GOAL, "met": ed / e <= DTYPE_GOAL,
                "peak_rss_mb": rd, "rss_ratio_to_f32": rd / er, "rss_ratio_to_torch": None if a.engine_only else rd / tr}
            print(f"{'  ' + d + ' / euterpe f32':22} {'':9} {ed:10.3f} {ed / e:7.3f} {DTYPE_GOAL:>6}"
                  f"{'  ok' if ed / e <= DTYPE_GOAL else '  MISSED':8} {'':9} {rd:11.0f} {rd / er:6.3f}  (RSS / f32)")
    out = a.out or os.path.join(a.root, "bench", "results", f"cpu-sao-vs-pytorch-{stamp}.json")
    json.dump(report, open(out, "w"), indent=1)
    print(f"wrote {out} (per-run files and log: {work})", file=sys.stderr)


if __name__ == "__main__":
    main()
