package org.euterpe.pipeline.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.euterpe.pipeline.Euterpe;
import org.euterpe.pipeline.GenerationRequest;
import org.euterpe.pipeline.GenerationResult;
import org.euterpe.pipeline.ProgressListener;
import org.euterpe.pipeline.TextToAudioPipeline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HubClient} and {@link ModelResolver} against {@link MockHub} on loopback: no test reaches the internet. */
class HubClientTest {
    static final Path TINY = Path.of("src/test/conformance/tiny-audioldm");
    static final String REPO = "euterpe-test/tiny-audioldm";
    static final List<String> NEEDED = List.of("model_index.json", "scheduler/scheduler_config.json",
            "text_encoder/config.json", "text_encoder/model.safetensors", "tokenizer/merges.txt",
            "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json", "tokenizer/vocab.json",
            "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "vae/config.json",
            "vae/diffusion_pytorch_model.safetensors", "vocoder/config.json", "vocoder/model.safetensors");

    @TempDir
    Path tmp;
    MockHub hub;
    final List<String> notes = Collections.synchronizedList(new ArrayList<>());
    final DownloadListener listener = new DownloadListener() {
        @Override
        public void note(String message) {
            notes.add(message);
        }
    };

    @BeforeEach
    void startHub() throws IOException {
        hub = new MockHub(REPO, TINY);
        // What a real diffusers repository also holds, none of which the engine needs.
        hub.put("README.md", "# tiny\n".getBytes(StandardCharsets.UTF_8));
        hub.put(".gitattributes", "*.bin filter=lfs\n".getBytes(StandardCharsets.UTF_8));
        hub.put("tiny-audioldm.ckpt", new byte[1000]);
        hub.put("unet/diffusion_pytorch_model.fp16.safetensors", new byte[500]);
        hub.put("vae/diffusion_pytorch_model.bin", new byte[700]);
        hub.put("unet/diffusion_flax_model.msgpack", new byte[300]);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    HubSettings settings() {
        return HubSettings.from(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HOME", tmp.resolve("hf").toString()), tmp)
                .withRetries(3, Duration.ofMillis(5));
    }

    HubClient client(HubSettings s) {
        return new HubClient(s, listener);
    }

    @Test
    void pullsOnlyWhatTheEngineNeedsIntoTheSharedCacheLayout() throws Exception {
        Path snap = client(settings()).pull(RepoId.parse(REPO));
        Path repoDir = tmp.resolve("hf/hub/models--euterpe-test--tiny-audioldm");
        assertEquals(repoDir.resolve("snapshots").resolve(hub.commit), snap);
        assertEquals(hub.commit, Files.readString(repoDir.resolve("refs/main")));
        assertEquals(new TreeSet<>(NEEDED), new TreeSet<>(hub.resolved()), "files fetched");
        for (String f : NEEDED) {
            Path link = snap.resolve(f);
            assertTrue(Files.isSymbolicLink(link), f + " is a symlink into blobs/");
            Path target = link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
            assertEquals(repoDir.resolve("blobs"), target.getParent(), f);
            assertArrayEquals(hub.data(f), Files.readAllBytes(link), f);
        }
        assertEquals(hub.sha256("unet/diffusion_pytorch_model.safetensors"),
                Files.readSymbolicLink(snap.resolve("unet/diffusion_pytorch_model.safetensors")).getFileName().toString(),
                "an LFS blob is named by its SHA-256, as huggingface_hub names it");
        try (Stream<Path> s = Files.list(repoDir.resolve("blobs"))) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(".incomplete")), "no partial files left");
        }
        // The LFS files came through the CDN redirect, on another host name: no token sent there.
        assertEquals(4, hub.cdnRequests().size(), "the four weights files");
        // The pulled snapshot is a model the engine loads and runs.
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(snap, Euterpe.Options.defaults().withDevice("cpu"))) {
            GenerationResult r = pipe.generate(GenerationRequest.builder("hub").seconds(0.064).steps(1).seed(3).build(),
                    ProgressListener.NONE);
            assertTrue(r.waveforms()[0].length > 0);
        }

        // A second pull finds everything in the cache: one API call, no file transfers.
        hub.requests.clear();
        assertEquals(snap, client(settings()).pull(RepoId.parse(REPO)));
        assertEquals(List.of(), hub.resolved());
        assertEquals(1, hub.requests.size());
    }

    @Test
    void resumesATransferThatBrokeOff() throws Exception {
        String f = "unet/diffusion_pytorch_model.safetensors";
        hub.interruptOnce.add(f);
        Path snap = client(settings()).pull(RepoId.parse(REPO));
        assertArrayEquals(hub.data(f), Files.readAllBytes(snap.resolve(f)));
        List<MockHub.Request> cdn = hub.cdnRequests().stream()
                .filter(r -> r.path().endsWith(hub.sha256(f))).toList();
        assertEquals(2, cdn.size(), "one broken transfer, one resumed");
        assertNull(cdn.get(0).range());
        // Resumed from what had arrived: more than nothing, at most the half the server sent (the client may
        // lose what was in flight when the connection dropped).
        String range = cdn.get(1).range();
        long from = Long.parseLong(range.substring("bytes=".length(), range.length() - 1));
        assertTrue(from > 0 && from <= hub.data(f).length / 2, range);
        assertTrue(notes.stream().anyMatch(n -> n.contains("broke off")), notes.toString());
    }

    @Test
    void aTransferThatStallsIsResumed() throws Exception {
        String f = "text_encoder/model.safetensors";
        hub.stallOnce.add(f);
        Path snap = client(settings().withStall(Duration.ofMillis(400))).pull(RepoId.parse(REPO));
        assertArrayEquals(hub.data(f), Files.readAllBytes(snap.resolve(f)));
        assertTrue(notes.stream().anyMatch(n -> n.contains("stalled")), notes.toString());
        assertTrue(hub.cdnRequests().stream().anyMatch(r -> ("bytes=" + hub.data(f).length / 2 + "-").equals(r.range())));
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void resumesAPartialFileLeftByAnEarlierRun() throws Exception {
        String f = "vae/diffusion_pytorch_model.safetensors";
        HubCache cache = new HubCache(settings().cache());
        RepoId id = RepoId.parse(REPO);
        Path part = cache.incomplete(id, hub.sha256(f));
        Files.createDirectories(part.getParent());
        byte[] data = hub.data(f);
        Files.write(part, java.util.Arrays.copyOf(data, 1000));
        Path snap = client(settings()).pull(id);
        assertArrayEquals(data, Files.readAllBytes(snap.resolve(f)));
        assertTrue(hub.cdnRequests().stream().anyMatch(r -> "bytes=1000-".equals(r.range())));
        assertFalse(Files.exists(part));
    }

    @Test
    void aServerThatIgnoresRangeGetsTheWholeFileWrittenFromTheStart() throws Exception {
        hub.ignoreRange = true;
        String f = "vae/diffusion_pytorch_model.safetensors";
        RepoId id = RepoId.parse(REPO);
        Path part = new HubCache(settings().cache()).incomplete(id, hub.sha256(f));
        Files.createDirectories(part.getParent());
        Files.write(part, new byte[1000]); // a partial file whose bytes would be wrong if appended to
        Path snap = client(settings()).pull(id);
        assertArrayEquals(hub.data(f), Files.readAllBytes(snap.resolve(f)));
    }

    @Test
    void reusesBlobsThePythonToolsDownloaded() throws Exception {
        String f = "unet/diffusion_pytorch_model.safetensors";
        HubCache cache = new HubCache(settings().cache());
        RepoId id = RepoId.parse(REPO);
        Path blob = cache.blob(id, hub.sha256(f));
        Files.createDirectories(blob.getParent());
        Files.write(blob, hub.data(f));
        client(settings()).pull(id);
        assertFalse(hub.resolved().contains(f), "a blob already in the cache is not downloaded again");
    }

    @Test
    void refusesACorruptedFileAndKeepsNothingOfIt() throws Exception {
        String f = "vae/diffusion_pytorch_model.safetensors";
        hub.corrupt.add(f);
        RepoId id = RepoId.parse(REPO);
        HubException e = assertThrows(HubException.class, () -> client(settings()).pull(id));
        assertEquals(HubException.Kind.CORRUPT, e.kind());
        assertTrue(e.getMessage().contains(f) && e.getMessage().contains("SHA-256")
                && e.getMessage().contains(hub.sha256(f)), e.getMessage());
        HubCache cache = new HubCache(settings().cache());
        assertFalse(Files.exists(cache.blob(id, hub.sha256(f))));
        assertFalse(Files.exists(cache.incomplete(id, hub.sha256(f))));
        assertFalse(Files.exists(cache.snapshotFile(id, hub.commit, f)));
        assertTrue(client(settings()).cached(id).isEmpty(), "an incomplete snapshot is not offered as a model");
    }

    @Test
    void gatedRepositoryExplainsTheTokenAndSendsItOnlyToTheHub() throws Exception {
        hub.gatedToken = "hf_secret";
        RepoId id = RepoId.parse(REPO);
        HubException none = assertThrows(HubException.class, () -> client(settings()).pull(id));
        assertEquals(HubException.Kind.UNAUTHORIZED, none.kind());
        assertTrue(none.getMessage().contains("401") && none.getMessage().contains("HF_TOKEN")
                && none.getMessage().contains("licence"), none.getMessage());
        HubException wrong = assertThrows(HubException.class, () -> client(settings().withToken("hf_wrong")).pull(id));
        assertTrue(wrong.getMessage().contains("403"), wrong.getMessage());

        hub.requests.clear();
        client(settings().withToken("hf_secret")).pull(id);
        for (MockHub.Request r : hub.requests) {
            if (r.path().startsWith("/cdn/")) {
                assertNull(r.authorization(), "the token must not follow a redirect to another host");
            } else {
                assertEquals("Bearer hf_secret", r.authorization(), r.path());
            }
        }
    }

    @Test
    void unknownRepositoryOrRevisionIsNotFound() {
        HubException repo = assertThrows(HubException.class, () -> client(settings()).pull(RepoId.parse("nobody/none")));
        assertEquals(HubException.Kind.NOT_FOUND, repo.kind());
        assertTrue(repo.getMessage().contains("Repository not found"), repo.getMessage());
        HubException rev = assertThrows(HubException.class,
                () -> client(settings()).pull(RepoId.parse(REPO + "@no-such-branch")));
        assertEquals(HubException.Kind.NOT_FOUND, rev.kind());
    }

    @Test
    void retriesServerErrorsThenGivesUpWithAClearError() throws Exception {
        hub.apiFailures.set(2);
        client(settings()).pull(RepoId.parse(REPO));
        assertEquals(2, notes.stream().filter(n -> n.contains("503") && n.contains("retry")).count(), notes.toString());

        hub.apiFailures.set(100);
        HubException e = assertThrows(HubException.class, () -> client(settings()).info(RepoId.parse(REPO)));
        assertEquals(HubException.Kind.NETWORK, e.kind());
        assertTrue(e.getMessage().contains("after 4 attempts"), e.getMessage());
    }

    @Test
    void noNetworkOrOfflineUsesTheCacheOrSaysWhatIsMissing() throws Exception {
        RepoId id = RepoId.parse(REPO);
        HubSettings offline = settings().withOffline(true);
        HubException missing = assertThrows(HubException.class, () -> client(offline).pull(id));
        assertEquals(HubException.Kind.NOT_CACHED, missing.kind());
        assertTrue(missing.getMessage().contains("HF_HUB_OFFLINE") && missing.getMessage().contains("euterpe pull"),
                missing.getMessage());
        assertEquals(List.of(), hub.requests, "offline: no request at all");

        Path snap = client(settings()).pull(id);
        hub.requests.clear();
        assertEquals(snap, client(offline).pull(id));
        assertEquals(List.of(), hub.requests);

        // The hub unreachable (nothing listens): the cached snapshot, with a note.
        hub.close();
        HubSettings down = settings().withRetries(1, Duration.ofMillis(1));
        assertEquals(snap, client(down).pull(id));
        assertTrue(notes.stream().anyMatch(n -> n.contains("cannot be reached")), notes.toString());
        HubException unreachable = assertThrows(HubException.class,
                () -> client(down).pull(RepoId.parse("other/model")));
        assertEquals(HubException.Kind.NETWORK, unreachable.kind());
    }

    @Test
    void offlineWithAnIncompleteSnapshotNamesTheMissingFiles() throws Exception {
        RepoId id = RepoId.parse(REPO);
        Path snap = client(settings()).pull(id);
        Files.delete(snap.resolve("vocoder/model.safetensors"));
        HubException e = assertThrows(HubException.class, () -> client(settings().withOffline(true)).pull(id));
        assertTrue(e.getMessage().contains("vocoder/"), e.getMessage());
    }

    @Test
    void modelResolverPullsOnceThenLoadsFromTheCache() throws Exception {
        List<String> log = new ArrayList<>();
        Path first = ModelResolver.resolve(REPO, false, settings(), listener, log::add);
        assertTrue(log.getFirst().contains("not in the cache"), log.toString());
        hub.close(); // from now on, no network
        log.clear();
        assertEquals(first, ModelResolver.resolve(REPO, false, settings(), listener, log::add));
        assertEquals(List.of(), log);
        // --convert: a one-file model beside the snapshot, used from then on.
        Path converted = ModelResolver.resolve(REPO, true, settings(), listener, log::add);
        assertTrue(converted.toString().endsWith(hub.commit + ".safetensors") && Files.isRegularFile(converted));
        assertFalse(converted.startsWith(first.getParent()), "not inside snapshots/, which the Python tools scan");
        assertEquals(converted, ModelResolver.resolve(REPO, false, settings(), listener, log::add));
        try (TextToAudioPipeline pipe = Euterpe.loadTextToAudio(converted, Euterpe.Options.defaults().withDevice("cpu"))) {
            assertNotNull(pipe.model());
        }
        // An existing path wins over a repository id; a name that is neither is a clear error.
        assertEquals(TINY, ModelResolver.resolve(TINY.toString(), false, settings(), listener, log::add));
        assertThrows(IllegalArgumentException.class,
                () -> ModelResolver.resolve("no/such/path", false, settings(), listener, log::add));
    }

    @Test
    void fileSelectionPrefersSafetensorsAndRefusesComponentsWithoutReadableWeights() {
        String index = "{\"_class_name\":\"AudioLDMPipeline\",\"unet\":[\"diffusers\",\"UNet2DConditionModel\"],"
                + "\"scheduler\":[\"diffusers\",\"DDIMScheduler\"],\"safety_checker\":[null,null]}";
        List<HubFile> listing = List.of(file("model_index.json"), file("scheduler/scheduler_config.json"),
                file("unet/config.json"), file("unet/diffusion_pytorch_model.bin"),
                file("unet/diffusion_pytorch_model.fp16.safetensors"), file("unet/model.onnx"),
                file("unet/diffusion_pytorch_model.safetensors.index.json"));
        assertEquals(List.of("model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.bin",
                "scheduler/scheduler_config.json"), FileSelection.select(listing, index).stream().map(HubFile::path)
                .toList(), ".bin when there is no full-precision safetensors; never fp16 or ONNX");
        List<HubFile> onlyFp16 = List.of(file("model_index.json"), file("scheduler/scheduler_config.json"),
                file("unet/config.json"), file("unet/diffusion_pytorch_model.fp16.safetensors"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FileSelection.select(onlyFp16, index));
        assertTrue(e.getMessage().contains("unet") && e.getMessage().contains("fp16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FileSelection.components("{\"..\":[\"a\",\"b\"]}"));
    }

    @Test
    void repositoryIdsAreCheckedBeforeTheyBecomePaths() {
        assertEquals(new RepoId("cvssp/audioldm-s-full-v2", "main"), RepoId.parse("cvssp/audioldm-s-full-v2"));
        assertEquals("v1.0", RepoId.parse("a/b@v1.0").revision());
        for (String bad : List.of("a", "a/b/c", "../b", "a/..", "a/b@", "a/b@../x", "/a/b", "a b/c", "a/b@x/")) {
            assertThrows(IllegalArgumentException.class, () -> RepoId.parse(bad), bad);
        }
        HubCache cache = new HubCache(tmp);
        assertThrows(IllegalArgumentException.class,
                () -> cache.snapshotFile(RepoId.parse("a/b"), "0".repeat(40), "../../../etc/passwd"));
    }

    private static HubFile file(String path) {
        return new HubFile(path, 1, "0".repeat(40), null);
    }

    static Set<String> listTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return new TreeSet<>(s.map(p -> dir.relativize(p).toString()).toList());
        }
    }
}
