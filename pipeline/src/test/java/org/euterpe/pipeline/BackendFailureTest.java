package org.euterpe.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

import org.euterpe.kernels.Backends;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * A backend that fails in the middle of a generation (a device lost, out of memory) must not disturb the
 * CPU backend a caller falls back to: after failures at several points of the run, the CPU gives
 * bit-for-bit the audio of a clean CPU run, and so does the failed pipeline itself once the device works
 * again.
 *
 * <p>The failing device is the shared CPU backend behind a proxy that throws on its N-th op, so any state
 * the two share (thread pools, scratch buffers, caches) is exposed to a run cut short at that op.
 */
class BackendFailureTest {
    /** Thrown by the proxy; a type of our own so the test knows the failure it sees is the injected one. */
    static final class InjectedDeviceFailure extends RuntimeException {
        InjectedDeviceFailure(long op, String method) {
            super("injected device failure at op " + op + " (" + method + ")");
        }
    }

    /**
     * Delegates every op to {@code delegate} and re-binds the resulting tensors to itself, so the model's
     * chained tensor ops ({@code x.linear(w).gelu()}) keep coming through it; throws on op number
     * {@code failAt} (counting from 1) while armed.
     */
    static final class FailingDevice implements InvocationHandler {
        final Backend delegate;
        final Backend proxy;
        long ops;
        long failAt = Long.MAX_VALUE;

        FailingDevice(Backend delegate) {
            this.delegate = delegate;
            this.proxy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                    this);
        }

        void arm(long failAtOp) {
            ops = 0;
            failAt = failAtOp;
        }

        @Override
        public Object invoke(Object self, Method m, Object[] args) throws Throwable {
            switch (m.getName()) {
                case "close": // the delegate is the shared CPU backend: never close it
                    return null;
                case "name", "description", "hashCode", "toString":
                    return m.invoke(delegate, args);
                case "equals":
                    return self == args[0];
                default:
                    break;
            }
            if (++ops == failAt) {
                throw new InjectedDeviceFailure(ops, m.getName());
            }
            Object r;
            try {
                r = m.invoke(delegate, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            return r instanceof Tensor t ? Tensor.borrowed(proxy, t.storage(), t.byteOffset(), t.shape(), t.dtype(),
                    t.scales()) : r;
        }
    }

    @Test
    void aDeviceFailingMidRunLeavesTheCpuResultsBitIdentical() throws Exception {
        // One step without guidance: every stage runs once.
        GenerationRequest r = GenerationRequest.builder("a device that fails").seconds(0.064).steps(1)
                .guidanceScale(1).seed(21).build();
        FailingDevice device = new FailingDevice(Backends.cpu());
        try (TextToAudioPipeline cpu = new TextToAudioPipeline(AudioModel.load(BundledModel.folder(),
                Backends.cpu()));
                TextToAudioPipeline failing = new TextToAudioPipeline(AudioModel.load(BundledModel.folder(),
                        device.proxy))) {
            GenerationResult clean = cpu.generate(r, ProgressListener.NONE);

            // Unarmed, the proxy is transparent; this run also counts the ops of one generation.
            device.arm(Long.MAX_VALUE);
            PipelineReliabilityTest.assertBitIdentical(clean, failing.generate(r, ProgressListener.NONE), "via the proxy");
            long total = device.ops;
            System.out.println("device ops in one generation: " + total);
            assertTrue(total > 100, "a generation runs many ops, counted " + total);

            // The first op (text encoder), two inside (UNet, VAE or vocoder), and the very last op.
            for (long failAt : new long[] {1, total / 3, 2 * total / 3, total}) {
                device.arm(failAt);
                RuntimeException e = assertThrows(RuntimeException.class,
                        () -> failing.generate(r, ProgressListener.NONE), "fail at op " + failAt);
                assertSame(InjectedDeviceFailure.class, rootCause(e).getClass(), () -> "fail at op " + failAt + ": " + e);
                assertEquals(failAt, device.ops, "nothing ran on the device after the failure");

                PipelineReliabilityTest.assertBitIdentical(clean, cpu.generate(r, ProgressListener.NONE),
                        "CPU after a device failure at op " + failAt + " of " + total);
            }
            device.arm(Long.MAX_VALUE);
            PipelineReliabilityTest.assertBitIdentical(clean, failing.generate(r, ProgressListener.NONE),
                    "the failed pipeline once its device works again");
        }
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
