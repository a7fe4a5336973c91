package org.euterpe.nn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.json.Json;
import org.euterpe.tensor.json.JsonObject;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * One component of a pipeline ({@code unet}, {@code vae}, ...): its config and its weights. Either
 * a diffusers component folder, whose mapped weights file it owns (closing it unmaps them), or a
 * component inside a larger source (a one-file model, a folder converted in memory) read under a
 * key prefix such as {@code "unet."}, which its owner closes.
 */
public final class ComponentFiles implements AutoCloseable {
    /** Weight file names diffusers and transformers write, in the order they are looked for. */
    private static final List<String> WEIGHT_FILES = List.of(
            "diffusion_pytorch_model.safetensors", "model.safetensors");

    private final String component;
    private final Config config;
    private final WeightSource source;
    private final String prefix;
    private final SafetensorsFile owned; // the mapped file of a component folder; null when the owner closes it

    private ComponentFiles(String component, Config config, WeightSource source, String prefix, SafetensorsFile owned) {
        this.component = component;
        this.config = config;
        this.source = source;
        this.prefix = prefix;
        this.owned = owned;
    }

    /**
     * A component inside {@code source}: its tensors are the keys starting with {@code prefix}
     * (e.g. {@code "unet."}), its config the text of its {@code config.json}. The caller keeps
     * {@code source} open while the model is used and closes it.
     *
     * @param configContext where the config text came from, for messages
     */
    public static ComponentFiles of(String component, String configJson, String configContext, WeightSource source,
            String prefix) {
        return new ComponentFiles(component, parseConfig(configJson, configContext), source, prefix, null);
    }

    /** Opens {@code pipelineDir/component/config.json} and its safetensors weights. */
    public static ComponentFiles open(Path pipelineDir, String component) throws IOException {
        Path dir = pipelineDir.resolve(component);
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException("no component folder " + dir);
        }
        Config config = readConfig(dir.resolve("config.json"));
        for (String name : WEIGHT_FILES) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                SafetensorsFile file = SafetensorsFile.open(p);
                return new ComponentFiles(component, config, WeightSource.of(file), "", file);
            }
        }
        throw new ModelLoadException("no weights in " + dir + " (looked for " + WEIGHT_FILES
                + "; convert .bin checkpoints with `euterpe convert`)");
    }

    /** Parses a config.json strictly (see {@link Config}). */
    public static Config readConfig(Path configJson) throws IOException {
        if (!Files.isRegularFile(configJson)) {
            throw new ModelLoadException("missing config " + configJson);
        }
        return parseConfig(Files.readString(configJson), configJson.toString());
    }

    /** Parses config text strictly (see {@link Config}); {@code context} names it in messages. */
    public static Config parseConfig(String configJson, String context) {
        return new Config(new JsonObject(Json.parseLenient(configJson, context), context));
    }

    public String component() {
        return component;
    }

    public Config config() {
        return config;
    }

    /** The tensors, of which this component's are those under {@link #prefix()}. */
    public WeightSource source() {
        return source;
    }

    public String prefix() {
        return prefix;
    }

    /** The component's weights on {@code backend}. */
    public Weights weights(Backend backend) {
        return Weights.of(backend, source, prefix, component);
    }

    /** Unmaps the weights file of a component folder; a component of a larger source leaves it open. */
    @Override
    public void close() {
        if (owned != null) {
            owned.close();
        }
    }
}
