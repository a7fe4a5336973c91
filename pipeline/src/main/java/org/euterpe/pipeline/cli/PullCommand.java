package org.euterpe.pipeline.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;

import org.euterpe.pipeline.hub.HubClient;
import org.euterpe.pipeline.hub.HubException;
import org.euterpe.pipeline.hub.HubSettings;
import org.euterpe.pipeline.hub.ModelResolver;
import org.euterpe.pipeline.hub.RepoId;

/** {@code euterpe pull ORG/NAME[@REVISION]}: a diffusers repository from the Hugging Face hub into the shared cache. */
final class PullCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe pull ORG/NAME[@REVISION] [options]",
            "",
            "Downloads the files of a diffusers repository that the engine needs (configs, tokenizer, one",
            "weights file per component: safetensors before .bin; no .ckpt duplicates or other precisions)",
            "into the Hugging Face cache, where the Python tools find them too, and prints the snapshot folder.",
            "Partial downloads resume; every file's size and SHA-256 (or git blob id) is checked.",
            "",
            "  --convert            also write the one-file model beside the snapshot (later --model ORG/NAME",
            "                       loads use it)",
            "",
            "environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (gated/private repositories),",
            "             HF_HOME or HF_HUB_CACHE (default ~/.cache/huggingface/hub), HF_HUB_OFFLINE=1");

    private PullCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        return run(argv, out, err, HubSettings.fromEnvironment());
    }

    static int run(String[] argv, PrintStream out, PrintStream err, HubSettings settings) throws Exception {
        Args a = new Args(argv, Set.of(), Set.of("--convert", "--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (a.positional().size() != 1) {
            throw new Main.UsageException("give one repository, e.g. cvssp/audioldm-s-full-v2; see --help");
        }
        RepoId id;
        try {
            id = RepoId.parse(a.positional().get(0));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        boolean terminal = System.console() != null && System.console().isTerminal();
        DownloadProgress progress = new DownloadProgress(err, terminal);
        long t0 = System.nanoTime();
        try {
            Path snapshot = new HubClient(settings, progress).pull(id);
            err.printf(java.util.Locale.ROOT, "pulled %s: %s downloaded in %.1f s%n", id,
                    ConvertCommand.size(progress.downloaded()), (System.nanoTime() - t0) / 1e9);
            Path model = a.has("--convert")
                    ? ModelResolver.resolve(id.toString(), true, settings, progress, msg -> err.println("note: " + msg))
                    : snapshot;
            out.println(model);
            return 0;
        } catch (HubException e) {
            err.println("euterpe pull: " + e.getMessage());
            return switch (e.kind()) {
                case UNAUTHORIZED, NOT_FOUND, UNSUPPORTED, NOT_CACHED -> 2;
                default -> 1;
            };
        }
    }
}
