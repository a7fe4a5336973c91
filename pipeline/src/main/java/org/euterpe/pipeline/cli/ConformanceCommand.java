package org.euterpe.pipeline.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.euterpe.converter.Precision;
import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.conformance.ConformanceRunner;
import org.euterpe.pipeline.conformance.StableAudioConformanceRunner;
import org.euterpe.tensor.Backend;

/**
 * {@code euterpe conformance CASE_DIR [--device D] [--dtype T] [--only KINDS] [--model PATH]}:
 * replays a reference case and prints one line per record and a final "N passed, M failed".
 */
final class ConformanceCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe conformance CASE_DIR [options]",
            "",
            "  --device D       cpu|scalar|opencl[:N]|cuda[:N] (default cpu)",
            "  --dtype T        f32|f16|bf16|int8: convert the model folder to this weight precision in",
            "                   memory; below f32 each record is judged by its SNR against the float32",
            "                   reference (>= 40 dB for f16/bf16, >= 25 dB for int8) instead of the f32",
            "                   tolerances. bf16 keeps the VAE in f16, as convert does. Default: the",
            "                   weights as stored",
            "  --only KINDS     comma-separated: models,tokenizer,text,unet,vae,vocoder,runs (Stable Audio",
            "                   cases: tokenizer,text,dit,vae,scheduler,runs)",
            "  --model PATH     a model folder or one-file model to use instead of the folder the case names");

    private ConformanceCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(argv, Set.of("--device", "--dtype", "--only", "--model"), Set.of("--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (a.positional().size() != 1) {
            throw new Main.UsageException("give one case folder; see --help");
        }
        Path dir = Path.of(a.positional().get(0));
        if (!Files.isDirectory(dir)) {
            throw new Main.UsageException("no such case folder: " + dir);
        }
        Precision precision = Precision.AS_STORED;
        if (a.has("--dtype")) {
            try {
                precision = Precision.recommended(Precision.parseDType(a.get("--dtype", null)));
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException("--dtype: " + e.getMessage());
            }
        }
        Set<String> only = new LinkedHashSet<>();
        if (a.has("--only")) {
            only.addAll(List.of(a.get("--only", "").split(",")));
        }
        String device = a.get("--device", "cpu");
        Backends.Probe probe = Backends.probe(device);
        if (!probe.available()) {
            err.println("euterpe conformance: device " + device + " unavailable: " + probe.reason());
            return 1;
        }
        Backend backend = probe.backend();
        Path model = a.has("--model") ? ModelArg.resolve(a.get("--model", null), false, err) : null;
        if (model != null && a.has("--dtype") && Files.isRegularFile(model)) {
            throw new Main.UsageException("--dtype converts a model folder in memory; " + model
                    + " is a converted file, which keeps the precision it was converted with");
        }
        if (StableAudioConformanceRunner.isStableAudioCase(dir)) {
            StableAudioConformanceRunner sao;
            try {
                sao = new StableAudioConformanceRunner(dir, model, backend, precision, only, out);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
            out.println("case " + dir + " on " + backend.description());
            var results = sao.run();
            long passed = results.stream().filter(ConformanceRunner.Result::pass).count();
            out.println(passed + " passed, " + (results.size() - passed) + " failed");
            return passed == results.size() ? 0 : 1;
        }
        ConformanceRunner runner;
        try {
            runner = new ConformanceRunner(dir, model, backend, precision, only, out);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        out.println("case " + dir + " on " + backend.description());
        var results = runner.run();
        long passed = results.stream().filter(ConformanceRunner.Result::pass).count();
        long failed = results.size() - passed;
        out.println(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}
