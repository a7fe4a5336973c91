package org.euterpe.converter;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.euterpe.converter.Pickled.Dict;
import org.euterpe.converter.Pickled.Global;
import org.euterpe.converter.Pickled.Storage;
import org.euterpe.converter.Pickled.TensorView;
import org.euterpe.converter.Pickled.Tuple;

/**
 * A restricted unpickler for the {@code data.pkl} of a {@code torch.save}d state dict.
 *
 * <p>It interprets only the data opcodes a state dict uses, plus {@code GLOBAL} for an allow-list
 * of names ({@link Global}) and {@code REDUCE} on the three allow-listed callables, whose effect it
 * models itself ({@code OrderedDict()} is an empty map, {@code _rebuild_tensor_v2} a
 * {@link TensorView} record). Nothing is ever resolved, loaded or called. Any other global, and any
 * opcode that can build arbitrary objects ({@code STACK_GLOBAL}, {@code INST}, {@code OBJ},
 * {@code NEWOBJ}, {@code EXT*}, ...), is refused with an {@link UnsafePickleException} naming it and
 * its offset, before anything is built from it.
 *
 * <p>The interpreter is a loop (no recursion), and a budget caps the values, container slots and
 * memo entries a pickle can create, so a hostile pickle cannot exhaust memory or the Java stack.
 */
final class StateDictUnpickler {
    /** Values + container slots + memo entries one pickle may create (a real state dict needs ~30 per tensor). */
    static final long BUDGET = 1L << 21;
    private static final int MAX_GLOBAL_NAME = 256;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong F64_BITS = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final Path file;
    private final MemorySegment pkl;
    private long pos;
    /** Offset of the opcode being interpreted, for messages. */
    private long opAt;
    private long spent;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private StateDictUnpickler(Path file, MemorySegment pkl) {
        this.file = file;
        this.pkl = pkl;
    }

    /** Interprets {@code pkl} (from {@code file}, named in errors) and returns the pickled value. */
    static Object load(Path file, MemorySegment pkl) {
        return new StateDictUnpickler(file, pkl).run();
    }

    private Object run() {
        while (true) {
            opAt = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO: a version marker; what matters is which opcodes follow
                    int proto = u8();
                    if (proto > 5) {
                        throw malformed("unknown pickle protocol " + proto);
                    }
                }
                case 0x95 -> bytes(8, "FRAME"); // FRAME: framing is advisory; the data follows inline
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw malformed("STOP with " + stack.size() + " values and " + marks.size()
                                + " marks on the stack (expected exactly one value)");
                    }
                    return stack.getFirst();
                }
                case '(' -> { // MARK
                    charge(1);
                    marks.add(stack.size());
                }
                case '}' -> push(new Dict(false));
                case ']' -> push(new ArrayList<>());
                case ')' -> push(new Tuple(List.of()));
                case 't' -> push(new Tuple(popMark()));
                case 0x85 -> push(tupleOf(1));
                case 0x86 -> push(tupleOf(2));
                case 0x87 -> push(tupleOf(3));
                case 'q' -> memoPut(u8());
                case 'r' -> memoPut(u32());
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'h' -> memoGet(u8());
                case 'j' -> memoGet(u32());
                case 'J' -> push((long) pkl.get(I32, bytes(4, "BININT")));
                case 'K' -> push((long) u8());
                case 'M' -> push((long) Short.toUnsignedInt(pkl.get(I16, bytes(2, "BININT2"))));
                case 0x8a -> push(long1());
                case 'X' -> push(utf8(u32()));
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(pkl.get(I64, bytes(8, "BINUNICODE8")))); // BINUNICODE8
                case 'T' -> push(latin1(u32())); // BINSTRING (Python 2 str)
                case 'U' -> push(latin1(u8())); // SHORT_BINSTRING
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'N' -> push(Pickled.None.NONE);
                case 'G' -> push(Double.longBitsToDouble(pkl.get(F64_BITS, bytes(8, "BINFLOAT"))));
                case 'c' -> push(global());
                case 'R' -> reduce();
                case 'Q' -> push(persistentLoad(pop()));
                case 's' -> {
                    Object value = pop();
                    Object key = pop();
                    setItem(peek(), key, value);
                }
                case 'u' -> {
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) {
                        throw malformed("SETITEMS with an odd number of items");
                    }
                    Object target = peek();
                    for (int i = 0; i < items.size(); i += 2) {
                        setItem(target, items.get(i), items.get(i + 1));
                    }
                }
                case 'a' -> {
                    Object value = pop();
                    append(peek(), List.of(value));
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    append(peek(), items);
                }
                case 'b' -> build();
                case 0x93 -> throw new UnsafePickleException(file, "STACK_GLOBAL" + stackGlobalName(), opAt,
                        "builds a global from strings on the stack; a state dict names its few globals with GLOBAL");
                default -> throw new UnsafePickleException(file, opcodeName(op), opAt,
                        "opcode not allowed in a state-dict pickle");
            }
        }
    }

    // ---- globals and calls ----

    private Global global() {
        String module = line();
        String name = line();
        String qualified = module + "." + name;
        Global g = Global.byName(qualified);
        if (g == null && module.equals("torch") && name.endsWith("Storage")) {
            // Harmless, but no engine dtype matches (float64, uint8, bool, int16, complex...).
            throw malformed("storage type " + qualified + " is not supported; the engine reads float, half,"
                    + " bfloat16, long, int and char storages (convert the checkpoint to float32 first)");
        }
        if (g == null) {
            throw new UnsafePickleException(file, qualified, opAt,
                    "global is not on the state-dict allow-list (collections.OrderedDict, "
                            + "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter, torch.*Storage"
                            + " for float, half, bfloat16, long, int and char)");
        }
        return g;
    }

    /** " (module.name)" when STACK_GLOBAL's operands are strings, so the refusal says what was asked for. */
    private String stackGlobalName() {
        int n = stack.size();
        if (n >= 2 && stack.get(n - 2) instanceof String module && stack.get(n - 1) instanceof String name) {
            return " (" + module + "." + name + ")";
        }
        return "";
    }

    private void reduce() {
        Object args = pop();
        Object callable = pop();
        if (!(callable instanceof Global g) || g.storageDType != null) {
            throw new UnsafePickleException(file, "REDUCE", opAt, "calling " + Pickled.typeOf(callable)
                    + " is not allowed (only OrderedDict, _rebuild_tensor_v2 and _rebuild_parameter)");
        }
        if (!(args instanceof Tuple(List<Object> a))) {
            throw malformed("REDUCE arguments are a " + Pickled.typeOf(args) + ", not a tuple");
        }
        push(switch (g) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) {
                    throw malformed("OrderedDict called with " + a.size() + " arguments (a state dict uses none)");
                }
                yield new Dict(true);
            }
            case REBUILD_TENSOR_V2 -> rebuildTensor(a);
            case REBUILD_PARAMETER -> {
                // _rebuild_parameter(data, requires_grad, backward_hooks): a Parameter is its data here.
                if (a.size() != 3 || !(a.get(0) instanceof TensorView t)) {
                    throw malformed("_rebuild_parameter expects (tensor, requires_grad, hooks)");
                }
                requireNoHooks(a.get(2));
                yield t;
            }
            default -> throw new IllegalStateException(g.toString());
        });
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private TensorView rebuildTensor(List<Object> a) {
        if (a.size() != 6 && a.size() != 7) {
            throw malformed("_rebuild_tensor_v2 called with " + a.size() + " arguments (expected 6 or 7)");
        }
        if (!(a.get(0) instanceof Storage storage)) {
            throw malformed("_rebuild_tensor_v2: first argument is a " + Pickled.typeOf(a.get(0)) + ", not a storage");
        }
        long offset = nonNegative(a.get(1), "storage offset");
        long[] size = longs(a.get(2), "size");
        long[] stride = longs(a.get(3), "stride");
        if (size.length != stride.length) {
            throw malformed("_rebuild_tensor_v2: size has " + size.length + " dims but stride " + stride.length);
        }
        if (!(a.get(4) instanceof Boolean)) {
            throw malformed("_rebuild_tensor_v2: requires_grad is a " + Pickled.typeOf(a.get(4)));
        }
        requireNoHooks(a.get(5));
        return new TensorView(storage, offset, size, stride);
    }

    private void requireNoHooks(Object hooks) {
        if (!(hooks instanceof Dict d) || !d.isEmpty()) {
            throw malformed("backward hooks must be an empty OrderedDict, found a " + Pickled.typeOf(hooks));
        }
    }

    private Storage persistentLoad(Object pid) {
        if (!(pid instanceof Tuple(List<Object> t)) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw malformed("persistent id is not ('storage', StorageClass, key, location, numel)");
        }
        if (!(t.get(1) instanceof Global g) || g.storageDType == null) {
            throw malformed("persistent id names " + Pickled.typeOf(t.get(1)) + ", not a storage class");
        }
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location)) {
            throw malformed("persistent id: storage key and location must be strings");
        }
        return new Storage(g.storageDType, key, location, nonNegative(t.get(4), "storage numel"));
    }

    /** BUILD is only accepted on an OrderedDict, where torch uses it to set {@code _metadata}; the state is dropped. */
    private void build() {
        Object state = pop();
        Object target = peek();
        if (!(target instanceof Dict d) || !d.ordered || !(state instanceof Dict)) {
            throw new UnsafePickleException(file, "BUILD", opAt, "setting the state of a "
                    + Pickled.typeOf(target) + " from a " + Pickled.typeOf(state)
                    + " is not allowed (only an OrderedDict's _metadata)");
        }
    }

    // ---- containers ----

    private void setItem(Object target, Object key, Object value) {
        if (!(target instanceof Dict d)) {
            throw malformed("SETITEM on a " + Pickled.typeOf(target));
        }
        // Only hashable leaves as keys: hashing a container could recurse without bound.
        if (!(key instanceof String) && !(key instanceof Long)) {
            throw malformed("dict key is a " + Pickled.typeOf(key) + " (a state dict has string keys)");
        }
        charge(1);
        d.put(key, value);
    }

    private void append(Object target, List<Object> items) {
        if (!(target instanceof ArrayList<?>)) {
            throw malformed("APPEND on a " + Pickled.typeOf(target));
        }
        @SuppressWarnings("unchecked")
        ArrayList<Object> list = (ArrayList<Object>) target;
        charge(items.size());
        list.addAll(items);
    }

    private Tuple tupleOf(int n) {
        if (stack.size() - currentMarkFloor() < n) {
            throw malformed("TUPLE" + n + " needs " + n + " values on the stack");
        }
        List<Object> top = stack.subList(stack.size() - n, stack.size());
        Tuple t = new Tuple(List.copyOf(top));
        top.clear();
        charge(n);
        return t;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw malformed("no MARK on the stack");
        }
        int m = marks.removeLast();
        List<Object> top = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        charge(items.size());
        return items;
    }

    private int currentMarkFloor() {
        return marks.isEmpty() ? 0 : marks.getLast();
    }

    // ---- stack and memo ----

    private void push(Object v) {
        charge(1);
        stack.add(v);
    }

    private Object pop() {
        if (stack.size() <= currentMarkFloor()) {
            throw malformed("stack underflow");
        }
        return stack.removeLast();
    }

    private Object peek() {
        if (stack.size() <= currentMarkFloor()) {
            throw malformed("stack underflow");
        }
        return stack.getLast();
    }

    private void memoPut(long index) {
        charge(1);
        memo.put(index, peek());
    }

    private void memoGet(long index) {
        Object v = memo.get(index);
        if (v == null) {
            throw malformed("memo entry " + index + " was never stored");
        }
        push(v);
    }

    private void charge(long units) {
        spent += units;
        if (spent > BUDGET) {
            throw malformed("the pickle builds more than " + BUDGET
                    + " values; a state dict needs far fewer, so it is refused as hostile or corrupt");
        }
    }

    // ---- reading ----

    private int u8() {
        return Byte.toUnsignedInt(pkl.get(ValueLayout.JAVA_BYTE, bytes(1, "opcode")));
    }

    private long u32() {
        return Integer.toUnsignedLong(pkl.get(I32, bytes(4, "length")));
    }

    /** Advances past {@code n} bytes and returns where they start; fails cleanly at the end of the pickle. */
    private long bytes(long n, String what) {
        if (n < 0 || n > pkl.byteSize() - pos) {
            throw new CheckpointException(file, "pickle is truncated: " + what + " at offset " + opAt
                    + " needs " + n + " bytes but only " + (pkl.byteSize() - pos) + " remain");
        }
        long at = pos;
        pos += n;
        return at;
    }

    private Long long1() {
        int n = u8();
        if (n > 8) {
            throw malformed("LONG1 integer of " + n + " bytes is too large for a state dict");
        }
        long at = bytes(n, "LONG1");
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | Byte.toUnsignedInt(pkl.get(ValueLayout.JAVA_BYTE, at + i));
        }
        if (n > 0 && n < 8) { // sign-extend the two's-complement value
            int shift = 64 - 8 * n;
            v = (v << shift) >> shift;
        }
        return v;
    }

    private String utf8(long n) {
        long at = bytes(n, "string");
        charge(n / 64);
        return new String(pkl.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    private String latin1(long n) {
        long at = bytes(n, "string");
        charge(n / 64);
        return new String(pkl.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.ISO_8859_1);
    }

    /** A newline-terminated ASCII name (GLOBAL's argument), bounded in length. */
    private String line() {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = Byte.toUnsignedInt(pkl.get(ValueLayout.JAVA_BYTE, bytes(1, "GLOBAL name")));
            if (c == '\n') {
                return sb.toString();
            }
            if (c < 0x20 || c > 0x7e || sb.length() >= MAX_GLOBAL_NAME) {
                throw malformed("GLOBAL name is not a short printable ASCII line");
            }
            sb.append((char) c);
        }
    }

    private long nonNegative(Object v, String what) {
        if (!(v instanceof Long l) || l < 0) {
            throw malformed(what + " is not a non-negative int: " + Pickled.typeOf(v));
        }
        return l;
    }

    private long[] longs(Object v, String what) {
        if (!(v instanceof Tuple(List<Object> items))) {
            throw malformed(what + " is a " + Pickled.typeOf(v) + ", not a tuple");
        }
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = nonNegative(items.get(i), what + "[" + i + "]");
        }
        return out;
    }

    private CheckpointException malformed(String problem) {
        return new CheckpointException(file, "malformed state-dict pickle at offset " + opAt + ": " + problem);
    }

    /** The pickletools name of an opcode, for refusals. */
    static String opcodeName(int op) {
        return switch (op) {
            case 0x93 -> "STACK_GLOBAL";
            case 'i' -> "INST";
            case 'o' -> "OBJ";
            case 0x81 -> "NEWOBJ";
            case 0x92 -> "NEWOBJ_EX";
            case 0x82 -> "EXT1";
            case 0x83 -> "EXT2";
            case 0x84 -> "EXT4";
            case 'P' -> "PERSID";
            case 'I' -> "INT";
            case 'L' -> "LONG";
            case 0x8b -> "LONG4";
            case 'F' -> "FLOAT";
            case 'S' -> "STRING";
            case 'V' -> "UNICODE";
            case 'B' -> "BINBYTES";
            case 'C' -> "SHORT_BINBYTES";
            case 0x8e -> "BINBYTES8";
            case 0x96 -> "BYTEARRAY8";
            case 0x97 -> "NEXT_BUFFER";
            case 0x98 -> "READONLY_BUFFER";
            case 'd' -> "DICT";
            case 'l' -> "LIST";
            case 'p' -> "PUT";
            case 'g' -> "GET";
            case '0' -> "POP";
            case '1' -> "POP_MARK";
            case '2' -> "DUP";
            case 0x8f -> "EMPTY_SET";
            case 0x90 -> "ADDITEMS";
            case 0x91 -> "FROZENSET";
            default -> String.format("unknown opcode 0x%02x", op);
        };
    }
}
