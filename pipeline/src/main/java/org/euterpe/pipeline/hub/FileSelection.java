package org.euterpe.pipeline.hub;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;

/**
 * Which files of a diffusers repository the engine needs: {@code model_index.json}; in each
 * component folder it names, the configs and tokenizer files ({@code .json}, {@code .txt}) and one
 * weights file, the first of {@link #WEIGHT_FILES} present (safetensors before torch {@code .bin},
 * as the converter reads them). Everything else is skipped: {@code .ckpt} single-file duplicates,
 * other precisions ({@code *.fp16.*}), ONNX/Flax/TF exports, sharded checkpoints, README and images.
 */
public final class FileSelection {
    /** The weight file names the engine reads, in order of preference. */
    public static final List<String> WEIGHT_FILES = List.of("diffusion_pytorch_model.safetensors",
            "model.safetensors", "diffusion_pytorch_model.bin", "pytorch_model.bin");

    private FileSelection() {
    }

    /** The component folders {@code model_index.json} names (keys whose value is a [library, class] pair). */
    public static List<String> components(String modelIndexJson) {
        JsonObject index = new JsonObject(Json.parseLenient(modelIndexJson), "model_index.json");
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : index.map().entrySet()) {
            if (!e.getKey().startsWith("_") && e.getValue() instanceof List<?> l && l.size() == 2
                    && l.get(0) != null && l.get(1) != null) {
                if (!e.getKey().matches("[A-Za-z0-9_.-]+") || e.getKey().contains("..")) {
                    throw new IllegalArgumentException("model_index.json: component name \"" + e.getKey()
                            + "\" is not a folder name");
                }
                out.add(e.getKey());
            }
        }
        return out;
    }

    /** Whether a component holds weights (schedulers, tokenizers and feature extractors do not). */
    static boolean hasWeights(String component, List<HubFile> inFolder) {
        if (component.contains("scheduler") || component.contains("tokenizer")
                || component.contains("feature_extractor") || component.contains("processor")) {
            return false;
        }
        return inFolder.stream().anyMatch(f -> isWeights(name(f.path())));
    }

    private static boolean isWeights(String name) {
        return name.endsWith(".safetensors") || name.endsWith(".bin") || name.endsWith(".ckpt")
                || name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".msgpack") || name.endsWith(".h5")
                || name.endsWith(".onnx");
    }

    /**
     * The files to download, in listing order.
     *
     * @throws IllegalArgumentException when the repository is not a diffusers pipeline, or a component has no
     *                                  weights file the engine reads
     */
    public static List<HubFile> select(List<HubFile> listing, String modelIndexJson) {
        List<String> components = components(modelIndexJson);
        Map<String, List<HubFile>> byFolder = new LinkedHashMap<>();
        for (HubFile f : listing) {
            int slash = f.path().indexOf('/');
            if (slash > 0 && f.path().indexOf('/', slash + 1) < 0) {
                byFolder.computeIfAbsent(f.path().substring(0, slash), k -> new ArrayList<>()).add(f);
            }
        }
        List<HubFile> out = new ArrayList<>();
        listing.stream().filter(f -> f.path().equals("model_index.json")).forEach(out::add);
        for (String c : components) {
            List<HubFile> files = byFolder.getOrDefault(c, List.of());
            if (files.isEmpty()) {
                throw new IllegalArgumentException("model_index.json names the component \"" + c
                        + "\" but the repository has no " + c + "/ folder");
            }
            for (HubFile f : files) {
                String n = name(f.path());
                if (n.endsWith(".json") && !n.endsWith(".index.json") || n.endsWith(".txt") || n.endsWith(".model")) {
                    out.add(f);
                }
            }
            if (hasWeights(c, files)) {
                HubFile chosen = null;
                for (String w : WEIGHT_FILES) {
                    for (HubFile f : files) {
                        if (chosen == null && name(f.path()).equals(w)) {
                            chosen = f;
                        }
                    }
                }
                if (chosen == null) {
                    throw new IllegalArgumentException("the component " + c + " has no weights file the engine reads"
                            + " (one of " + WEIGHT_FILES + "); it has " + files.stream().map(f -> name(f.path()))
                            .filter(FileSelection::isWeights).toList());
                }
                out.add(chosen);
            }
        }
        return out;
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
