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
 * One component folder of a diffusers pipeline ({@code unet/}, {@code vae/}, ...): its config
 * and its mapped weights. Closing it unmaps the weights.
 */
public final class ComponentFiles implements AutoCloseable {
    /** Weight file names diffusers and transformers write, in the order they are looked for. */
    private static final List<String> WEIGHT_FILES = List.of(
            "diffusion_pytorch_model.safetensors", "model.safetensors");

    private final String component;
    private final Config config;
    private final SafetensorsFile file;

    private ComponentFiles(String component, Config config, SafetensorsFile file) {
        this.component = component;
        this.config = config;
        this.file = file;
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
                return new ComponentFiles(component, config, SafetensorsFile.open(p));
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
        String text = Files.readString(configJson);
        return new Config(new JsonObject(Json.parseLenient(text), configJson.toString()));
    }

    public String component() {
        return component;
    }

    public Config config() {
        return config;
    }

    public SafetensorsFile file() {
        return file;
    }

    /** The component's weights on {@code backend}. */
    public Weights weights(Backend backend) {
        return Weights.of(backend, file, "", component);
    }

    @Override
    public void close() {
        file.close();
    }
}
