package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.euterpe.pipeline.hub.HubSettings;
import org.euterpe.pipeline.hub.MockHub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code euterpe pull} and {@code generate --model ORG/NAME} against the loopback mock hub. */
class PullCommandTest {
    static final String REPO = "euterpe-test/tiny-audioldm";

    @TempDir
    Path tmp;
    MockHub hub;

    @BeforeEach
    void start() throws Exception {
        hub = new MockHub(REPO, Path.of("src/test/conformance/tiny-audioldm"));
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubSettings settings() {
        return HubSettings.from(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HOME", tmp.resolve("hf").toString()), tmp)
                .withRetries(1, Duration.ofMillis(5));
    }

    @Test
    void pullPrintsTheSnapshotAndProgress() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = PullCommand.run(new String[] {REPO}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), settings());
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, e);
        Path snap = Path.of(out.toString(StandardCharsets.UTF_8).strip());
        assertTrue(Files.isRegularFile(snap.resolve("model_index.json")));
        assertTrue(e.contains("fetched  unet/diffusion_pytorch_model.safetensors") && e.contains("pulled " + REPO), e);

        hub.gatedToken = "t";
        ByteArrayOutputStream err2 = new ByteArrayOutputStream();
        int gated = PullCommand.run(new String[] {REPO + "@main"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err2, true, StandardCharsets.UTF_8), settings().withCache(tmp.resolve("other")));
        assertEquals(2, gated);
        assertTrue(err2.toString(StandardCharsets.UTF_8).contains("HF_TOKEN"));
        assertThrows(Main.UsageException.class, () -> PullCommand.run(new String[] {"not-a-repo"}, System.out,
                System.err, settings()));
    }

    @Test
    void generateWithARepositoryIdPullsThenGenerates() throws Exception {
        Path wav = tmp.resolve("out.wav");
        List<String> lines = runCli(List.of("generate", "from the hub", "--model", REPO, "--seconds", "0.064",
                "--steps", "1", "--seed", "1", "--device", "cpu", "-o", wav.toString()), true);
        assertTrue(Files.size(wav) > 44, lines::toString);
        assertTrue(lines.stream().anyMatch(l -> l.contains("not in the cache")), lines::toString);
        // Offline now: the cache is enough.
        hub.close();
        Path wav2 = tmp.resolve("again.wav");
        List<String> again = runCli(List.of("generate", "from the cache", "--model", REPO, "--seconds", "0.064",
                "--steps", "1", "--seed", "1", "--device", "cpu", "-o", wav2.toString()), false);
        assertTrue(Files.size(wav2) > 44, again::toString);
        assertTrue(again.stream().noneMatch(l -> l.contains("not in the cache")), again::toString);
    }

    /** Runs the CLI in a child JVM with the mock hub's environment; fails unless it exits 0. */
    private List<String> runCli(List<String> args, boolean online) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("HF_ENDPOINT", hub.endpoint());
        pb.environment().put("HF_HOME", tmp.resolve("hf").toString());
        pb.environment().put("EUTERPE_CACHE", tmp.resolve("euterpe").toString());
        pb.environment().remove("HF_TOKEN");
        if (!online) {
            pb.environment().put("HF_HUB_OFFLINE", "1");
        }
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = in.readLine()) != null; ) {
                lines.add(l);
            }
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), lines::toString);
        return lines;
    }
}
