package org.euterpe.pipeline.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import org.euterpe.pipeline.BundledModel;
import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.WeightResidency;
import org.euterpe.pipeline.server.ApiServer;
import org.euterpe.pipeline.server.JobManager;
import org.euterpe.pipeline.server.Limits;
import org.euterpe.pipeline.server.Metrics;
import org.euterpe.pipeline.server.PipelineEngine;

/** {@code euterpe serve}: the HTTP API (see the README's "Serving" section and {@code docs/openapi.yaml}). */
final class ServeCommand {
    static final String HELP = String.join("\n",
            "usage: euterpe serve [options]",
            "",
            ModelArg.HELP,
            "  --device D           auto|cpu|scalar|opencl[:N]|cuda[:N] (default auto)",
            "  --keep-weights       keep every stage's weights resident between generations",
            "  --host H             address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)",
            "  --port P             port (default 8080; 0 picks a free one)",
            "  --workers N          generations at once, one loaded pipeline each (default 1)",
            "  --queue Q            jobs that may wait for a worker; beyond it, 429 + Retry-After (default 32)",
            "  --max-seconds S      longest audio a request may ask for (default 60)",
            "  --max-steps N        most denoising steps (default 500)",
            "  --max-count N        most waveforms per request (default 4)",
            "  --max-prompt N       longest prompt, characters (default 2000)",
            "  --max-body BYTES     largest JSON request body (default 65536)",
            "  --max-upload BYTES   largest multipart body of /v1/audio/variations, audio included (default 33554432)",
            "  --keep-jobs N        finished jobs kept with their audio (default 256; the oldest are dropped)",
            "  --keep-minutes M     how long a finished job is kept (default 15)",
            "  --grace S            on SIGTERM: seconds for queued and running jobs to finish before they are",
            "                       cancelled (default 30)",
            "  --api-key KEY        require Authorization: Bearer KEY on every route but /healthz and /readyz",
            "                       (or set EUTERPE_API_KEY, which keeps the key out of the process list)");

    private ServeCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(argv, Set.of("--model", "--device", "--host", "--port", "--workers", "--queue",
                "--max-seconds", "--max-steps", "--max-count", "--max-prompt", "--max-body", "--max-upload", "--keep-jobs",
                "--keep-minutes", "--grace", "--api-key"), Set.of("--keep-weights", "--convert", "--help", "-h"));
        if (a.has("--help") || a.has("-h")) {
            out.println(HELP);
            return 0;
        }
        if (!a.positional().isEmpty()) {
            throw new Main.UsageException("serve takes no positional arguments (got " + a.positional() + ")");
        }
        Limits d = Limits.defaults();
        Limits limits;
        int workers = positive(a, "--workers", 1);
        int port = a.has("--port") ? a.intOpt("--port") : 8080;
        if (port < 0 || port > 65535) {
            throw new Main.UsageException("--port must be between 0 and 65535, got " + port);
        }
        try {
            limits = new Limits(positive(a, "--max-body", d.maxBodyBytes()), positive(a, "--max-prompt",
                    d.maxPromptChars()), a.has("--max-seconds") ? a.doubleOpt("--max-seconds") : d.maxSeconds(),
                    positive(a, "--max-steps", d.maxSteps()), positive(a, "--max-count", d.maxCount()),
                    positive(a, "--queue", d.queue()), positive(a, "--keep-jobs", d.keepJobs()),
                    a.has("--keep-minutes") ? Duration.ofSeconds(Math.round(a.doubleOpt("--keep-minutes") * 60))
                            : d.keepFor(),
                    a.has("--grace") ? Duration.ofMillis(Math.round(a.doubleOpt("--grace") * 1000)) : d.grace(),
                    positive(a, "--max-upload", d.maxUploadBytes()));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        String key = a.get("--api-key", System.getenv("EUTERPE_API_KEY"));
        Path model = a.has("--model") ? ModelArg.resolve(a.get("--model", null), a.has("--convert"), err) : null;
        String name = a.has("--model") ? a.get("--model", null) : BundledModel.NAME;
        if (model == null) {
            err.println("note: serving the bundled " + BundledModel.NAME + ": it produces noise, not music");
        }
        Euterpe.Options opts = Euterpe.Options.defaults().withDevice(a.get("--device", "auto"))
                .withLog(msg -> err.println("note: " + msg))
                .withResidency(a.has("--keep-weights") ? WeightResidency.KEEP : WeightResidency.DEFAULT);
        Metrics metrics = new Metrics();
        JobManager jobs = new JobManager(w -> PipelineEngine.load(model, name, opts), workers, limits, metrics,
                msg -> err.println("note: " + msg));
        ApiServer server = new ApiServer(jobs, key, msg -> err.println("note: " + msg));
        CountDownLatch stop = new CountDownLatch(1);
        onSignals(stop);
        server.start(a.get("--host", "127.0.0.1"), port);
        jobs.start();
        err.println("listening on http://" + a.get("--host", "127.0.0.1") + ":" + server.port() + " (" + workers
                + " worker" + (workers == 1 ? "" : "s") + ", queue " + limits.queue() + (key != null ? ", API key on"
                : "") + "); loading the model");
        String loadError = jobs.awaitLoaded(Duration.ofHours(1));
        if (loadError != null) {
            server.stop(Duration.ZERO);
            throw new IllegalStateException(loadError);
        }
        err.println("ready: " + jobs.description());
        stop.await();
        err.println("stopping: no new jobs; waiting up to " + limits.grace().toSeconds() + " s for running ones");
        server.stop(limits.grace());
        err.println("stopped");
        return 0;
    }

    /** SIGTERM (Kubernetes, docker stop) and SIGINT (Ctrl-C) start a graceful stop instead of killing the JVM. */
    @SuppressWarnings("restriction")
    private static void onSignals(CountDownLatch stop) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> stop.countDown());
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // not on this platform: the JVM's default handling stays
            }
        }
    }

    private static int positive(Args a, String name, int dflt) {
        if (!a.has(name)) {
            return dflt;
        }
        int v = a.intOpt(name);
        if (v < 1) {
            throw new Main.UsageException(name + " must be at least 1, got " + v);
        }
        return v;
    }
}
