package org.euterpe.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.function.UnaryOperator;

import org.euterpe.kernels.OpHarness.OpCase;
import org.euterpe.tensor.Backend;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.UnaryOp;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** The harness itself: it must pass the reference against itself and catch a wrong backend. */
class OpHarnessTest {
    private static final Backend REF = Backends.scalar();

    /** The scalar backend with {@code op}'s results changed by {@code edit}. */
    private static Backend tampered(String op, UnaryOperator<Tensor> edit) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, m, args) -> {
                    Object r;
                    try {
                        r = m.invoke(REF, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    return m.getName().equals(op) ? edit.apply((Tensor) r) : r;
                });
    }

    private static OpCase find(String op) {
        return OpCases.all().stream().filter(c -> c.op().equals(op)).findFirst().orElseThrow();
    }

    @Test
    void referenceMatchesItselfExactly() {
        for (OpCase c : OpCases.all()) {
            assertEquals(0.0, OpHarness.assertMatches(REF, REF, c).maxAbs(), c.toString());
        }
    }

    @Test
    void smallErrorBeyondToleranceFails() {
        Backend off = tampered("softmax", t -> t.mul(1 + 1e-4f));
        assertThrows(AssertionFailedError.class, () -> OpHarness.assertMatches(REF, off, find("softmax")));
    }

    @Test
    void copyThatIsNotExactFails() {
        Backend off = tampered("permute", t -> t.add(1e-6f));
        assertThrows(AssertionFailedError.class, () -> OpHarness.assertMatches(REF, off, find("permute")));
    }

    @Test
    void wrongShapeFails() {
        Backend off = tampered("linear", t -> t.reshape(-1));
        assertThrows(AssertionFailedError.class, () -> OpHarness.assertMatches(REF, off, find("linear")));
    }

    @Test
    void nanFails() {
        Backend off = tampered("unary", t -> t.mul(Float.NaN));
        assertThrows(AssertionFailedError.class, () -> OpHarness.assertMatches(REF, off, find("unary")));
    }

    @Test
    void unsupportedOpFails() {
        Backend off = tampered("attention", t -> {
            throw new UnsupportedOperationException("not written");
        });
        assertThrows(UnsupportedOperationException.class, () -> OpHarness.assertMatches(REF, off, find("attention")));
    }

    @Test
    void acceptingInvalidInputFails() {
        OpHarness.Reject r = new OpHarness.Reject("unary", "valid input",
                g -> g.backend().unary(UnaryOp.RELU, g.randn(3), 0f));
        assertThrows(AssertionFailedError.class, () -> OpHarness.assertRejects(REF, r));
    }

    @Test
    void absentBackendIsSkippedWithItsReason() {
        Backends.Probe absent = new Backends.Probe("opencl", null, "no OpenCL platform");
        TestAbortedException e = assertThrows(TestAbortedException.class, () -> OpHarness.require(absent));
        assertEquals(true, e.getMessage().contains("no OpenCL platform"), e.getMessage());
    }
}
