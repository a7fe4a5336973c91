package org.euterpe.converter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

import org.euterpe.tensor.DType;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.safetensors.SafetensorsWriter;

/**
 * Converts a diffusers pipeline folder ({@code model_index.json} plus one folder per component)
 * into ONE safetensors file the engine loads, or (with {@link ConvertedModel}) into the same
 * tensors in memory.
 *
 * <p>Tensors are named {@code <component>.<key>} and stored as {@link WeightEncoder} decides for
 * the component's {@link Precision}. {@code __metadata__} holds:
 * <ul>
 *   <li>{@code euterpe.format_version}: {@link #FORMAT_VERSION};</li>
 *   <li>{@code euterpe.weight_dtype}: the requested weight dtype ("F16", ..., or "as stored"), and
 *       {@code euterpe.weight_dtype_overrides}, a JSON object of per-component dtypes, when any;</li>
 *   <li>{@code model_index.json} and, for each component, every {@code .json} and {@code .txt}
 *       file of its folder (configs, scheduler config, tokenizer vocab/merges) verbatim, keyed by
 *       the path relative to the pipeline folder ({@code "unet/config.json"});</li>
 *   <li>{@code euterpe.sources}: a JSON list of {@code {"path", "bytes", "sha256"}} for every
 *       source file, plus {@code "published"} where it is a known published file.</li>
 * </ul>
 */
public final class Converter {
    public static final String FORMAT_VERSION = "1";
    public static final String FORMAT_VERSION_KEY = "euterpe.format_version";
    public static final String WEIGHT_DTYPE_KEY = "euterpe.weight_dtype";
    public static final String OVERRIDES_KEY = "euterpe.weight_dtype_overrides";
    public static final String SOURCES_KEY = "euterpe.sources";
    /** Suffix of the F32 per-row scales tensor that goes with an I8 weight. */
    public static final String SCALE_SUFFIX = WeightEncoder.SCALE_SUFFIX;

    /** One source file read, with its hash and, if it is one, the published file it matches. */
    public record SourceFile(String path, long bytes, String sha256, Optional<PublishedWeights.File> published) {
        public String describe() {
            return path + ": sha256 " + sha256 + published.map(p -> ", matches " + p.describe())
                    .orElse(", not a known published file");
        }
    }

    /**
     * What was read for one component with weights and what it became.
     *
     * @param weightsFile  the weights file, relative to the pipeline folder
     * @param format       "safetensors" or "torch zip"
     * @param tensors      tensors read
     * @param parameters   elements of all tensors read
     * @param sourceDtypes dtypes read, e.g. [F32, I64]
     * @param storedDtypes dtypes stored, e.g. [BF16, F32, I64]
     * @param storedBytes  bytes of the stored tensors (scales included)
     */
    public record ComponentReport(String component, String weightsFile, String format, int tensors, long parameters,
            Set<String> sourceDtypes, long sourceBytes, Set<String> storedDtypes, long storedBytes) {
    }

    /** What a conversion read and wrote. */
    public record Report(Path output, List<SourceFile> sources, List<ComponentReport> components, int tensors) {
    }

    private Converter() {
    }

    /** {@link #convert(Path, Path, Precision)} with one weight dtype for every component. */
    public static Report convert(Path folder, Path outFile, DType weightDtype) throws IOException {
        return convert(folder, outFile, Precision.of(weightDtype));
    }

    /**
     * Converts {@code folder} into {@code outFile}, written atomically (a temporary file beside it,
     * renamed). The output may not be inside the model folder: a converter never writes there; its
     * folder must exist (an {@link IOException} otherwise).
     */
    public static Report convert(Path folder, Path outFile, Precision precision) throws IOException {
        Path out = outFile.toAbsolutePath().normalize();
        if (out.startsWith(folder.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("the output " + outFile + " is inside the model folder " + folder
                    + "; write it somewhere else");
        }
        if (Files.isDirectory(out)) {
            throw new IllegalArgumentException("the output " + outFile + " is a folder; name a .safetensors file");
        }
        if (!Files.isDirectory(out.getParent())) {
            // Never created here: a mistyped folder should fail, not appear (as generate's outputs).
            throw new IOException("output folder " + out.getParent() + " does not exist");
        }
        PipelineFolder pipeline = PipelineFolder.scan(folder);
        Map<String, String> metadata = metadata(pipeline, precision);
        List<SourceFile> sources = new ArrayList<>();
        for (Path f : pipeline.files()) {
            String sha = Sha256.of(f);
            sources.add(new SourceFile(pipeline.relative(f), Files.size(f), sha, PublishedWeights.bySha256(sha)));
        }
        metadata.put(SOURCES_KEY, Json.write(sources.stream().map(Converter::sourceJson).toList()));

        SafetensorsWriter writer = new SafetensorsWriter();
        List<CheckpointReader> open = new ArrayList<>();
        int[] tensors = {0};
        try {
            List<ComponentReport> components = read(pipeline, precision, true, open, (name, t) -> {
                t.addTo(writer, name);
                tensors[0]++;
            });
            writer.metadata(metadata);
            writer.write(out);
            return new Report(outFile, List.copyOf(sources), components, tensors[0]);
        } finally {
            open.forEach(CheckpointReader::close);
        }
    }

    /** The metadata every converted model carries (without the sources, which need hashing). */
    static Map<String, String> metadata(PipelineFolder pipeline, Precision precision) throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(FORMAT_VERSION_KEY, FORMAT_VERSION);
        metadata.put(WEIGHT_DTYPE_KEY, Precision.name(precision.weights()));
        if (!precision.overrides().isEmpty()) {
            Map<String, Object> o = new LinkedHashMap<>();
            precision.overrides().forEach((k, v) -> o.put(k, Precision.name(v)));
            metadata.put(OVERRIDES_KEY, Json.write(o));
        }
        metadata.putAll(pipeline.texts());
        return metadata;
    }

    /**
     * Opens each component's weights (adding the readers to {@code open}, which the caller closes)
     * and hands every stored tensor to {@code sink} under its name {@code <component>.<key>}.
     *
     * @param checkFinite refuse a floating tensor with a NaN or infinite value (reads every value)
     */
    static List<ComponentReport> read(PipelineFolder pipeline, Precision precision, boolean checkFinite,
            List<CheckpointReader> open,
            BiConsumer<String, WeightEncoder.StoredTensor> sink) throws IOException {
        List<ComponentReport> reports = new ArrayList<>();
        for (PipelineFolder.Component c : pipeline.components()) {
            if (c.weights() == null) {
                continue;
            }
            CheckpointReader reader = CheckpointReader.open(c.weights());
            open.add(reader);
            DType weightDtype = precision.forComponent(c.name());
            long parameters = 0;
            long storedBytes = 0;
            Set<String> sourceDtypes = new TreeSet<>();
            Set<String> storedDtypes = new TreeSet<>();
            for (String key : reader.names()) {
                CheckpointReader.TensorInfo info = reader.info(key);
                // A file conversion reads every value anyway; a folder loaded in memory keeps its weights
                // mapped and untouched until a layer reads them, so it is not scanned.
                long bad = checkFinite ? WeightEncoder.firstNonFinite(reader.bytes(key), info.dtype(),
                        info.shape().numel()) : -1;
                if (bad >= 0) {
                    throw new CheckpointException(c.weights(), c.name() + " weight \"" + key + "\" has a NaN or"
                            + " infinite value (element " + bad + "); the model would make only NaN audio");
                }
                parameters += info.shape().numel();
                sourceDtypes.add(info.dtype().safetensorsName());
                for (WeightEncoder.StoredTensor t : WeightEncoder.encode(key, info, reader.bytes(key), weightDtype)) {
                    storedBytes += t.byteSize();
                    storedDtypes.add(t.dtype().safetensorsName());
                    sink.accept(c.name() + "." + t.key(), t);
                }
            }
            String format = reader instanceof TorchCheckpoint ? "torch zip" : "safetensors";
            reports.add(new ComponentReport(c.name(), pipeline.relative(c.weights()), format, reader.names().size(),
                    parameters, sourceDtypes, Files.size(c.weights()), storedDtypes, storedBytes));
        }
        return List.copyOf(reports);
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
