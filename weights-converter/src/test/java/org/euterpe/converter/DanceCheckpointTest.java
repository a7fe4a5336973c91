package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.euterpe.tensor.TestData;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Harmonai's {@code .ckpt} layout to diffusers: the tiny Dance Diffusion U-Net's weights are written back
 * under the original names (a PyTorch Lightning checkpoint: epoch, non-EMA copies, resampling kernels and
 * a fused qkv per attention, as {@code DiffusionAttnUnet1D} stores them), converted, and must come out as
 * the very same tensors with the same config.
 */
class DanceCheckpointTest {
    @TempDir
    Path tmp;

    /** The original name of a diffusers key of a model with {@code levels} levels (the inverse mapping). */
    private static String original(String key, int levels) {
        if (key.equals("time_proj.weight")) {
            return "timestep_embed.weight";
        }
        String[] p = key.split("\\.", 5); // block, index, kind, j, rest  (mid_block: block, kind, j, rest)
        String block = p[0];
        int depth;
        String kind;
        int j;
        String rest;
        int num;
        if (block.equals("mid_block")) {
            depth = levels;
            kind = p[1];
            j = Integer.parseInt(p[2]);
            rest = key.substring(key.indexOf(p[2] + ".", block.length() + kind.length() + 2) + p[2].length() + 1);
            num = (j < 3 ? 1 + 2 * j : 8 + 2 * (j - 3)) + (kind.equals("attentions") ? 1 : 0);
        } else {
            int index = Integer.parseInt(p[1]);
            kind = p[2];
            j = Integer.parseInt(p[3]);
            rest = p[4];
            boolean downPath = block.equals("down_blocks");
            depth = downPath ? index : levels - 1 - index;
            num = (downPath ? 1 + 2 * j : 8 + 2 * j) + (kind.equals("attentions") ? 1 : 0);
            if (depth == 0) {
                num = downPath ? j : 4 + j;
            }
        }
        String prefix = depth == 0 ? "net." : "net.3." + "main.7.".repeat(depth - 1) + "main.";
        String inner;
        if (kind.equals("resnets")) {
            inner = rest.replace("conv_skip", "skip").replace("conv_1", "main.0").replace("group_norm_1", "main.1")
                    .replace("conv_2", "main.3").replace("group_norm_2", "main.4");
        } else {
            inner = rest.replace("group_norm", "norm").replace("proj_attn", "out_proj");
        }
        return prefix + num + "." + inner;
    }

    @Test
    void anOriginalCheckpointConvertsToTheDiffusersWeights() throws Exception {
        Path model = TestData.conformanceCase("tiny-dance-diffusion");
        JsonObject config = new JsonObject(Json.parseLenient(Files.readString(model.resolve("unet/config.json"))),
                "config");
        int levels = config.getList("block_out_channels").size();
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(model.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            // original name -> values/shape; q, k and v are fused into qkv_proj, linears become 1x1 convolutions
            Map<String, List<String>> fused = new LinkedHashMap<>();
            for (String name : new TreeSet<>(f.names())) {
                if (name.endsWith("kernel")) {
                    continue;
                }
                String orig = original(name.replaceAll("\\.(query|key|value)\\.", ".qkv_proj."), levels);
                fused.computeIfAbsent(orig, k -> new ArrayList<>()).add(name);
            }
            for (Map.Entry<String, List<String>> e : fused.entrySet()) {
                List<String> parts = new ArrayList<>(e.getValue());
                parts.sort((x, y) -> Integer.compare(order(x), order(y))); // query, key, value
                int rows = 0;
                List<float[]> data = new ArrayList<>();
                int[] dims = f.entry(parts.get(0)).shape().dims();
                for (String part : parts) {
                    data.add(f.floats(part));
                    rows += f.entry(part).shape().dim(0);
                }
                int[] d = dims.clone();
                d[0] = rows;
                boolean linear = e.getKey().contains("qkv_proj.weight") || e.getKey().contains("out_proj.weight");
                if (linear) {
                    d = new int[] {d[0], d[1], 1};
                } else if (e.getKey().equals("timestep_embed.weight")) {
                    d = new int[] {d[0], 1};
                }
                float[] all = new float[data.stream().mapToInt(a -> a.length).sum()];
                int at = 0;
                for (float[] a : data) {
                    System.arraycopy(a, 0, all, at, a.length);
                    at += a.length;
                }
                values.put("diffusion_ema." + e.getKey(), all);
                shapes.put("diffusion_ema." + e.getKey(), d);
                values.put("diffusion." + e.getKey(), new float[all.length]); // the non-EMA copy: ignored
                shapes.put("diffusion." + e.getKey(), d);
            }
        }
        values.put("diffusion_ema.net.3.main.0.kernel", new float[8]);
        shapes.put("diffusion_ema.net.3.main.0.kernel", new int[] {8});
        Path ckpt = tmp.resolve("tiny-dance.ckpt");
        Files.write(ckpt, lightningCheckpoint(values, shapes));

        Path folder = tmp.resolve("folder");
        Files.createDirectories(folder);
        DanceCheckpoint.toDiffusersFolder(ckpt, folder, 16000, 512);
        try (SafetensorsFile want = SafetensorsFile.open(model.resolve("unet/diffusion_pytorch_model.safetensors"));
                SafetensorsFile got = SafetensorsFile.open(folder.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            TreeSet<String> expected = new TreeSet<>(want.names());
            expected.removeIf(n -> n.endsWith("kernel"));
            assertEquals(expected, new TreeSet<>(got.names()));
            for (String n : expected) {
                assertArrayEquals(want.entry(n).shape().dims(), got.entry(n).shape().dims(), n);
                assertArrayEquals(want.floats(n), got.floats(n), n);
            }
        }
        JsonObject converted = new JsonObject(Json.parseLenient(Files.readString(folder.resolve("unet/config.json"))),
                "converted");
        for (String k : List.of("block_out_channels", "down_block_types", "up_block_types", "sample_rate",
                "sample_size", "extra_in_channels")) {
            assertEquals(config.raw(k), converted.raw(k), k);
        }
        assertTrue(Files.isRegularFile(folder.resolve("model_index.json")));
        // and the folder converts to one file
        Converter.convert(folder, tmp.resolve("tiny.safetensors"), Precision.AS_STORED);
    }

    @Test
    void anUnknownCheckpointNeedsItsRateAndWindow() {
        Path ckpt = tmp.resolve("mine.ckpt");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DanceCheckpoint.toDiffusersFolder(ckpt, tmp, 0, 0));
        assertTrue(e.getMessage().contains("sample rate"), e.getMessage());
    }

    private static int order(String name) {
        return name.contains(".query.") ? 0 : name.contains(".key.") ? 1 : 2;
    }

    /** {"epoch": 3, "state_dict": OrderedDict(name -> tensor)} as PyTorch Lightning saves it. */
    private static byte[] lightningCheckpoint(Map<String, float[]> values, Map<String, int[]> shapes) {
        Fixtures.Pickle p = new Fixtures.Pickle().proto(2).op('}').op('(').str("epoch").integer(3)
                .str("pytorch-lightning_version").str("1.7.7").str("state_dict")
                .global("collections", "OrderedDict").op(')').op('R').op('(');
        Map<String, byte[]> storages = new LinkedHashMap<>();
        int key = 0;
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            int[] d = shapes.get(e.getKey());
            long[] size = new long[d.length];
            long[] stride = new long[d.length];
            long s = 1;
            for (int i = d.length - 1; i >= 0; i--) {
                size[i] = d[i];
                stride[i] = s;
                s *= d[i];
            }
            p.str(e.getKey()).tensor("FloatStorage", Integer.toString(key), e.getValue().length, 0, size, stride);
            ByteBuffer b = ByteBuffer.allocate(4 * e.getValue().length).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : e.getValue()) {
                b.putFloat(v);
            }
            storages.put(Integer.toString(key++), b.array());
        }
        p.op('u').op('u').op('.');
        return Fixtures.torchZip("archive", p.bytes(), storages);
    }
}
