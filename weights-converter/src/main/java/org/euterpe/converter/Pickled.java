package org.euterpe.converter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

import org.euterpe.tensor.DType;

/**
 * The values a state-dict pickle can build. Plain data maps to Java directly (String, Long, Double,
 * Boolean, {@link ArrayList} for lists); everything else is one of these records. None of them runs
 * or resolves anything: a "global" is only its name.
 */
final class Pickled {
    private Pickled() {
    }

    /** Python's None. */
    enum None {
        NONE
    }

    /** An immutable tuple. */
    record Tuple(List<Object> items) {
    }

    /** A dict or OrderedDict; keys are Strings or Longs (checked by the unpickler). */
    static final class Dict extends LinkedHashMap<Object, Object> {
        final boolean ordered;

        Dict(boolean ordered) {
            this.ordered = ordered;
        }
    }

    /** An allow-listed global, by role. */
    enum Global {
        ORDERED_DICT("collections.OrderedDict", null),
        REBUILD_TENSOR_V2("torch._utils._rebuild_tensor_v2", null),
        REBUILD_PARAMETER("torch._utils._rebuild_parameter", null),
        FLOAT_STORAGE("torch.FloatStorage", DType.F32),
        HALF_STORAGE("torch.HalfStorage", DType.F16),
        BFLOAT16_STORAGE("torch.BFloat16Storage", DType.BF16),
        LONG_STORAGE("torch.LongStorage", DType.I64),
        INT_STORAGE("torch.IntStorage", DType.I32),
        CHAR_STORAGE("torch.CharStorage", DType.I8);

        final String qualifiedName;
        /** The element type of a storage class; null for the callables. */
        final DType storageDType;

        Global(String qualifiedName, DType storageDType) {
            this.qualifiedName = qualifiedName;
            this.storageDType = storageDType;
        }

        static Global byName(String qualifiedName) {
            for (Global g : values()) {
                if (g.qualifiedName.equals(qualifiedName)) {
                    return g;
                }
            }
            return null;
        }
    }

    /** A storage named by a persistent id: {@code ('storage', StorageClass, key, location, numel)}. */
    record Storage(DType dtype, String key, String location, long numel) {
    }

    /**
     * What {@code _rebuild_tensor_v2} returns: a strided view of a storage, in elements.
     * {@code size}/{@code stride} are {@code [rank]}.
     */
    record TensorView(Storage storage, long offset, long[] size, long[] stride) {
    }

    /** A short type description for error messages (never recurses into a value). */
    static String typeOf(Object v) {
        return switch (v) {
            case null -> "null";
            case String s -> "str";
            case Long l -> "int";
            case Double d -> "float";
            case Boolean b -> "bool";
            case None n -> "None";
            case Tuple t -> "tuple of " + t.items().size();
            case Dict d -> d.ordered ? "OrderedDict" : "dict";
            case ArrayList<?> l -> "list";
            case Global g -> g.qualifiedName;
            case Storage s -> "storage";
            case TensorView t -> "tensor";
            default -> v.getClass().getSimpleName();
        };
    }
}
