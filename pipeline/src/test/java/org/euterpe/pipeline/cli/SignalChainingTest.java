package org.euterpe.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.euterpe.kernels.Backends;
import org.euterpe.pipeline.ChildJvm;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 1: {@code --device auto} used to load POCL during its OpenCL probe, and POCL's
 * LLVM replaced the JVM's SIGSEGV/SIGBUS/SIGILL/SIGFPE handlers, so about 2 runs in 75 died with
 * exit 139 and no message. {@code -Xcheck:jni} makes the JVM check its handlers periodically and
 * print "handler modified" when one was replaced; these tests fail on that line.
 *
 * <p>They need an OpenCL platform whose driver replaces handlers (POCL, which CI installs) and the
 * JDK's {@code libjsig.so}; without them they are skipped with the reason.
 */
class SignalChainingTest {
    private static final String MODIFIED = "handler modified";
    /** Runs of the launcher's configuration; the check is deterministic, so a few suffice (-D to raise). */
    private static final int RUNS = Integer.getInteger("euterpe.signal.runs", 3);

    @TempDir
    Path tmp;

    @BeforeAll
    static void needsOpenClAndJsig() throws Exception {
        Assumptions.assumeTrue(ChildJvm.libjsig() != null, "SKIPPED: no libjsig.so in " + System.getProperty("java.home"));
        // Probed in a child, so this JVM never loads the driver itself.
        ChildJvm.Result r = ChildJvm.engine().run(SignalProbe.class, 120, "list");
        Assumptions.assumeTrue(r.out().contains("opencl available"),
                "SKIPPED: no OpenCL platform here (" + r.out().strip() + "), so nothing can replace the handlers");
    }

    /** The test can fail: loading OpenCL without chaining does replace the handlers (POCL here). */
    @Test
    void openClWithoutChainingReplacesTheJvmsHandlers() throws Exception {
        ChildJvm.Result r = ChildJvm.engine().flag("-Xcheck:jni").run(SignalProbe.class, 120, "opencl");
        Assumptions.assumeTrue(modified(r),
                "SKIPPED: this OpenCL driver installs no signal handlers, so there is nothing to chain: " + r.err());
        assertTrue(r.err().contains("warning: OpenCL is loaded without signal chaining"), r.err());
    }

    /** Without libjsig (an application's own JVM), auto no longer loads OpenCL, and says why. */
    @Test
    void autoWithoutChainingLeavesTheHandlersAlone() throws Exception {
        ChildJvm.Result r = ChildJvm.engine().flag("-Xcheck:jni").run(SignalProbe.class, 120, "auto");
        assertEquals(0, r.exit(), r.err());
        assertFalse(modified(r), r.out() + r.err());
        assertTrue(r.err().contains("opencl not probed: this JVM runs without signal chaining"), r.err());
    }

    /** With libjsig preloaded, as the launcher runs the engine, auto probes OpenCL and the handlers survive. */
    @Test
    void autoWithChainingProbesOpenClAndKeepsTheHandlers() throws Exception {
        for (int i = 0; i < RUNS; i++) {
            ChildJvm.Result r = ChildJvm.engine().flag("-Xcheck:jni").env("LD_PRELOAD", ChildJvm.libjsig().toString())
                    .run(SignalProbe.class, 120, "auto");
            assertEquals(0, r.exit(), r.err());
            assertFalse(modified(r), "run " + (i + 1) + ": " + r.out() + r.err());
            assertTrue(r.err().contains("opencl:gpu") || r.out().contains("OpenCL"), "OpenCL was probed: " + r.err());
        }
    }

    /** The whole default command, as the README gives it, under the launcher's chaining. */
    @Test
    void generateOnAutoKeepsTheHandlers() throws Exception {
        ChildJvm.Result r = ChildJvm.engine().flag("-Xcheck:jni").env("LD_PRELOAD", ChildJvm.libjsig().toString())
                .env("EUTERPE_CACHE", tmp.resolve("cache").toString())
                .run(Main.class, 300, "generate", "x", "--seconds", "0.25", "--steps", "2", "-o",
                        tmp.resolve("x.wav").toString());
        assertEquals(0, r.exit(), r.err());
        assertFalse(modified(r), r.out() + r.err());
        assertTrue(Files.isRegularFile(tmp.resolve("x.wav")));
    }

    /** The launcher preloads libjsig for every engine JVM it starts. */
    @Test
    void theLauncherPreloadsLibjsig() throws Exception {
        String launcher = Files.readString(org.euterpe.tensor.TestData.repoRoot().resolve("euterpe"));
        assertTrue(launcher.contains("JSIG=\"$JAVA_HOME/lib/libjsig.so\""), "launcher names libjsig");
        assertTrue(launcher.contains("export LD_PRELOAD=\"$JSIG"), "launcher preloads it");
    }

    /** HotSpot prints its "Warning: SIGSEGV handler modified!" lines on standard output. */
    private static boolean modified(ChildJvm.Result r) {
        return r.out().contains(MODIFIED) || r.err().contains(MODIFIED);
    }

    /** Opens a device in a child JVM and stays alive long enough for -Xcheck:jni's periodic check. */
    public static final class SignalProbe {
        public static void main(String[] args) throws Exception {
            if (args[0].equals("list")) {
                Backends.Probe p = Backends.probe("opencl");
                System.out.println(p.available() ? "opencl available" : "opencl unavailable: " + p.reason());
                return;
            }
            System.out.println("opened " + Backends.open(args[0], System.err::println, true).description());
            Thread.sleep(1500);
        }
    }
}
