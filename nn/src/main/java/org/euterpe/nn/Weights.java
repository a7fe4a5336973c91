package org.euterpe.nn;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import org.euterpe.tensor.Backend;
import org.euterpe.tensor.BinaryOp;
import org.euterpe.tensor.DType;
import org.euterpe.tensor.NormalNoise;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;
import org.euterpe.tensor.safetensors.SafetensorsFile;

/**
 * A model component's parameters, by their diffusers / transformers key
 * ({@code down_blocks.0.resnets.0.conv1.weight}).
 *
 * <p>Layers take a {@link #child} for their own prefix, so a class reads its weights by the
 * same names as the reference module's attributes. Every key read is recorded, so after
 * construction {@link #checkAllUsed()} reports weights in the file that no layer wanted (a
 * wrong or mismatched checkpoint), and {@link #get} reports a missing one by its full name.
 */
public final class Weights {
    private final Backend backend;
    private final WeightSource source; // null for random weights
    private final RandomInit random; // null for a checkpoint
    private final String filePrefix; // e.g. "unet." inside a one-file model, "" for a component's own file
    private final String component;
    private final String prefix;
    private final Set<String> used;

    /**
     * Seeded random parameters: matrices ~ N(0, 1/fan_in), norm scales 1, biases 0, each matrix
     * stored as {@code storedAs} says for its key; each made tensor is handed to {@code place},
     * whose result the layer gets.
     */
    private record RandomInit(long seed, Function<String, DType> storedAs, UnaryOperator<Tensor> place) {
    }

    private Weights(Backend backend, WeightSource source, RandomInit random, String filePrefix, String component,
            String prefix, Set<String> used) {
        this.backend = backend;
        this.source = source;
        this.random = random;
        this.filePrefix = filePrefix;
        this.component = component;
        this.prefix = prefix;
        this.used = used;
    }

    /**
     * The weights of {@code component} in {@code file}, whose keys start with {@code filePrefix}.
     * The file stays open (mapped) for as long as the tensors are used.
     */
    public static Weights of(Backend backend, SafetensorsFile file, String filePrefix, String component) {
        return of(backend, WeightSource.of(file), filePrefix, component);
    }

    /**
     * The weights of {@code component} in {@code source}, whose keys start with {@code filePrefix}.
     * The source stays open for as long as the tensors are used.
     */
    public static Weights of(Backend backend, WeightSource source, String filePrefix, String component) {
        return new Weights(backend, source, null, filePrefix, component, "", new HashSet<>());
    }

    /**
     * Random weights for {@code component}, standing in for a checkpoint so a model can be built
     * from its config alone (full-size benchmarks): every parameter ({@code *weight},
     * {@code *bias}) a layer asks for exists with the shape it asks for, and no buffer does.
     * Matrices and filters (rank >= 2) are drawn from N(0, 1/fan_in) with a seed derived from
     * {@code seed} and the key, stored as {@code dtype}; rank-1 weights (norm scales) are 1,
     * biases 0.
     */
    public static Weights random(Backend backend, String component, long seed, DType dtype) {
        return random(backend, component, seed, dtype, UnaryOperator.identity());
    }

    /**
     * Random weights as {@link #random(Backend, String, long, DType)}, each tensor passed through
     * {@code place} once made: e.g. written to a file and mapped back, so the weights leave the
     * Java heap as a real checkpoint's would. {@code place} must return the same values and shape.
     */
    public static Weights random(Backend backend, String component, long seed, DType dtype,
            UnaryOperator<Tensor> place) {
        checkRandomDType(dtype);
        return random(backend, component, seed, key -> dtype, place);
    }

    /**
     * Random weights as {@link #random(Backend, String, long, DType, UnaryOperator)}, each matrix or
     * filter (rank &ge; 2) stored as {@code storedAs} gives for its key within the component
     * ({@code encoder.block.0.layer.0.SelfAttention.q.weight}): F32, F16, BF16, or I8 quantised as
     * the converter quantises (symmetric per dim-0 row, {@code scale = max|w| / 127}, the tensor's
     * {@link Tensor#scales}), so the weights take the paths a converted checkpoint's take.
     */
    public static Weights random(Backend backend, String component, long seed, Function<String, DType> storedAs,
            UnaryOperator<Tensor> place) {
        return new Weights(backend, null, new RandomInit(seed, storedAs, place), "", component, "", new HashSet<>());
    }

    private static DType checkRandomDType(DType dtype) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16 && dtype != DType.I8) {
            throw new IllegalArgumentException("random weights can be F32, F16, BF16 or I8, not " + dtype);
        }
        return dtype;
    }

    public Backend backend() {
        return backend;
    }

    /** The weights under {@code name + "."}. */
    public Weights child(String name) {
        return new Weights(backend, source, random, filePrefix, component, prefix + name + ".", used);
    }

    /** The weights under {@code name + "." + index + "."}, e.g. {@code child("resnets", 0)}. */
    public Weights child(String name, int index) {
        return child(name + "." + index);
    }

    /** The full key of {@code name} within the component. */
    public String key(String name) {
        return prefix + name;
    }

    public boolean has(String name) {
        if (random != null) {
            // weight_g / weight_v: a weight-normalised layer gets the pair checkpoints store (diffusers'
            // Oobleck VAE does), so it folds them at load as it does a real checkpoint's
            return name.endsWith("weight") || name.endsWith("bias") || name.endsWith("weight_g")
                    || name.endsWith("weight_v");
        }
        return source.contains(filePrefix + prefix + name);
    }

    /** The dims of a weight without loading it. */
    public int[] shape(String name) {
        return source.entry(fileKey(name)).shape().dims();
    }

    /**
     * The weight {@code name}, checked against {@code expectedShape} when one is given
     * (-1 matches any size).
     */
    public Tensor get(String name, int... expectedShape) {
        if (random != null) {
            return randomTensor(name, expectedShape);
        }
        String k = fileKey(name);
        WeightSource.Entry e = source.entry(k);
        int[] dims = e.shape().dims();
        if (expectedShape.length > 0 && !matches(dims, expectedShape)) {
            throw new ModelLoadException(component + ": weight \"" + prefix + name + "\" has shape "
                    + Arrays.toString(dims) + ", expected " + Arrays.toString(expectedShape));
        }
        used.add(k);
        Tensor scales = null;
        if (e.dtype() == DType.I8) {
            String sk = k + ".__scale";
            used.add(sk);
            scales = host(sk);
        }
        return backend.fromHost(source.bytes(k), e.dtype(), e.shape(), scales);
    }

    /** {@code key} of the source as a tensor of its own dtype (F32 scales, say). */
    private Tensor host(String key) {
        WeightSource.Entry e = source.entry(key);
        return backend.fromHost(source.bytes(key), e.dtype(), e.shape(), null);
    }

    /** The weight, or null when the checkpoint has no such key (an optional bias, say). */
    public Tensor opt(String name, int... expectedShape) {
        return has(name) ? get(name, expectedShape) : null;
    }

    /** The weight as an F32 host array (small tensors: embeddings tables for host math, scalars). */
    public float[] floats(String name) {
        String k = fileKey(name);
        used.add(k);
        try (Scope scope = Scope.open()) { // frees the upload a device backend makes
            return host(k).toFloatArray();
        }
    }

    /** An integer weight or buffer (I64/I32) as a host array. */
    public long[] longs(String name) {
        String k = fileKey(name);
        used.add(k);
        try (Scope scope = Scope.open()) {
            return host(k).toLongArray();
        }
    }

    /**
     * Marks {@code name}, when the checkpoint has it, as deliberately unused: a buffer the
     * engine derives itself, say. Absent keys are fine (older checkpoints omit buffers).
     */
    public void ignore(String name) {
        if (random != null) {
            return;
        }
        String k = filePrefix + prefix + name;
        if (source.contains(k)) {
            used.add(k);
        }
    }

    /**
     * Marks every key under {@code name + "."} as deliberately unused: a sub-model of the
     * checkpoint that the engine does not run.
     */
    public void ignoreChild(String name) {
        if (random != null) {
            return;
        }
        String p = filePrefix + prefix + name + ".";
        for (String n : source.names()) {
            if (n.startsWith(p)) {
                used.add(n);
            }
        }
    }

    private Tensor randomTensor(String name, int[] shape) {
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalStateException(component + ": random weight \"" + prefix + name
                        + "\" needs a full shape, got " + Arrays.toString(shape));
            }
        }
        return random.place().apply(makeRandom(name, Shape.of(shape)));
    }

    private Tensor makeRandom(String name, Shape s) {
        if (s.rank() < 2) {
            Tensor zeros = backend.zeros(DType.F32, s);
            return name.endsWith("bias") ? zeros : backend.scalar(BinaryOp.ADD, zeros, 1f);
        }
        long fanIn = s.numel() / s.dim(0);
        String key = prefix + name;
        // Scaled in place: one heap copy of the weight on its way to place(), not three (the
        // build's garbage otherwise grows the heap that the timed stages then run in).
        float[] v = NormalNoise.sample(random.seed() * 31 + key.hashCode(), Math.toIntExact(s.numel()));
        float scale = (float) (1 / Math.sqrt(fanIn));
        for (int i = 0; i < v.length; i++) {
            v[i] *= scale;
        }
        DType dtype = checkRandomDType(random.storedAs().apply(key));
        if (dtype == DType.I8) {
            return quantised(v, s);
        }
        Tensor t = backend.fromArray(v, s);
        return dtype == DType.F32 ? t : backend.cast(t, dtype);
    }

    /**
     * {@code v} as I8 with per-row F32 scales, as the converter stores int8 weights: symmetric per
     * dim-0 row, {@code scale = max|w| / 127}, {@code q = rint(w / scale)}.
     */
    private Tensor quantised(float[] v, Shape s) {
        int rows = s.dim(0);
        int per = v.length / rows;
        float[] scales = new float[rows];
        byte[] q = new byte[v.length];
        for (int r = 0; r < rows; r++) {
            float max = 0;
            for (int i = r * per; i < (r + 1) * per; i++) {
                max = Math.max(max, Math.abs(v[i]));
            }
            float scale = max / 127f;
            scales[r] = scale;
            for (int i = r * per; i < (r + 1) * per; i++) {
                float x = scale == 0 ? 0 : (float) Math.rint(v[i] / scale);
                q[i] = (byte) Math.max(-127, Math.min(127, x));
            }
        }
        return backend.fromHost(java.lang.foreign.MemorySegment.ofArray(q), DType.I8, s,
                backend.fromArray(scales, Shape.of(rows)));
    }

    private String fileKey(String name) {
        if (random != null) {
            throw new IllegalStateException(component + ": random weights have no stored tensor \"" + prefix + name
                    + "\"");
        }
        String k = filePrefix + prefix + name;
        if (!source.contains(k)) {
            throw new ModelLoadException(component + ": missing weight \"" + prefix + name + "\" in " + source.where());
        }
        return k;
    }

    private static boolean matches(int[] dims, int[] expected) {
        if (dims.length != expected.length) {
            return false;
        }
        for (int i = 0; i < dims.length; i++) {
            if (expected[i] != -1 && expected[i] != dims[i]) {
                return false;
            }
        }
        return true;
    }

    /** Throws when the file holds weights of this component that no layer read. */
    public void checkAllUsed() {
        if (random != null) {
            return;
        }
        Set<String> extra = new TreeSet<>();
        for (String n : source.names()) {
            if (n.startsWith(filePrefix) && !used.contains(n)) {
                extra.add(n.substring(filePrefix.length()));
            }
        }
        if (!extra.isEmpty()) {
            throw new ModelLoadException(component + ": " + extra.size() + " unexpected weight(s) in " + source.where()
                    + ", e.g. " + extra.stream().limit(5).toList());
        }
    }
}
