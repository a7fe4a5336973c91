package org.euterpe.converter;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.safetensors.SafetensorsWriter;

/**
 * Harmonai's original Dance Diffusion checkpoints ({@code .ckpt}: a PyTorch Lightning {@code torch.save}
 * of {@code DiffusionUncond}, read through the restricted unpickler) turned into a diffusers folder
 * ({@code model_index.json}, {@code unet/}, {@code scheduler/}), which {@link Converter} then converts like
 * any other. The key mapping is that of diffusers' {@code scripts/convert_dance_diffusion_to_diffusers.py}:
 * the EMA weights ({@code diffusion_ema.*}) are kept; the nesting depth of {@code net.3.main.7.main.7...}
 * is the level; at each level layers 1-6 are the down path (resnet, attention, ...), 8-13 the up path,
 * and at the deepest level the mid block; the attention's fused {@code qkv_proj} 1x1 convolution is
 * split into {@code query}, {@code key}, {@code value} linears, {@code out_proj} becomes {@code proj_attn};
 * the fixed resampling kernels are dropped (the blocks make them). The U-Net config is inferred from the
 * weights (widths, levels, which levels attend); the rate and window come from the caller (the checkpoint
 * does not store them) or, for the published names, from the script's table.
 */
public final class DanceCheckpoint {
    /** The published checkpoints: name to {sample_rate, sample_size}, as the diffusers script lists them. */
    public static final Map<String, int[]> PUBLISHED = Map.of(
            "gwf-440k", new int[] {48000, 65536},
            "jmann-small-190k", new int[] {48000, 65536},
            "jmann-large-580k", new int[] {48000, 131072},
            "maestro-uncond-150k", new int[] {16000, 65536},
            "unlocked-uncond-250k", new int[] {16000, 65536},
            "honk-140k", new int[] {16000, 65536});

    private static final String EMA = "diffusion_ema.";
    private static final Map<String, String> DOWN = Map.of("1", "resnets.0", "2", "attentions.0", "3", "resnets.1",
            "4", "attentions.1", "5", "resnets.2", "6", "attentions.2");
    private static final Map<String, String> UP = Map.of("8", "resnets.0", "9", "attentions.0", "10", "resnets.1",
            "11", "attentions.1", "12", "resnets.2", "13", "attentions.2");
    private static final Map<String, String> MID = Map.ofEntries(Map.entry("1", "resnets.0"),
            Map.entry("2", "attentions.0"), Map.entry("3", "resnets.1"), Map.entry("4", "attentions.1"),
            Map.entry("5", "resnets.2"), Map.entry("6", "attentions.2"), Map.entry("8", "resnets.3"),
            Map.entry("9", "attentions.3"), Map.entry("10", "resnets.4"), Map.entry("11", "attentions.4"),
            Map.entry("12", "resnets.5"), Map.entry("13", "attentions.5"));
    private static final Map<String, String> DEPTH0 = Map.of("0", "resnets.0", "1", "resnets.1", "2", "resnets.2",
            "4", "resnets.0", "5", "resnets.1", "6", "resnets.2");
    private static final Map<String, String> RES = Map.of("main.0", "conv_1", "main.1", "group_norm_1",
            "main.3", "conv_2", "main.4", "group_norm_2");

    private DanceCheckpoint() {
    }

    /** Where an original key goes: its level (nesting depth) and the rest of its name. */
    private record Parsed(int depth, String layer, String rest) {
    }

    private static Parsed parse(Path ckpt, String key) {
        String s = key;
        int depth = 0;
        if (s.startsWith("net.3.")) {
            depth++;
            s = s.substring(6);
        } else if (s.startsWith("net.")) {
            s = s.substring(4);
        } else {
            throw new CheckpointException(ckpt, "unexpected Dance Diffusion key \"" + EMA + key + "\"");
        }
        while (s.startsWith("main.7.")) {
            depth++;
            s = s.substring(7);
        }
        if (s.startsWith("main.")) {
            s = s.substring(5);
        }
        int dot = s.indexOf('.');
        if (dot < 1 || !s.substring(0, dot).chars().allMatch(Character::isDigit)) {
            throw new CheckpointException(ckpt, "cannot place Dance Diffusion key \"" + EMA + key + "\"");
        }
        return new Parsed(depth, s.substring(0, dot), s.substring(dot + 1));
    }

    /**
     * The diffusers names of an original key (three for a fused qkv projection), given the deepest
     * level {@code maxDepth} (the mid block's).
     */
    static List<String> rename(Path ckpt, String key, int maxDepth) {
        if (key.startsWith("timestep_embed.")) {
            return List.of("time_proj." + key.substring("timestep_embed.".length()));
        }
        Parsed p = parse(ckpt, key);
        int n = Integer.parseInt(p.layer());
        String prefix;
        String layer;
        if (p.depth() == maxDepth) {
            prefix = "mid_block";
            layer = MID.get(p.layer());
        } else if (p.depth() > 0 && n < 7) {
            prefix = "down_blocks." + p.depth();
            layer = DOWN.get(p.layer());
        } else if (p.depth() > 0 && n > 7) {
            prefix = "up_blocks." + (maxDepth - p.depth() - 1);
            layer = UP.get(p.layer());
        } else if (p.depth() == 0) {
            prefix = n > 3 ? "up_blocks." + (maxDepth - 1) : "down_blocks.0";
            layer = DEPTH0.get(p.layer());
        } else {
            layer = null;
            prefix = null;
        }
        if (layer == null) {
            throw new CheckpointException(ckpt, "cannot place Dance Diffusion key \"" + EMA + key + "\" (level "
                    + p.depth() + ", layer " + p.layer() + ")");
        }
        String base = prefix + "." + layer + ".";
        String r = p.rest();
        if (layer.startsWith("resnets")) {
            if (r.startsWith("skip.")) {
                return List.of(base + "conv_skip." + r.substring(5));
            }
            for (Map.Entry<String, String> e : RES.entrySet()) {
                if (r.startsWith(e.getKey() + ".")) {
                    return List.of(base + e.getValue() + r.substring(e.getKey().length()));
                }
            }
        } else {
            if (r.startsWith("norm.")) {
                return List.of(base + "group_norm." + r.substring(5));
            }
            if (r.startsWith("qkv_proj.")) {
                String t = r.substring(9);
                return List.of(base + "query." + t, base + "key." + t, base + "value." + t);
            }
            if (r.startsWith("out_proj.")) {
                return List.of(base + "proj_attn." + r.substring(9));
            }
        }
        throw new CheckpointException(ckpt, "cannot place Dance Diffusion key \"" + EMA + key + "\"");
    }

    /**
     * Writes the diffusers folder of {@code ckpt} into {@code dir} (which must exist and be empty).
     *
     * @param sampleRate the model's audio rate (Hz), or 0 for the published checkpoint's (by file name)
     * @param sampleSize the training window in samples, or 0 for the published checkpoint's
     */
    public static void toDiffusersFolder(Path ckpt, Path dir, int sampleRate, int sampleSize) throws IOException {
        String name = ckpt.getFileName().toString().replaceFirst("\\.ckpt$", "");
        if (sampleRate == 0 || sampleSize == 0) {
            int[] known = PUBLISHED.get(name);
            if (known == null) {
                throw new IllegalArgumentException(ckpt + " is not one of the published checkpoints "
                        + new TreeMap<>(PUBLISHED).keySet() + "; give its sample rate and window (sample_size)");
            }
            sampleRate = sampleRate == 0 ? known[0] : sampleRate;
            sampleSize = sampleSize == 0 ? known[1] : sampleSize;
        }
        try (CheckpointReader in = CheckpointReader.open(ckpt)) {
            List<String> keys = new ArrayList<>();
            int maxDepth = 0;
            for (String k : in.names()) {
                if (k.startsWith(EMA) && !k.endsWith("kernel")) {
                    String key = k.substring(EMA.length());
                    keys.add(key);
                    if (!key.startsWith("timestep_embed.")) {
                        maxDepth = Math.max(maxDepth, parse(ckpt, key).depth());
                    }
                }
            }
            if (keys.isEmpty()) {
                throw new CheckpointException(ckpt, "no " + EMA + "* weights: not a Dance Diffusion checkpoint");
            }
            SafetensorsWriter w = new SafetensorsWriter();
            Map<String, int[]> shapes = new LinkedHashMap<>();
            for (String key : keys) {
                CheckpointReader.TensorInfo info = in.info(EMA + key);
                if (info.dtype() != DType.F32 && info.dtype() != DType.F16 && info.dtype() != DType.BF16) {
                    throw new CheckpointException(ckpt, "tensor \"" + EMA + key + "\" is " + info.dtype());
                }
                List<String> names = rename(ckpt, key, maxDepth);
                MemorySegment bytes = in.bytes(EMA + key);
                int[] dims = info.shape().dims();
                // a 1x1 convolution [out, in, 1] is a linear [out, in]; timestep_embed's [8, 1] is [8]
                if (dims.length == 3 && dims[2] == 1 && !names.get(0).contains("conv")) {
                    dims = new int[] {dims[0], dims[1]};
                } else if (names.get(0).startsWith("time_proj.") && dims.length == 2 && dims[1] == 1) {
                    dims = new int[] {dims[0]};
                }
                if (dims[0] % names.size() != 0) {
                    throw new CheckpointException(ckpt, "tensor \"" + EMA + key + "\" " + info.shape()
                            + " cannot be split into " + names.size());
                }
                long part = bytes.byteSize() / names.size();
                for (int i = 0; i < names.size(); i++) {
                    int[] d = dims.clone();
                    d[0] = dims[0] / names.size();
                    w.add(names.get(i), info.dtype(), Shape.of(d), bytes.asSlice(i * part, part));
                    shapes.put(names.get(i), d);
                }
            }
            Files.createDirectories(dir.resolve("unet"));
            Files.createDirectories(dir.resolve("scheduler"));
            w.write(dir.resolve("unet").resolve("diffusion_pytorch_model.safetensors"));
            Files.writeString(dir.resolve("unet").resolve("config.json"),
                    unetConfig(ckpt, shapes, maxDepth, sampleRate, sampleSize), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("scheduler").resolve("scheduler_config.json"), """
                    {"_class_name": "IPNDMScheduler", "_diffusers_version": "0.21.4", "num_train_timesteps": 1000,
                     "trained_betas": null}
                    """, StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("model_index.json"), """
                    {"_class_name": "DanceDiffusionPipeline", "_diffusers_version": "0.21.4",
                     "scheduler": ["diffusers", "IPNDMScheduler"], "unet": ["diffusers", "UNet1DModel"]}
                    """, StandardCharsets.UTF_8);
        }
    }

    /** The UNet1DModel config the weights imply: widths per level and which levels attend. */
    private static String unetConfig(Path ckpt, Map<String, int[]> shapes, int levels, int rate, int size) {
        List<String> widths = new ArrayList<>();
        List<String> down = new ArrayList<>();
        List<String> up = new ArrayList<>();
        for (int d = 0; d < levels; d++) {
            int[] w = shapes.get("down_blocks." + d + ".resnets.2.conv_2.weight");
            if (w == null) {
                throw new CheckpointException(ckpt, "level " + d + " has no third down resnet");
            }
            widths.add(Integer.toString(w[0]));
            boolean attn = shapes.containsKey("down_blocks." + d + ".attentions.0.query.weight");
            down.add(d == 0 ? "DownBlock1DNoSkip" : attn ? "AttnDownBlock1D" : "DownBlock1D");
        }
        for (int i = 0; i < levels; i++) {
            boolean attn = shapes.containsKey("up_blocks." + i + ".attentions.0.query.weight");
            up.add(i == levels - 1 ? "UpBlock1DNoSkip" : attn ? "AttnUpBlock1D" : "UpBlock1D");
        }
        return String.format(Locale.ROOT, """
                {
                  "_class_name": "UNet1DModel",
                  "_diffusers_version": "0.21.4",
                  "act_fn": null,
                  "block_out_channels": [%s],
                  "down_block_types": [%s],
                  "downsample_each_block": false,
                  "extra_in_channels": 16,
                  "flip_sin_to_cos": true,
                  "freq_shift": 0.0,
                  "in_channels": 2,
                  "layers_per_block": 1,
                  "mid_block_type": "UNetMidBlock1D",
                  "norm_num_groups": 8,
                  "out_block_type": null,
                  "out_channels": 2,
                  "sample_rate": %d,
                  "sample_size": %d,
                  "time_embedding_type": "fourier",
                  "up_block_types": [%s],
                  "use_timestep_embedding": false
                }
                """, String.join(", ", widths), quoted(down), rate, size, quoted(up));
    }

    private static String quoted(List<String> names) {
        return String.join(", ", names.stream().map(n -> "\"" + n + "\"").toList());
    }
}
