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

import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.safetensors.SafetensorsWriter;

/**
 * Converts a diffusers pipeline folder ({@code model_index.json} plus one folder per component)
 * into ONE safetensors file the engine loads.
 *
 * <p>Tensors are named {@code <component>.<key>} and stored as {@link WeightEncoder} decides.
 * {@code __metadata__} holds:
 * <ul>
 *   <li>{@code euterpe.format_version}: {@link #FORMAT_VERSION};</li>
 *   <li>{@code euterpe.weight_dtype}: the requested weight dtype ("F16", ...);</li>
 *   <li>{@code model_index.json} and, for each component, every {@code .json} and {@code .txt}
 *       file of its folder (configs, scheduler config, tokenizer vocab/merges) verbatim, keyed by
 *       the path relative to the pipeline folder ({@code "unet/config.json"});</li>
 *   <li>{@code euterpe.sources}: a JSON list of {@code {"path", "bytes", "sha256"}} for every
 *       source file, plus {@code "published"} where it is a known published file.</li>
 * </ul>
 */
public final class Converter {
    public static final String FORMAT_VERSION = "1";
    /** Weights file names diffusers / transformers write, in order of preference (safetensors first). */
    private static final List<String> WEIGHT_FILES = List.of("diffusion_pytorch_model.safetensors",
            "model.safetensors", "diffusion_pytorch_model.bin", "pytorch_model.bin");
    /** A bound on one metadata file (a tokenizer vocab is ~1 MB); the safetensors header holds them all. */
    private static final long MAX_TEXT_FILE = 16L << 20;

    /** One source file read, with its hash and, if it is one, the published file it matches. */
    public record SourceFile(String path, long bytes, String sha256, Optional<PublishedWeights.File> published) {
        public String describe() {
            return path + ": sha256 " + sha256 + published.map(p -> ", matches " + p.describe())
                    .orElse(", not a known published file");
        }
    }

    /** What a conversion read and wrote. */
    public record Report(Path output, List<SourceFile> sources, int tensors) {
    }

    private Converter() {
    }

    /**
     * Converts {@code folder} into {@code outFile} (written atomically), storing weight matrices and
     * kernels as {@code weightDtype} (F32, F16, BF16 or I8).
     */
    public static Report convert(Path folder, Path outFile, DType weightDtype) throws IOException {
        if (!weightDtype.isFloating() && weightDtype != DType.I8) {
            throw new IllegalArgumentException("weights can be stored as F32, F16, BF16 or I8, not " + weightDtype);
        }
        Path indexFile = folder.resolve("model_index.json");
        if (!Files.isRegularFile(indexFile)) {
            throw new CheckpointException(folder, "no model_index.json: not a diffusers pipeline folder");
        }
        List<SourceFile> sources = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("euterpe.format_version", FORMAT_VERSION);
        metadata.put("euterpe.weight_dtype", weightDtype.safetensorsName());
        metadata.put("model_index.json", text(folder, indexFile, sources));

        SafetensorsWriter writer = new SafetensorsWriter();
        List<CheckpointReader> open = new ArrayList<>();
        int tensors = 0;
        try {
            for (String component : components(indexFile)) {
                Path dir = folder.resolve(component);
                if (!Files.isDirectory(dir)) {
                    throw new CheckpointException(folder, "model_index.json names component \"" + component
                            + "\" but there is no folder " + dir);
                }
                for (Path f : textFiles(dir)) {
                    metadata.put(relative(folder, f), text(folder, f, sources));
                }
                Path weights = weightsFile(dir);
                if (weights != null) {
                    sources.add(source(folder, weights));
                    CheckpointReader reader = CheckpointReader.open(weights);
                    open.add(reader);
                    tensors += addTensors(writer, component, reader, weightDtype);
                }
            }
            metadata.put("euterpe.sources", Json.write(sources.stream().map(Converter::sourceJson).toList()));
            writer.metadata(metadata);
            Files.createDirectories(outFile.toAbsolutePath().getParent());
            writer.write(outFile);
        } finally {
            for (CheckpointReader r : open) {
                r.close();
            }
        }
        return new Report(outFile, List.copyOf(sources), tensors);
    }

    /** Adds every tensor of one component, converted; returns how many tensors were written. */
    private static int addTensors(SafetensorsWriter writer, String component, CheckpointReader reader,
            DType weightDtype) {
        int n = 0;
        for (String key : reader.names()) {
            CheckpointReader.TensorInfo info = reader.info(key);
            String name = component + "." + key;
            DType stored = WeightEncoder.storedDType(key, info, weightDtype);
            Shape shape = info.shape();
            if (stored == info.dtype()) {
                writer.add(name, stored, shape, reader.bytes(key));
            } else if (stored == DType.I8) {
                float[] scales = WeightEncoder.int8Scales(reader.bytes(key), info.dtype(), shape);
                writer.add(name + WeightEncoder.SCALE_SUFFIX, DType.F32, Shape.of(shape.dim(0)), scales);
                writer.add(name, DType.I8, shape, WeightEncoder.int8(reader.bytes(key), info.dtype(), shape, scales));
                n++;
            } else {
                writer.add(name, stored, shape,
                        WeightEncoder.floats(reader.bytes(key), info.dtype(), shape.numel(), stored));
            }
            n++;
        }
        return n;
    }

    /** Component names of model_index.json: its non-underscore keys with a [library, class] value. */
    private static List<String> components(Path indexFile) throws IOException {
        Object parsed = Json.parse(Files.readString(indexFile));
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
            if (spec.get(0) != null) { // [null, null] marks an absent optional component
                out.add(key);
            }
        }
        return out;
    }

    /** The component's weights file, or null for components without weights (tokenizer, scheduler). */
    private static Path weightsFile(Path dir) throws IOException {
        for (String name : WEIGHT_FILES) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
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

    private static String text(Path folder, Path file, List<SourceFile> sources) throws IOException {
        if (Files.size(file) > MAX_TEXT_FILE) {
            throw new CheckpointException(file, "a configuration or tokenizer file of " + Files.size(file)
                    + " bytes is larger than the " + MAX_TEXT_FILE + " bytes allowed");
        }
        sources.add(source(folder, file));
        return Files.readString(file);
    }

    private static SourceFile source(Path folder, Path file) throws IOException {
        String sha = Sha256.of(file);
        return new SourceFile(relative(folder, file), Files.size(file), sha, PublishedWeights.bySha256(sha));
    }

    private static String relative(Path folder, Path file) {
        return folder.relativize(file).toString().replace('\\', '/');
    }

    private static Map<String, Object> sourceJson(SourceFile s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", s.path());
        m.put("bytes", s.bytes());
        m.put("sha256", s.sha256());
        s.published().ifPresent(p -> m.put("published", p.repository() + " " + p.path()));
        return m;
    }
}
