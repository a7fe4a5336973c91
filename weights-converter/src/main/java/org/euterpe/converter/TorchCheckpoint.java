package org.euterpe.converter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.euterpe.converter.Pickled.Dict;
import org.euterpe.converter.Pickled.TensorView;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.Shape;

/**
 * A {@code torch.save} zip checkpoint holding a state dict, read without Python.
 *
 * <p>Layout (torch &ge; 1.6): a ZIP of stored entries {@code <root>/data.pkl} (the pickled
 * {@code OrderedDict} of name to tensor, read by {@link StateDictUnpickler}), {@code <root>/data/<key>}
 * (raw little-endian storages) and {@code <root>/version}. Every tensor is checked against its
 * storage when the file is opened; contiguous tensors are zero-copy views of the mapping, strided
 * ones are copied to row-major on access. Each storage's CRC-32 is verified the first time a tensor
 * of it is read.
 */
public final class TorchCheckpoint implements CheckpointReader {
    /**
     * One tensor as the pickle describes it: a view of storage {@code storageKey} starting at element
     * {@code offset}, with element {@code strides} ({@code [rank]}).
     */
    public record StoredTensor(String name, DType dtype, Shape shape, long[] strides, String storageKey, long offset) {
        /** Whether the elements are laid out row-major without gaps (dims of size 1 may have any stride). */
        public boolean contiguous() {
            long expected = 1;
            for (int i = shape.rank() - 1; i >= 0; i--) {
                int d = shape.dim(i);
                if (d == 0) {
                    return true;
                }
                if (d != 1 && strides[i] != expected) {
                    return false;
                }
                expected *= d;
            }
            return true;
        }
    }

    private final ZipArchive zip;
    private final String root;
    private final Map<String, StoredTensor> tensors;
    private final List<String> names;
    private final Set<String> verifiedStorages = Collections.synchronizedSet(new HashSet<>());
    /** Holds the row-major copies of strided tensors. */
    private final Arena copies = Arena.ofShared();

    private TorchCheckpoint(ZipArchive zip, String root, Map<String, StoredTensor> tensors) {
        this.zip = zip;
        this.root = root;
        this.tensors = tensors;
        this.names = List.copyOf(tensors.keySet());
    }

    /** Opens, unpickles and validates {@code path}. */
    public static TorchCheckpoint open(Path path) throws IOException {
        ZipArchive zip = ZipArchive.open(path);
        try {
            String root = findRoot(zip);
            ZipArchive.Entry byteorder = zip.entry(root + "/byteorder");
            if (byteorder != null) {
                String order = new String(zip.data(byteorder).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
                if (!order.strip().equals("little")) {
                    throw new CheckpointException(path, "storages are " + order.strip()
                            + "-endian; only little-endian checkpoints are supported");
                }
            }
            ZipArchive.Entry pklEntry = zip.entry(root + "/data.pkl");
            zip.verifyCrc(pklEntry);
            Object value = StateDictUnpickler.load(path, zip.data(pklEntry));
            return new TorchCheckpoint(zip, root, resolve(zip, root, value));
        } catch (RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    /** The archive's root folder: the one holding {@code data.pkl}. */
    private static String findRoot(ZipArchive zip) {
        String root = null;
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                if (root != null) {
                    throw new CheckpointException(zip.path(), "two pickles in one checkpoint: " + root
                            + "/data.pkl and " + name);
                }
                root = name.substring(0, slash);
            }
        }
        if (root == null) {
            throw new CheckpointException(zip.path(), "no <root>/data.pkl entry: not a torch.save checkpoint");
        }
        return root;
    }

    /** Turns the unpickled dict into checked tensor records. */
    private static Map<String, StoredTensor> resolve(ZipArchive zip, String root, Object value) {
        Path path = zip.path();
        if (!(value instanceof Dict dict)) {
            throw new CheckpointException(path, "the pickle holds a " + Pickled.typeOf(value) + ", not a state dict");
        }
        // A PyTorch Lightning checkpoint: {"state_dict": {...}, "epoch": ..., "optimizer_states": ...}; only
        // the state dict is read (the rest must still have passed the restricted unpickler).
        if (dict.get("state_dict") instanceof Dict inner && !(dict.values().stream().allMatch(v -> v instanceof TensorView))) {
            dict = inner;
        }
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        for (Map.Entry<Object, Object> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String name)) {
                throw new CheckpointException(path, "state dict key " + e.getKey() + " is not a string");
            }
            if (!(e.getValue() instanceof TensorView view)) {
                throw new CheckpointException(path, "state dict entry \"" + name + "\" is a "
                        + Pickled.typeOf(e.getValue()) + ", not a tensor");
            }
            out.put(name, check(zip, root, name, view));
        }
        return Collections.unmodifiableMap(out);
    }

    private static StoredTensor check(ZipArchive zip, String root, String name, TensorView v) {
        Path path = zip.path();
        String where = "tensor \"" + name + "\"";
        DType dtype = v.storage().dtype();
        ZipArchive.Entry entry = zip.entry(root + "/data/" + v.storage().key());
        if (entry == null) {
            throw new CheckpointException(path, where + ": storage \"" + v.storage().key() + "\" is missing");
        }
        try {
            long storageBytes = Math.multiplyExact(v.storage().numel(), (long) dtype.byteSize());
            if (entry.size() != storageBytes) {
                throw new CheckpointException(path, where + ": storage \"" + v.storage().key() + "\" holds "
                        + entry.size() + " bytes but its " + v.storage().numel() + " " + dtype + " elements need "
                        + storageBytes);
            }
            Shape shape = Shape.of(v.size());
            if (shape.numel() > 0) {
                long last = v.offset();
                for (int i = 0; i < v.size().length; i++) {
                    last = Math.addExact(last, Math.multiplyExact(v.size()[i] - 1, v.stride()[i]));
                }
                if (last >= v.storage().numel()) {
                    throw new CheckpointException(path, where + " of shape " + shape + " at offset " + v.offset()
                            + " reaches element " + last + " of a storage of " + v.storage().numel());
                }
            }
            return new StoredTensor(name, dtype, shape, v.stride().clone(), v.storage().key(), v.offset());
        } catch (ArithmeticException e) {
            throw new CheckpointException(path, where + ": sizes overflow", e);
        }
    }

    @Override
    public Path path() {
        return zip.path();
    }

    @Override
    public List<String> names() {
        return names;
    }

    /** The tensor's storage record; throws naming the file when absent. */
    public StoredTensor tensor(String name) {
        StoredTensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException(zip.path(), "no tensor \"" + name + "\"");
        }
        return t;
    }

    @Override
    public TensorInfo info(String name) {
        StoredTensor t = tensor(name);
        return new TensorInfo(name, t.dtype(), t.shape());
    }

    @Override
    public MemorySegment bytes(String name) {
        StoredTensor t = tensor(name);
        ZipArchive.Entry entry = zip.entry(root + "/data/" + t.storageKey());
        if (!verifiedStorages.contains(t.storageKey())) {
            zip.verifyCrc(entry);
            verifiedStorages.add(t.storageKey());
        }
        MemorySegment storage = zip.data(entry);
        long elem = t.dtype().byteSize();
        long size = t.shape().numel() * elem;
        if (t.contiguous()) {
            return storage.asSlice(t.offset() * elem, size);
        }
        MemorySegment out = copies.allocate(size, elem);
        copyStrided(storage, t, out);
        return out;
    }

    /** Gathers a strided view into row-major {@code out}, one innermost run at a time. */
    private static void copyStrided(MemorySegment storage, StoredTensor t, MemorySegment out) {
        int rank = t.shape().rank();
        int[] dims = t.shape().dims();
        long elem = t.dtype().byteSize();
        int inner = dims[rank - 1];
        long innerStride = t.strides()[rank - 1];
        long rows = t.shape().numel() / inner;
        int[] index = new int[rank - 1];
        long dst = 0;
        for (long r = 0; r < rows; r++) {
            long src = t.offset();
            for (int i = 0; i < rank - 1; i++) {
                src += index[i] * t.strides()[i];
            }
            if (innerStride == 1) {
                MemorySegment.copy(storage, src * elem, out, dst, inner * elem);
                dst += inner * elem;
            } else {
                for (int j = 0; j < inner; j++) {
                    MemorySegment.copy(storage, (src + j * innerStride) * elem, out, dst, elem);
                    dst += elem;
                }
            }
            for (int i = rank - 2; i >= 0 && ++index[i] == dims[i]; i--) {
                index[i] = 0;
            }
        }
    }

    @Override
    public void close() {
        copies.close();
        zip.close();
    }
}
