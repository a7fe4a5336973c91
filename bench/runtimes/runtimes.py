#!/usr/bin/python3
"""The PyTorch side of bench/compare-runtimes.sh (Debian's torch 1.13 + diffusers 0.21.4 / transformers 4.35).

  export   builds the full-size components from their configs with seeded random weights (as
           ../shared/reference/time_fullsize.py does), writes the inputs of each stage and PyTorch's
           outputs (.npy), the ONNX graphs (torch.onnx.export, opset 17), the TorchScript graphs
           (torch.jit.trace, for DJL) and the same weights as a diffusers folder the engine loads.
  run      times one stage in this process (warm-up, then --repeat runs) and prints one JSON line
           (runs_s, peak_rss_mb, the output's error against the exported reference).
  compare  the driver: interleaved rounds of every runtime x stage, each run a fresh process, gated
           on the load average; checks every output against PyTorch's; prints the table, writes JSON.

Every run is a fresh process so peak RSS is per runtime and no runtime warms another's caches.
Run it through bench/compare-runtimes.sh, which sets PYTHONPATH (env.sh) and builds the Java side.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

STAGES = ("text_encoder", "unet", "vae_decode", "vocoder", "clip")
COMPONENT = {"text_encoder": "text_encoder", "unet": "unet", "vae_decode": "vae", "vocoder": "vocoder"}
RUNTIMES = ("torch", "ort", "djl", "engine")
GUIDANCE = 2.5  # AudioLDM's default guidance scale
# max|err| / max|ref| a runtime's output may differ from PyTorch's by (RUNTIME-ANCHORS.md: all f32 runtimes
# within 4e-6 per stage; the whole clip compounds 10 U-Net steps, so it gets more room)
TOLERANCE = {"text_encoder": 1e-4, "unet": 1e-4, "vae_decode": 1e-4, "vocoder": 1e-4, "clip": 1e-2}


# --------------------------------------------------------------------------------------------- models
def load_config(cfg_dir, component):
    d = json.load(open(os.path.join(cfg_dir, component, "config.json")))
    return {k: v for k, v in d.items()
            if not k.startswith("_") and k not in ("architectures", "transformers_version", "torch_dtype")}


def patch_attention():
    """diffusers 0.21.4's Attention.get_attention_scores calls baddbmm(empty, q, k^T, beta=0): torch 1.13 may
    read the uninitialised input on CPU (NaN in, NaN out), and its ONNX exporter turns the empty tensor into an
    all-zero constant added to every score (RUNTIME-ANCHORS.md). Same function, written as scale * bmm."""
    import torch
    from diffusers.models.attention_processor import Attention

    def get_attention_scores(self, query, key, attention_mask=None):
        dtype = query.dtype
        if self.upcast_attention:
            query, key = query.float(), key.float()
        scores = torch.bmm(query, key.transpose(-1, -2)) * self.scale
        if attention_mask is not None:
            scores = scores + attention_mask
        if self.upcast_softmax:
            scores = scores.float()
        return scores.softmax(dim=-1).to(dtype)

    Attention.get_attention_scores = get_attention_scores


def build(component, cfg_dir, seed):
    """The component with PyTorch's default initialisation under torch.manual_seed(seed)."""
    import torch
    torch.manual_seed(seed)
    if component == "unet":
        from diffusers import UNet2DConditionModel
        m = UNet2DConditionModel.from_config(load_config(cfg_dir, "unet"))
    elif component == "vae":
        from diffusers import AutoencoderKL
        m = AutoencoderKL.from_config(load_config(cfg_dir, "vae"))
    elif component == "vocoder":
        from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig
        m = SpeechT5HifiGan(SpeechT5HifiGanConfig(**load_config(cfg_dir, "vocoder")))
    elif component == "text_encoder":
        from transformers import ClapTextConfig, ClapTextModelWithProjection
        m = ClapTextModelWithProjection(ClapTextConfig(**load_config(cfg_dir, "text_encoder")))
    else:
        raise ValueError(component)
    return m.eval()


def wrapper(stage, m):
    """A module with plain tensor inputs and one tensor output, as the graphs are exported."""
    import torch

    class UNet(torch.nn.Module):  # AudioLDM's call: unet(sample, t, encoder_hidden_states=None, class_labels=...)
        def __init__(self, u):
            super().__init__()
            self.u = u

        def forward(self, sample, timestep, class_labels):
            return self.u(sample, timestep, encoder_hidden_states=None, class_labels=class_labels).sample

    class VaeDecode(torch.nn.Module):
        def __init__(self, v):
            super().__init__()
            self.v = v

        def forward(self, z):
            return self.v.decode(z).sample

    class Vocoder(torch.nn.Module):
        def __init__(self, v):
            super().__init__()
            self.v = v

        def forward(self, mel):
            return self.v(mel)

    class TextEncoder(torch.nn.Module):
        def __init__(self, t):
            super().__init__()
            self.t = t

        def forward(self, input_ids, attention_mask):
            return self.t(input_ids, attention_mask=attention_mask).text_embeds

    return {"unet": UNet, "vae_decode": VaeDecode, "vocoder": Vocoder, "text_encoder": TextEncoder}[stage](m).eval()


def geometry(cfg_dir, seconds):
    voc = load_config(cfg_dir, "vocoder")
    up = float(np.prod(voc["upsample_rates"])) / voc["sampling_rate"]
    height = int(seconds / up)
    scale = 2 ** (len(load_config(cfg_dir, "vae")["block_out_channels"]) - 1)
    if height % scale:
        height = int(np.ceil(height / scale)) * scale
    return {"latent": [1, 8, height // scale, voc["model_in_dim"] // scale], "frames": height, "bins": voc["model_in_dim"]}


def make_inputs(stage, cfg_dir, geo, seed):
    """The stage's inputs as (name, array) pairs, seeded; the text prompts are 2 x (<s>, 19 tokens, </s>, pad)."""
    import torch
    g = torch.Generator().manual_seed(seed + 1000 + STAGES.index(stage))
    lat = geo["latent"]
    if stage in ("text_encoder", "clip"):
        vocab = load_config(cfg_dir, "text_encoder")["vocab_size"]
        ids = torch.randint(4, vocab, (2, 512), generator=g)
        ids[:, 0] = 0
        ids[:, 20] = 2
        ids[:, 21:] = 1
        mask = (ids != 1).long()
        pairs = [("input_ids", ids), ("attention_mask", mask)]
        if stage == "clip":
            pairs.append(("latents", torch.randn(lat, generator=g)))
        return [(n, t.numpy()) for n, t in pairs]
    if stage == "unet":
        x = torch.randn([2] + lat[1:], generator=g)
        labels = torch.nn.functional.normalize(torch.randn(2, 512, generator=g), dim=-1)
        return [("sample", x.numpy()), ("timestep", np.array([500.0], dtype=np.float32)), ("class_labels", labels.numpy())]
    if stage == "vae_decode":
        sf = load_config(cfg_dir, "vae").get("scaling_factor", 1.0)
        return [("z", (torch.randn(lat, generator=g) / sf).numpy())]
    if stage == "vocoder":
        return [("mel", torch.randn([1, geo["frames"], geo["bins"]], generator=g).numpy())]
    raise ValueError(stage)


class Clip:
    """The whole clip as every runtime runs it: text encoder (CFG batch 2: unconditional, conditional),
    l2-normalised embeddings as class labels, `steps` DDIM steps of the U-Net on a CFG batch of 2, VAE
    decode of latents / scaling_factor, vocoder. Tokenising is left out (the same ids go to every runtime)."""

    def __init__(self, cfg_dir, models, steps):
        from diffusers import DDIMScheduler
        self.m = models
        self.sched = DDIMScheduler.from_config(json.load(open(os.path.join(cfg_dir, "scheduler", "scheduler_config.json"))))
        self.steps = steps
        self.sf = load_config(cfg_dir, "vae").get("scaling_factor", 1.0)

    def __call__(self, ids, mask, latents):
        import torch
        emb = torch.nn.functional.normalize(self.m["text_encoder"](ids, mask), dim=-1)
        self.sched.set_timesteps(self.steps)
        lat = latents
        for t in self.sched.timesteps:
            eps = self.m["unet"](torch.cat([lat, lat]), t.float().reshape(1), emb)
            eps_u, eps_c = eps.chunk(2)
            lat = self.sched.step(eps_u + GUIDANCE * (eps_c - eps_u), t, lat).prev_sample
        mel = self.m["vae_decode"](lat / self.sf)
        return self.m["vocoder"](mel.squeeze(1))


def stage_components(stage):
    return list(COMPONENT.values()) if stage == "clip" else [COMPONENT[stage]]


# --------------------------------------------------------------------------------------------- export
def export(a):
    import torch
    from safetensors.torch import save_file
    torch.set_num_threads(a.threads)
    patch_attention()
    work, cfg = a.work, a.configs
    stages = a.stages.split(",")
    geo = geometry(cfg, a.seconds)
    comps = sorted({c for s in stages for c in stage_components(s)} | (set(COMPONENT.values()) if a.full_model else set()))
    mdir = os.path.join(work, "model")
    os.makedirs(mdir, exist_ok=True)
    for f in ("model_index.json",):
        shutil.copy(os.path.join(cfg, f), mdir)
    for d in ("scheduler", "tokenizer"):
        if os.path.isdir(os.path.join(cfg, d)):
            shutil.copytree(os.path.join(cfg, d), os.path.join(mdir, d), dirs_exist_ok=True)
    manifest = {"configs": os.path.abspath(cfg), "seconds": a.seconds, "seed": a.seed, "steps": a.steps,
                "guidance": GUIDANCE, "geometry": geo, "torch": torch.__version__, "model": "model", "stages": {}}
    old = os.path.join(work, "manifest.json")
    if os.path.exists(old):
        prev = json.load(open(old))
        if all(prev.get(k) == manifest[k] for k in ("configs", "seconds", "seed")):
            manifest["stages"] = prev["stages"]
            if prev.get("steps") != a.steps:  # only the whole clip's reference depends on the steps
                manifest["stages"].pop("clip", None)
    models = {}
    with torch.no_grad():
        for c in comps:
            print(f"export: building {c}", file=sys.stderr, flush=True)
            m = build(c, cfg, a.seed)
            os.makedirs(os.path.join(mdir, c), exist_ok=True)
            shutil.copy(os.path.join(cfg, c, "config.json"), os.path.join(mdir, c, "config.json"))
            name = "diffusion_pytorch_model.safetensors" if c in ("unet", "vae") else "model.safetensors"
            sd = {k: v.contiguous() for k, v in m.state_dict().items()}
            save_file(sd, os.path.join(mdir, c, name), metadata={"format": "pt"})
            models[c] = m
        for s in stages:
            d = os.path.join(work, s)
            os.makedirs(d, exist_ok=True)
            ins = make_inputs(s, cfg, geo, a.seed)
            entry = {"inputs": []}
            for n, arr in ins:
                np.save(os.path.join(d, n + ".npy"), arr)
                entry["inputs"].append({"name": n, "file": f"{s}/{n}.npy", "dtype": str(arr.dtype), "shape": list(arr.shape)})
            tin = [torch.from_numpy(arr) for _, arr in ins]
            if s == "clip":
                out = Clip(cfg, {k: wrapper(k, models[COMPONENT[k]]) for k in COMPONENT}, a.steps)(*tin)
            else:
                w = wrapper(s, models[COMPONENT[s]])
                out = w(*tin)
                print(f"export: {s}: ONNX", file=sys.stderr, flush=True)
                torch.onnx.export(w, tuple(tin), os.path.join(d, "model.onnx"), opset_version=17,
                                  input_names=[n for n, _ in ins], output_names=["out"], do_constant_folding=True)
                entry["onnx"] = f"{s}/model.onnx"
                print(f"export: {s}: TorchScript", file=sys.stderr, flush=True)
                traced = torch.jit.trace(w, tuple(tin), check_trace=False)
                traced.save(os.path.join(d, "model.pt"))
                entry["torchscript"] = f"{s}/model.pt"
                del traced
            np.save(os.path.join(d, "reference.npy"), out.numpy())
            entry["reference"] = f"{s}/reference.npy"
            entry["output_shape"] = list(out.shape)
            manifest["stages"][s] = entry
            print(f"export: {s} done, output {list(out.shape)}", file=sys.stderr, flush=True)
    json.dump(manifest, open(old, "w"), indent=1)


# --------------------------------------------------------------------------------------------- quantize
def quantize(a):
    """Dynamic int8 quantisation of each stage's ONNX graph, as onnxruntime.quantization.quantize_dynamic
    does it (that package is not in Debian; this needs only python3-onnx): weights quantised once per
    tensor, activations at run time by DynamicQuantizeLinear (uint8); MatMul/Gemm with a constant weight ->
    MatMulInteger (int8 weights, symmetric), Conv -> ConvInteger (uint8 weights, asymmetric: ORT's CPU
    ConvInteger takes uint8 weights only); ConvTranspose, attention's activation x activation products and
    norms stay f32. Writes <stage>/model-int8.onnx."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    for stage in a.stages.split(","):
        if stage == "clip":
            continue
        src = os.path.join(a.work, stage, "model.onnx")
        dst = os.path.join(a.work, stage, "model-int8.onnx")
        if os.path.exists(dst) and os.path.getmtime(dst) > os.path.getmtime(src):
            continue
        m = onnx.load(src)
        g = m.graph
        inits = {i.name: i for i in g.initializer}
        nodes, used, counts = [], set(), {}
        for n in g.node:
            w = inits.get(n.input[1]) if len(n.input) > 1 else None
            attrs = {at.name: helper.get_attribute_value(at) for at in n.attribute}
            ok = w is not None and (
                (n.op_type == "MatMul" and len(w.dims) == 2)
                or (n.op_type == "Gemm" and attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0
                    and not attrs.get("transA", 0))
                or n.op_type == "Conv")
            if not ok:
                nodes.append(n)
                continue
            counts[n.op_type] = counts.get(n.op_type, 0) + 1
            W = numpy_helper.to_array(w).astype(np.float32)
            p = n.name or n.output[0]
            xq, xs, xz = p + "_xq", p + "_xs", p + "_xz"
            nodes.append(helper.make_node("DynamicQuantizeLinear", [n.input[0]], [xq, xs, xz], name=p + "_dql"))
            if n.op_type == "Conv":
                lo, hi = min(float(W.min()), 0.0), max(float(W.max()), 0.0)
                ws = (hi - lo) / 255 or 1.0
                zp = int(round(-lo / ws))
                Wq = np.clip(np.round(W / ws) + zp, 0, 255).astype(np.uint8)
                wzp = numpy_helper.from_array(np.array(zp, dtype=np.uint8), p + "_wzp")
                op = helper.make_node("ConvInteger", [xq, p + "_wq", xz, p + "_wzp"], [p + "_acc"], name=p + "_int",
                                      **{k: v for k, v in attrs.items() if k in ("dilations", "group", "kernel_shape", "pads", "strides", "auto_pad")})
                bias = n.input[2] if len(n.input) > 2 and n.input[2] else None
                bshape = [1, W.shape[0]] + [1] * (W.ndim - 2)
            else:
                if n.op_type == "Gemm" and attrs.get("transB", 0):
                    W = W.T
                ws = float(np.abs(W).max()) / 127 or 1.0
                Wq = np.clip(np.round(W / ws), -127, 127).astype(np.int8)
                wzp = numpy_helper.from_array(np.array(0, dtype=np.int8), p + "_wzp")
                op = helper.make_node("MatMulInteger", [xq, p + "_wq", xz, p + "_wzp"], [p + "_acc"], name=p + "_int")
                bias = n.input[2] if n.op_type == "Gemm" and len(n.input) > 2 and n.input[2] else None
                bshape = None
            g.initializer.extend([numpy_helper.from_array(Wq, p + "_wq"), wzp,
                                  numpy_helper.from_array(np.array(ws, dtype=np.float32), p + "_ws")])
            used.add(w.name)
            out = n.output[0]
            nodes += [op, helper.make_node("Cast", [p + "_acc"], [p + "_accf"], to=TensorProto.FLOAT),
                      helper.make_node("Mul", [xs, p + "_ws"], [p + "_scale"]),
                      helper.make_node("Mul", [p + "_accf", p + "_scale"], [p + "_y" if bias else out])]
            if bias:
                if bshape:  # [C] -> [1, C, 1, ...] (ORT folds the reshape of a constant)
                    g.initializer.append(numpy_helper.from_array(np.array(bshape, dtype=np.int64), p + "_bshape"))
                    nodes.append(helper.make_node("Reshape", [bias, p + "_bshape"], [p + "_b"]))
                    bias = p + "_b"
                nodes.append(helper.make_node("Add", [p + "_y", bias], [out]))
        del g.node[:]
        g.node.extend(nodes)
        still = {i for n in g.node for i in n.input}
        keep = [i for i in g.initializer if i.name not in used or i.name in still]
        del g.initializer[:]
        g.initializer.extend(keep)
        onnx.save(m, dst + ".tmp")
        os.replace(dst + ".tmp", dst)
        print(f"quantize: {stage}: {counts} -> {os.path.relpath(dst, a.work)}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- run (PyTorch)
def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def errors(out, ref):
    out = np.asarray(out, dtype=np.float64).reshape(-1)
    ref = np.asarray(ref, dtype=np.float64).reshape(-1)
    if out.shape != ref.shape:
        return {"error": f"output has {out.size} values, reference {ref.size}"}
    d = np.abs(out - ref)
    scale = float(np.max(np.abs(ref))) or 1.0
    noise = float(np.sum((out - ref) ** 2))
    return {"max_abs_err": float(d.max()), "rel_err": float(d.max()) / scale,
            "snr_db": float(10 * np.log10(np.sum(ref ** 2) / noise)) if noise > 0 else None,  # None: identical
            "finite": bool(np.isfinite(out).all())}


def run(a):
    import torch
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    patch_attention()
    man = json.load(open(os.path.join(a.work, "manifest.json")))
    st = man["stages"][a.stage]
    cfg = man["configs"]
    with torch.no_grad():
        if a.stage == "clip":
            models = {k: wrapper(k, build(COMPONENT[k], cfg, man["seed"])) for k in COMPONENT}
            f = Clip(cfg, models, man["steps"])
        else:
            f = wrapper(a.stage, build(COMPONENT[a.stage], cfg, man["seed"]))
        ins = [torch.from_numpy(np.load(os.path.join(a.work, i["file"]))) for i in st["inputs"]]
        for _ in range(a.warmup):  # untimed
            out = f(*ins)
        runs = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            out = f(*ins)
            runs.append(time.perf_counter() - t0)
    ref = np.load(os.path.join(a.work, st["reference"]))
    print(json.dumps({"runtime": "torch", "stage": a.stage, "runs_s": runs, "peak_rss_mb": peak_rss_mb(),
                      "version": "torch " + torch.__version__, "threads": a.threads, **errors(out.numpy(), ref)}))


# --------------------------------------------------------------------------------------------- compare
def wait_quiet(threshold, timeout):
    t0 = time.time()
    while True:
        load = os.getloadavg()[0]
        if load < threshold or time.time() - t0 >= timeout:
            return {"load1": load, "waited_s": round(time.time() - t0, 1), "quiet": load < threshold}
        time.sleep(5)


def one_run(a, runtime, stage, variant=None, profile=None):
    """One fresh process timing `stage` on `runtime`; returns its JSON line (plus errors against PyTorch's)."""
    warmup = 1 if stage == "clip" else a.warmup  # a clip's first run warms every network 10 times over
    if runtime == "torch":
        cmd = [sys.executable, os.path.abspath(__file__), "run", "--work", a.work, "--stage", stage,
               "--repeat", str(a.repeat), "--warmup", str(warmup), "--threads", str(a.threads)]
        env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads))
    else:
        cmd = a.java + ["org.euterpe.bench.runtimes.RuntimeRun", "--runtime", runtime, "--work", a.work,
                        "--stage", stage, "--repeat", str(a.repeat), "--warmup", str(warmup),
                        "--threads", str(a.threads),
                        "--out", os.path.join(a.work, "outputs", f"{runtime}{'-' + variant if variant else ''}-{stage}.npy")]
        if variant:
            cmd += ["--variant", variant]
        if profile:
            cmd += ["--profile", profile]
        env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = next((l for l in reversed(p.stdout.strip().splitlines()) if l.startswith("{")), None)
    if p.returncode != 0 or line is None:
        lines = [l for l in p.stderr.strip().splitlines() if not l.startswith("WARNING")] or ["(no output)"]
        first = [l for l in lines if "Exception" in l or "Error" in l][:1]  # the cause, above the stack trace
        return {"runtime": runtime, "stage": stage, "exit": p.returncode, "failed": first + lines[-4:]}
    r = json.loads(line)
    if runtime != "torch":
        man = json.load(open(os.path.join(a.work, "manifest.json")))
        ref = np.load(os.path.join(a.work, man["stages"][stage]["reference"]))
        r.update(errors(np.load(r["output"]), ref))
    return r


def median(xs):
    return statistics.median(xs) if xs else None


def compare(a):
    man = json.load(open(os.path.join(a.work, "manifest.json")))
    stages = [s for s in a.stages.split(",")]
    for s in stages:
        if s not in man["stages"]:
            sys.exit(f"compare: stage {s} was not exported to {a.work}")
    runtimes = a.runtimes.split(",")
    os.makedirs(os.path.join(a.work, "outputs"), exist_ok=True)
    contenders = [(r, None) for r in runtimes]
    for v in (a.variants.split(",") if a.variants else []):  # int8, bf16: the engine's weight files; ort-int8
        contenders.append(("ort", v[4:]) if v.startswith("ort-") else ("engine", v))
    runs, loads = [], []
    for rnd in range(a.rounds):
        for s in stages:
            order = contenders[rnd % len(contenders):] + contenders[:rnd % len(contenders)]  # rotated each round
            for rt, v in order:
                if s == "clip" and v is not None:
                    continue
                load = wait_quiet(a.max_load, a.load_timeout)
                loads.append(load)
                r = one_run(a, rt, s, v)
                name = rt + ("-" + v if v else "")
                r.update({"contender": name, "round": rnd, "load_before": load})
                runs.append(r)
                if "failed" in r:
                    print(f"round {rnd} {s:12} {name:12} FAILED: {' | '.join(r['failed'])}", file=sys.stderr, flush=True)
                else:
                    print(f"round {rnd} {s:12} {name:12} median {median(r['runs_s']):8.3f} s  rel err {r.get('rel_err', 0):.2e}"
                          f"  load {load['load1']:.2f}", file=sys.stderr, flush=True)
    names = [rt + ("-" + v if v else "") for rt, v in contenders]
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "engine_commit": git_commit(), "model": man["configs"], "seconds": man["seconds"], "steps": man["steps"],
              "threads": a.threads, "rounds": a.rounds, "repeat_per_run": a.repeat, "warmup_per_run": a.warmup,
              "load": {"max_allowed": a.max_load, "min_seen": min(l["load1"] for l in loads) if loads else None,
                       "max_seen": max(l["load1"] for l in loads) if loads else None,
                       "runs_started_above_limit": sum(1 for l in loads if not l["quiet"])},
              "versions": {}, "stages": {}, "runs": runs}
    print(f"\n{'stage':13}" + "".join(f"{n:>13}" for n in names) + f"{'engine/best':>13}")
    for s in stages:
        row = {}
        for n in names:
            rs = [r for r in runs if r["stage"] == s and r["contender"] == n and "failed" not in r]
            if not rs:
                continue
            meds = [median(r["runs_s"]) for r in rs]
            row[n] = {"median_s": median(meds), "range_s": [min(meds), max(meds)],
                      "peak_rss_mb": max(r.get("peak_rss_mb", -1) for r in rs),
                      "max_abs_err_vs_torch": max(r.get("max_abs_err", 0) for r in rs),
                      "rel_err_vs_torch": max(r.get("rel_err", 0) for r in rs),
                      "snr_db_vs_torch": min((r["snr_db"] for r in rs if r.get("snr_db") is not None), default=None),
                      "agrees": all(r.get("finite", True) and r.get("rel_err", 0) <= TOLERANCE[s] for r in rs)
                      if (n in RUNTIMES and n != "torch") else None}
            result["versions"][n] = rs[0].get("version")
        f32 = {n: v for n, v in row.items() if n in RUNTIMES}
        entry = {"runtimes": row}
        if "engine" in row and f32:
            best = min((v["median_s"], n) for n, v in f32.items() if n != "engine") if len(f32) > 1 else None
            if best:
                entry["ratio_to_best"] = row["engine"]["median_s"] / best[0]
                entry["best_other"] = best[1]
        if "engine-int8" in row:  # the engine's int8 file against ORT's int8 graph, or ORT f32 without one
            other = "ort-int8" if "ort-int8" in row else "ort" if "ort" in row else None
            if other:
                entry["int8_ratio"] = {"engine-int8": row["engine-int8"]["median_s"] / row[other]["median_s"],
                                       "against": other}
        result["stages"][s] = entry
        ratio = entry.get("ratio_to_best")
        print(f"{s:13}" + "".join(f"{row[n]['median_s']:13.3f}" if n in row else f"{'-':>13}" for n in names)
              + (f"{ratio:13.2f}" if ratio else f"{'-':>13}"))
    print("\nagreement with PyTorch (max|err| / max|ref|; SNR dB):")
    for s in stages:
        cells = []
        for n, v in result["stages"][s]["runtimes"].items():
            if n != "torch":
                snr = "identical" if v["snr_db_vs_torch"] is None else f"{v['snr_db_vs_torch']:.0f} dB"
                cells.append(f"{n} {v['rel_err_vs_torch']:.1e} ({snr})"
                             + ("" if v["agrees"] in (True, None) else " DISAGREES"))
        print(f"  {s:13} " + ", ".join(cells))
    for s in stages:
        q = result["stages"][s].get("int8_ratio")
        if q:
            print(f"  {s}: engine int8 / {q['against']} = {q['engine-int8']:.2f}")
    print("peak RSS MiB: " + "; ".join(f"{s}: " + ", ".join(f"{n} {v['peak_rss_mb']:.0f}" for n, v in result["stages"][s]["runtimes"].items())
                                       for s in stages))
    out = a.output or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results",
                                   f"runtimes-{datetime.date.today().isoformat()}.json")
    json.dump(result, open(out, "w"), indent=1)
    print("wrote", os.path.normpath(out))
    if a.profile:
        prefix = os.path.join(a.work, "outputs", "ort-profile")
        for old in os.listdir(os.path.dirname(prefix)):
            if old.startswith("ort-profile"):
                os.remove(os.path.join(os.path.dirname(prefix), old))
        r = one_run(a, "ort", "unet", None, profile=prefix)
        files = [f for f in os.listdir(os.path.dirname(prefix)) if f.startswith("ort-profile") and f.endswith(".json")]
        if "failed" in r or not files:
            print("compare: the ORT profiling run failed: " + " | ".join(r.get("failed", ["no profile written"])), file=sys.stderr)
        else:
            result["ort_profile_unet"] = summarise_profile(os.path.join(os.path.dirname(prefix), files[0]))
            print_profile(result["ort_profile_unet"])
        json.dump(result, open(out, "w"), indent=1)
    failed = [r for r in runs if "failed" in r]
    disagree = [(s, n) for s in stages for n, v in result["stages"][s]["runtimes"].items() if v["agrees"] is False]
    if failed or disagree:
        print(f"compare: {len(failed)} failed runs; disagreeing: {disagree}", file=sys.stderr)
        sys.exit(1)


OP_CLASS = {
    "conv": ("Conv", "FusedConv", "ConvTranspose", "ConvInteger", "QLinearConv"),
    "matmul_attention": ("MatMul", "FusedMatMul", "Gemm", "MatMulInteger", "QLinearMatMul", "Softmax",
                         "Attention", "MultiHeadAttention", "DynamicQuantizeMatMul", "MatMulIntegerToFloat"),
    "groupnorm": ("InstanceNormalization", "GroupNorm"),
    "layernorm": ("LayerNormalization", "SkipLayerNormalization"),
    "layout": ("ReorderInput", "ReorderOutput", "Reshape", "Transpose", "Concat", "Split", "Slice", "Gather",
               "Unsqueeze", "Squeeze", "Expand", "Shape", "Identity", "Resize", "Upsample", "Pad", "Cast"),
    "quantize": ("DynamicQuantizeLinear", "QuantizeLinear", "DequantizeLinear"),
}


def op_class(op):
    return next((c for c, ops in OP_CLASS.items() if op in ops), "elementwise")


def summarise_profile(path):
    """Per-operator-class and per-operator totals of the last model run in an ORT profile (ms), the
    convolutions also by input and weight shape."""
    ev = json.load(open(path))
    runs = [e for e in ev if e.get("cat") == "Session" and e.get("name") == "model_run"]
    last = runs[-1] if runs else None
    nodes = [e for e in ev if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time")
             and (last is None or last["ts"] <= e["ts"] <= last["ts"] + last["dur"])]
    by_class, by_op, conv = {}, {}, {}
    for e in nodes:
        op = e.get("args", {}).get("op_name", "?")
        ms = e.get("dur", 0) / 1000
        by_class[op_class(op)] = by_class.get(op_class(op), 0) + ms
        by_op[op] = by_op.get(op, 0) + ms
        if op_class(op) == "conv":
            shapes = [list(t.values())[0] for t in e.get("args", {}).get("input_type_shape", [])[:2]]
            key = f"{op} x{shapes[0] if shapes else '?'} w{shapes[1] if len(shapes) > 1 else '?'}"
            c = conv.setdefault(key, {"ms": 0.0, "count": 0})
            c["ms"] += ms
            c["count"] += 1
    srt = lambda d: dict(sorted(d.items(), key=lambda kv: -(kv[1]["ms"] if isinstance(kv[1], dict) else kv[1])))  # noqa: E731
    return {"file": path, "model_run_ms": last["dur"] / 1000 if last else None, "nodes": len(nodes),
            "by_class_ms": srt(by_class), "by_op_ms": srt(by_op), "conv_by_shape_ms": srt(conv)}


def print_profile(p):
    print(f"\nORT U-Net step profile (last run {p['model_run_ms']:.0f} ms, {p['nodes']} nodes), ms by class:")
    for k, v in p["by_class_ms"].items():
        print(f"  {k:18} {v:9.1f}")
    print("  convolutions by shape (top 12):")
    for k, v in list(p["conv_by_shape_ms"].items())[:12]:
        print(f"    {v['ms']:8.1f} ms  x{v['count']:<3} {k}")


def git_commit():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    p = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"], capture_output=True, text=True)
    return p.stdout.strip() or None


def machine():
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")]
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
    return {"cpu": cpu[0] if cpu else platform.processor(), "cores": os.cpu_count(), "kernel": platform.release(),
            "avx512": "avx512f" in flags, "vnni": "avx512_vnni" in flags or "avx_vnni" in flags}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("--configs", required=True)
    e.add_argument("--work", required=True)
    e.add_argument("--stages", default="unet,vae_decode,vocoder,text_encoder")
    e.add_argument("--seconds", type=float, default=10.0)
    e.add_argument("--steps", type=int, default=10)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--threads", type=int, default=2)
    e.add_argument("--full-model", action="store_true", help="write every component's weights (for converting)")
    r = sub.add_parser("run")
    r.add_argument("--work", required=True)
    r.add_argument("--stage", required=True, choices=STAGES)
    r.add_argument("--repeat", type=int, default=3)
    r.add_argument("--warmup", type=int, default=1)
    r.add_argument("--threads", type=int, default=2)
    q = sub.add_parser("quantize")
    q.add_argument("--work", required=True)
    q.add_argument("--stages", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--work", required=True)
    c.add_argument("--stages", required=True)
    c.add_argument("--runtimes", default=",".join(RUNTIMES))
    c.add_argument("--variants", default="", help="extra contenders: int8/bf16 (engine weight files), ort-int8")
    c.add_argument("--rounds", type=int, default=5)
    c.add_argument("--repeat", type=int, default=3)
    c.add_argument("--warmup", type=int, default=2, help="untimed runs per process (the whole clip: 1)")
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--max-load", type=float, default=1.3)
    c.add_argument("--load-timeout", type=float, default=600)
    c.add_argument("--profile", action="store_true")
    c.add_argument("--java", required=True, help="the java command line up to the main class, as one string")
    c.add_argument("-o", "--output")
    a = p.parse_args()
    if a.cmd == "compare":
        a.java = a.java.split("\x1f")
    {"export": export, "run": run, "compare": compare, "quantize": quantize}[a.cmd](a)


if __name__ == "__main__":
    main()
