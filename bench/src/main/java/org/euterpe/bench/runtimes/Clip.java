package org.euterpe.bench.runtimes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.euterpe.pipeline.scheduler.SamplerKind;
import org.euterpe.pipeline.scheduler.Scheduler;
import org.euterpe.pipeline.scheduler.SchedulerConfig;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;

/**
 * The whole clip from one runtime's stages, as bench/runtimes/runtimes.py's {@code Clip} runs it in
 * PyTorch: text encoder on the CFG batch (unconditional, conditional), l2-normalised embeddings as class
 * labels, DDIM steps of the U-Net on a CFG batch of 2 with guidance, VAE decode of latents /
 * scaling_factor, vocoder. The scheduler is the engine's DDIM (a few element-wise passes per step) for
 * every runtime, so only the networks differ.
 */
final class Clip {
    private final StageRuntime.Stage textEncoder;
    private final StageRuntime.Stage unet;
    private final StageRuntime.Stage vae;
    private final StageRuntime.Stage vocoder;
    private final JsonObject schedulerJson;
    private final int steps;
    private final float guidance;
    private final float scalingFactor;
    private final int frames;
    private final int bins;

    Clip(Path work, JsonObject manifest, StageRuntime rt) throws Exception {
        textEncoder = rt.load(work, "text_encoder");
        unet = rt.load(work, "unet");
        vae = rt.load(work, "vae_decode");
        vocoder = rt.load(work, "vocoder");
        schedulerJson = json(work.resolve("model/scheduler/scheduler_config.json"));
        scalingFactor = (float) json(work.resolve("model/vae/config.json")).optDouble("scaling_factor", 1.0);
        steps = manifest.getInt("steps");
        guidance = (float) manifest.getDouble("guidance");
        frames = manifest.getObject("geometry").getInt("frames");
        bins = manifest.getObject("geometry").getInt("bins");
    }

    private static JsonObject json(Path p) throws IOException {
        return new JsonObject(Json.parseLenient(Files.readString(p), p.toString()), p.toString());
    }

    /** Inputs: input_ids [2, L], attention_mask [2, L], latents [1, C, H, W]; returns the waveform. */
    float[] run(List<Npy> in) throws Exception {
        float[] emb = textEncoder.run(List.of(in.get(0), in.get(1)));
        int dim = emb.length / 2;
        for (int b = 0; b < 2; b++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) {
                ss += (double) emb[b * dim + i] * emb[b * dim + i];
            }
            float inv = (float) (1 / Math.max(Math.sqrt(ss), 1e-12));
            for (int i = 0; i < dim; i++) {
                emb[b * dim + i] *= inv;
            }
        }
        Npy labels = new Npy("class_labels", new long[] {2, dim}, emb, null);
        Scheduler sched = Scheduler.create(SamplerKind.DDIM,
                SchedulerConfig.read(schedulerJson, SamplerKind.DDIM, Map.of()));
        sched.setTimesteps(steps);
        long[] lshape = in.get(2).shape();
        float[] lat = in.get(2).floats().clone();
        int n = lat.length;
        for (int i = 0; i < n; i++) {
            lat[i] *= sched.initNoiseSigma();
        }
        long[] batch2 = lshape.clone();
        batch2[0] = 2;
        double[] ts = sched.timesteps();
        for (int s = 0; s < ts.length; s++) {
            float[] x = sched.scaleModelInput(lat, s);
            float[] x2 = new float[2 * n];
            System.arraycopy(x, 0, x2, 0, n);
            System.arraycopy(x, 0, x2, n, n);
            float[] eps = unet.run(List.of(new Npy("sample", batch2, x2, null),
                    new Npy("timestep", new long[] {1}, new float[] {(float) ts[s]}, null), labels));
            float[] guided = new float[n];
            for (int i = 0; i < n; i++) {
                guided[i] = eps[i] + guidance * (eps[n + i] - eps[i]);
            }
            lat = sched.step(guided, s, lat, null);
        }
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            z[i] = lat[i] / scalingFactor;
        }
        float[] mel = vae.run(List.of(new Npy("z", lshape, z, null)));
        // [1, 1, frames, bins] -> the vocoder's [1, frames, bins]
        return vocoder.run(List.of(new Npy("mel", new long[] {1, frames, bins}, mel, null)));
    }
}
