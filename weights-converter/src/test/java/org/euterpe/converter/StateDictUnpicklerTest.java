package org.euterpe.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Refusals and limits of {@link StateDictUnpickler} on hand-built pickles. */
class StateDictUnpicklerTest {
    private static final Path FILE = Path.of("test.pkl");

    private static Object load(byte[] pickle) {
        return StateDictUnpickler.load(FILE, MemorySegment.ofArray(pickle));
    }

    private static UnsafePickleException refused(byte[] pickle) {
        return assertThrows(UnsafePickleException.class, () -> load(pickle));
    }

    @Test
    void readsATensorEntry() {
        Fixtures.Pickle p = new Fixtures.Pickle().beginStateDict();
        p.str("w").tensor("HalfStorage", "k", 70000, 65536, new long[] {2, 3}, new long[] {3, 1});
        Pickled.Dict d = assertInstanceOf(Pickled.Dict.class, load(p.endStateDict().bytes()));
        Pickled.TensorView t = assertInstanceOf(Pickled.TensorView.class, d.get("w"));
        assertEquals(new Pickled.Storage(org.euterpe.tensor.DType.F16, "k", "cpu", 70000), t.storage());
        assertEquals(65536, t.offset());
        assertEquals(List.of(2L, 3L), Arrays.stream(t.size()).boxed().toList());
        assertEquals(List.of(3L, 1L), Arrays.stream(t.stride()).boxed().toList());
    }

    @Test
    void refusesObjectBuildingOpcodesByName() {
        assertEquals("INST", refused(new Fixtures.Pickle().proto(2).op('(').op('i').bytes()).refused());
        assertEquals("NEWOBJ", refused(new Fixtures.Pickle().proto(2).op(0x81).bytes()).refused());
        assertEquals("OBJ", refused(new Fixtures.Pickle().proto(2).op('(').op('o').bytes()).refused());
        assertEquals("EXT1", refused(new Fixtures.Pickle().proto(2).op(0x82).op(1).bytes()).refused());
        UnsafePickleException e = refused(new Fixtures.Pickle().proto(2).op(0x99).bytes());
        assertEquals("unknown opcode 0x99", e.refused());
        assertEquals(2, e.offset());
    }

    @Test
    void refusesGlobalsOutsideTheAllowList() {
        assertEquals("torch.load", refused(new Fixtures.Pickle().proto(2).global("torch", "load").bytes()).refused());
        assertEquals("os.system", refused(new Fixtures.Pickle().proto(2).global("os", "system").bytes()).refused());
    }

    @Test
    void namesStorageTypesWithoutAnEngineDtype() {
        byte[] pickle = new Fixtures.Pickle().proto(2).global("torch", "DoubleStorage").bytes();
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(pickle));
        assertFalse(e instanceof UnsafePickleException);
        assertTrue(e.getMessage().contains("storage type torch.DoubleStorage is not supported"), e.getMessage());
    }

    @Test
    void refusesCallingAStorageClass() {
        byte[] pickle = new Fixtures.Pickle().proto(2).global("torch", "FloatStorage").op(')').op('R').bytes();
        UnsafePickleException e = refused(pickle);
        assertEquals("REDUCE", e.refused());
        assertTrue(e.getMessage().contains("torch.FloatStorage"), e.getMessage());
    }

    @Test
    void refusesBuildOnAnythingButAnOrderedDict() {
        byte[] pickle = new Fixtures.Pickle().proto(2).op('}').op('}').op('b').op('.').bytes();
        assertEquals("BUILD", refused(pickle).refused());
        byte[] ok = new Fixtures.Pickle().proto(2).global("collections", "OrderedDict").op(')').op('R')
                .op('}').str("_metadata").op('}').op('s').op('b').op('.').bytes();
        assertInstanceOf(Pickled.Dict.class, load(ok));
    }

    @Test
    void signExtendsLong1() {
        // LONG1 of one byte 0xff is -1: refused as a storage offset (were it read as 255 the view would just be out of range).
        Fixtures.Pickle p = new Fixtures.Pickle().beginStateDict().str("w");
        p.global("torch._utils", "_rebuild_tensor_v2").op('(');
        p.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).op('t').op('Q');
        p.op(0x8a).op(1).op(0xff);
        p.ints(4).ints(1).op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(p.endStateDict().bytes()));
        assertFalse(e instanceof UnsafePickleException);
        assertTrue(e.getMessage().contains("storage offset is not a non-negative int"), e.getMessage());
    }

    @Test
    void everyPrefixOfAStateDictPickleIsTruncated() {
        Fixtures.Pickle p = new Fixtures.Pickle().beginStateDict();
        p.str("w").tensor("FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {3, 1});
        byte[] whole = p.endStateDict().bytes();
        load(whole);
        for (int n = 0; n < whole.length; n++) {
            byte[] prefix = Arrays.copyOf(whole, n);
            CheckpointException e = assertThrows(CheckpointException.class, () -> load(prefix), "prefix " + n);
            assertTrue(e.getMessage().contains("truncated"), "prefix " + n + ": " + e.getMessage());
        }
    }

    @Test
    void aHugeFanOutHitsTheBudgetNotTheHeap() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {(byte) 0x80, 2, ']', 'q', 0, '('});
        for (long i = 0; i <= StateDictUnpickler.BUDGET; i++) {
            b.write('h');
            b.write(0);
        }
        b.writeBytes(new byte[] {'e', '.'});
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(b.toByteArray()));
        assertTrue(e.getMessage().contains("builds more than"), e.getMessage());
    }

    @Test
    void deepMarksHitTheBudgetNotTheStack() {
        byte[] marks = new byte[(int) StateDictUnpickler.BUDGET + 10];
        Arrays.fill(marks, (byte) '(');
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(marks));
        assertTrue(e.getMessage().contains("builds more than"), e.getMessage());
    }

    @Test
    void aSelfContainingListIsHandledWithoutRecursion() {
        // l = []; l.append(l); {"w": l} - reported by type, never printed or hashed.
        byte[] pickle = new Fixtures.Pickle().proto(2).op('}').str("w").op(']').put(1).get(1).op('a')
                .op('s').op('.').bytes();
        Pickled.Dict d = assertInstanceOf(Pickled.Dict.class, load(pickle));
        assertEquals("list", Pickled.typeOf(d.get("w")));
        byte[] listKey = new Fixtures.Pickle().proto(2).op('}').op(']').put(1).get(1).op('a').integer(1).op('s')
                .op('.').bytes();
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(listKey));
        assertTrue(e.getMessage().contains("dict key is a list"), e.getMessage());
    }
}
