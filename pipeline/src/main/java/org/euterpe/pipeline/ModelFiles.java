package org.euterpe.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import org.euterpe.converter.ConvertedModel;
import org.euterpe.converter.Converter;
import org.euterpe.converter.Precision;
import org.euterpe.nn.ComponentFiles;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.WeightSource;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonException;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * A model's files as every family reads them, whichever form it has on disk: a one-file model
 * ({@code euterpe convert}: tensors {@code <component>.<key>}, the folder's json/txt files in the
 * metadata) or a diffusers folder (converted in memory, nothing written). Closing it unmaps the
 * weights. {@link AudioModel} reads the AudioLDM/MusicLDM components the same way.
 */
public final class ModelFiles implements AutoCloseable {
    private final Path path;
    private final WeightSource tensors;
    private final Map<String, String> metadata;
    private final AutoCloseable owner;
    private final String kind;

    private ModelFiles(Path path, WeightSource tensors, Map<String, String> metadata, AutoCloseable owner,
            String kind) {
        this.path = path;
        this.tensors = tensors;
        this.metadata = metadata;
        this.owner = owner;
        this.kind = kind;
    }

    /**
     * Opens {@code path}.
     *
     * @param precision for a folder, the weight precision to convert to in memory; a one-file model
     *                  only accepts {@link Precision#AS_STORED}
     */
    public static ModelFiles open(Path path, Precision precision) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "model not found");
        }
        if (Files.isDirectory(path)) {
            if (!Files.isRegularFile(path.resolve("model_index.json"))) {
                throw new ModelLoadException(path + " is not a diffusers pipeline folder (no model_index.json)");
            }
            ConvertedModel converted = ConvertedModel.open(path, precision);
            return new ModelFiles(path, converted, converted.metadata(), converted,
                    "folder converted in memory (" + precision.describe() + ")");
        }
        if (!precision.equals(Precision.AS_STORED)) {
            throw new IllegalArgumentException(path + " is a converted model, loaded at the precision it was"
                    + " converted with; convert the folder again with the dtype you want");
        }
        SafetensorsFile file = AudioModel.openOneFile(path);
        String dtype = file.metadata().getOrDefault(Converter.WEIGHT_DTYPE_KEY, "?");
        return new ModelFiles(path, WeightSource.of(file), file.metadata(), file, "one file (" + dtype + ")");
    }

    /**
     * The {@code _class_name} of a model's {@code model_index.json}, read without loading any
     * weights (a one-file model's header only): what {@link Euterpe#load} dispatches on.
     */
    public static String pipelineClass(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "model not found");
        }
        String index;
        if (Files.isDirectory(path)) {
            Path f = path.resolve("model_index.json");
            if (!Files.isRegularFile(f)) {
                throw new ModelLoadException(path + " is not a diffusers pipeline folder (no model_index.json)");
            }
            index = Files.readString(f);
        } else {
            try (SafetensorsFile file = AudioModel.openOneFile(path)) {
                index = file.metadata().get("model_index.json");
            }
            if (index == null) {
                throw new ModelLoadException(path + ": the model has no model_index.json in its metadata");
            }
        }
        try {
            return new JsonObject(Json.parseLenient(index), path + ": model_index.json").getString("_class_name");
        } catch (JsonException e) {
            throw new ModelLoadException(path + ": model_index.json: " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    /** "one file (f16)" or "folder converted in memory (...)", for logs. */
    public String kind() {
        return kind;
    }

    public WeightSource tensors() {
        return tensors;
    }

    /** The text file {@code key} ({@code "unet/config.json"}), failing with a clear message when absent. */
    public String text(String key) {
        String t = metadata.get(key);
        if (t == null) {
            throw new ModelLoadException(path + ": the model has no " + key);
        }
        return t;
    }

    public JsonObject json(String key) {
        return new JsonObject(Json.parseLenient(text(key)), path + ": " + key);
    }

    /** The weights and config of {@code component}. */
    public ComponentFiles component(String component) {
        if (dtypes(component).isEmpty()) {
            throw new ModelLoadException(path + ": no weights for component " + component + " (expected " + component
                    + "/diffusion_pytorch_model.safetensors, model.safetensors or a .bin)");
        }
        String config = component + "/config.json";
        return ComponentFiles.of(component, text(config), path + ": " + config, tensors, component + ".");
    }

    /** The dtypes of {@code component}'s tensors. */
    public Set<DType> dtypes(String component) {
        Set<DType> d = EnumSet.noneOf(DType.class);
        tensors.names().stream().filter(n -> n.startsWith(component + ".")).forEach(n -> d.add(tensors.entry(n).dtype()));
        return Collections.unmodifiableSet(d);
    }

    @Override
    public void close() {
        try {
            owner.close();
        } catch (Exception ignored) {
            // closing a mapping cannot usefully fail
        }
    }
}
