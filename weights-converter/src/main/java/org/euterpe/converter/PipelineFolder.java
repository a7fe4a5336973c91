package org.euterpe.converter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.euterpe.tensor.json.Json;

/**
 * A diffusers pipeline folder as the converter reads it: {@code model_index.json}, and for each
 * component it names, the component's text files (configs, scheduler config, tokenizer vocab and
 * merges) and its weights file, if it has one.
 */
final class PipelineFolder {
    /** Weights file names diffusers / transformers write, in order of preference (safetensors first). */
    private static final List<String> WEIGHT_FILES = List.of("diffusion_pytorch_model.safetensors",
            "model.safetensors", "diffusion_pytorch_model.bin", "pytorch_model.bin");
    /** A bound on one metadata file (a tokenizer vocab is ~1 MB); the safetensors header holds them all. */
    private static final long MAX_TEXT_FILE = 16L << 20;

    /** One component folder; {@code weights} is null for tokenizer and scheduler. */
    record Component(String name, Path dir, List<Path> textFiles, Path weights) {
    }

    private final Path root;
    private final List<Component> components;

    private PipelineFolder(Path root, List<Component> components) {
        this.root = root;
        this.components = components;
    }

    /** Reads model_index.json and lists each named component's files; fails naming what is missing. */
    static PipelineFolder scan(Path folder) throws IOException {
        Path indexFile = folder.resolve("model_index.json");
        if (!Files.isRegularFile(indexFile)) {
            throw new CheckpointException(folder, "no model_index.json: not a diffusers pipeline folder");
        }
        List<Component> components = new ArrayList<>();
        for (String name : componentNames(indexFile)) {
            Path dir = folder.resolve(name);
            if (!Files.isDirectory(dir)) {
                throw new CheckpointException(folder, "model_index.json names component \"" + name
                        + "\" but there is no folder " + dir);
            }
            components.add(new Component(name, dir, textFiles(dir), weightsFile(dir)));
        }
        return new PipelineFolder(folder, List.copyOf(components));
    }

    Path root() {
        return root;
    }

    List<Component> components() {
        return components;
    }

    /**
     * model_index.json and every component text file, verbatim, keyed by the path relative to the
     * folder ({@code "unet/config.json"}).
     */
    Map<String, String> texts() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("model_index.json", text(root.resolve("model_index.json")));
        for (Component c : components) {
            for (Path f : c.textFiles()) {
                out.put(relative(f), text(f));
            }
        }
        return out;
    }

    /** Every file the conversion reads, in metadata order: model_index.json, then per component its texts and weights. */
    List<Path> files() {
        List<Path> out = new ArrayList<>();
        out.add(root.resolve("model_index.json"));
        for (Component c : components) {
            out.addAll(c.textFiles());
            if (c.weights() != null) {
                out.add(c.weights());
            }
        }
        return out;
    }

    /** {@code file}'s path relative to the folder, with forward slashes. */
    String relative(Path file) {
        return root.relativize(file).toString().replace('\\', '/');
    }

    /** Component names of model_index.json: its non-underscore keys with a [library, class] value. */
    private static List<String> componentNames(Path indexFile) throws IOException {
        Object parsed = Json.parse(text(indexFile), indexFile.toString());
        if (!(parsed instanceof Map<?, ?> index)) {
            throw new CheckpointException(indexFile, "not a JSON object");
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : index.entrySet()) {
            String key = (String) e.getKey();
            if (key.startsWith("_")) {
                continue;
            }
            if (!(e.getValue() instanceof List<?> spec) || spec.size() != 2) {
                throw new CheckpointException(indexFile, "component \"" + key + "\" is not a [library, class] pair");
            }
            if (key.contains("/") || key.contains("\\") || key.equals("..") || key.equals(".")) {
                throw new CheckpointException(indexFile, "component name \"" + key + "\" is not a folder name");
            }
            if (spec.get(0) != null) { // [null, null] marks an absent optional component
                out.add(key);
            }
        }
        return out;
    }

    private static Path weightsFile(Path dir) throws IOException {
        for (String name : WEIGHT_FILES) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
            if (Files.exists(p)) {
                throw new CheckpointException(p, "is not a regular file (a folder?), so it cannot be read as weights");
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            Optional<Path> index = files.filter(p -> p.getFileName().toString().endsWith(".index.json")).findFirst();
            if (index.isPresent()) {
                throw new CheckpointException(index.get(), "sharded weights are not supported yet");
            }
        }
        return null;
    }

    private static List<Path> textFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().endsWith(".json")
                            || p.getFileName().toString().endsWith(".txt"))
                    .sorted()
                    .toList();
        }
    }

    private static String text(Path file) throws IOException {
        if (Files.size(file) > MAX_TEXT_FILE) {
            throw new CheckpointException(file, "a configuration or tokenizer file of " + Files.size(file)
                    + " bytes is larger than the " + MAX_TEXT_FILE + " bytes allowed");
        }
        return Files.readString(file);
    }
}
