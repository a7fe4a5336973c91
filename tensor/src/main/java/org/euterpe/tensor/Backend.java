package org.euterpe.tensor;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The op set: everything the models need, implemented once per device (the scalar reference,
 * the Vector-API CPU backend, OpenCL, CUDA). Model code calls these through {@link Tensor} and
 * never names a backend.
 *
 * <p>Conventions, for every op:
 * <ul>
 *   <li>Inputs are contiguous row-major tensors of this backend; outputs are new tensors that
 *       own their storage (so closing one frees it at once), tracked by the current
 *       {@link Scope} (or the caller's). Nothing is modified in place.</li>
 *   <li>Activations are F32. Weight operands (the {@code b} of matmul, {@code weight} of linear,
 *       the filters of the convolutions, the embedding table) may also be F16, BF16 or I8 with
 *       per-output-channel scales; a backend widens them inside its kernels.</li>
 *   <li>Shapes are checked; a mismatch throws IllegalArgumentException naming the shapes.</li>
 * </ul>
 */
public interface Backend extends AutoCloseable {

    /** Short name, e.g. "cpu", "scalar", "opencl:0". */
    String name();

    /** A line describing the device, for logs and reports. */
    String description();

    // ---------------------------------------------------------------- memory

    /** A zero-filled tensor. */
    Tensor zeros(DType dtype, Shape shape);

    /** An F32 tensor holding a copy of {@code data}. */
    Tensor fromArray(float[] data, Shape shape);

    /** An I64 tensor holding a copy of {@code data}. */
    Tensor fromArray(long[] data, Shape shape);

    /**
     * A tensor over host bytes laid out as {@code dtype} little-endian, e.g. a slice of a mapped
     * safetensors file. CPU backends wrap the memory without copying (the segment must stay
     * valid while the tensor is used); device backends upload it.
     *
     * @param scales for {@link DType#I8}: F32 scales, one per dim-0 entry; null otherwise
     */
    Tensor fromHost(MemorySegment bytes, DType dtype, Shape shape, Tensor scales);

    /** All elements widened to float (I8 dequantised, integers converted). */
    float[] toFloatArray(Tensor t);

    /** All elements of an integer tensor (I32 or I64). */
    long[] toLongArray(Tensor t);

    /** A copy of {@code t}, which may live on another backend, on this one. */
    Tensor transfer(Tensor t);

    /** Element type conversion between floating types; I8 is dequantised when cast to F32. */
    Tensor cast(Tensor x, DType dtype);

    // ---------------------------------------------------------------- linear algebra

    /**
     * Batched GEMM: {@code alpha * op(a) @ op(b) + bias + beta * c}.
     *
     * @param a    {@code [..., M, K]}, or {@code [..., K, M]} when {@code transA}
     * @param b    {@code [..., K, N]}, or {@code [..., N, K]} when {@code transB}; rank 2 is
     *             shared by every batch entry
     * @param bias {@code [N]} or null
     * @param c    same shape as the result, or null (then {@code beta} is ignored)
     * @return {@code [..., M, N]}, the batch dims of {@code a}
     */
    Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB, float alpha, Tensor bias, float beta, Tensor c);

    /**
     * {@code x @ weight^T + bias}, as torch.nn.Linear.
     *
     * @param x      {@code [..., in]}
     * @param weight {@code [out, in]}
     * @param bias   {@code [out]} or null
     * @return {@code [..., out]}
     */
    Tensor linear(Tensor x, Tensor weight, Tensor bias);

    /**
     * 2-D convolution, symmetric stride, zero padding and dilation (asymmetric padding: use
     * {@link #pad} first).
     *
     * @param x      {@code [batch, inChannels, height, width]}
     * @param weight {@code [outChannels, inChannels, kh, kw]}
     * @param bias   {@code [outChannels]} or null
     * @return {@code [batch, outChannels, outH, outW]}
     */
    Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation);

    /**
     * 1-D convolution.
     *
     * @param x      {@code [batch, inChannels, length]}
     * @param weight {@code [outChannels, inChannels, k]}
     * @param bias   {@code [outChannels]} or null
     * @return {@code [batch, outChannels, outLength]}
     */
    Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation);

    /**
     * 1-D transposed convolution, as torch.nn.ConvTranspose1d (groups 1).
     *
     * @param x      {@code [batch, inChannels, length]}
     * @param weight {@code [inChannels, outChannels, k]} (torch's layout)
     * @param bias   {@code [outChannels]} or null
     * @return {@code [batch, outChannels, (length-1)*stride - 2*padding + dilation*(k-1) + outputPadding + 1]}
     */
    Tensor convTranspose1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int outputPadding, int dilation);

    // ---------------------------------------------------------------- normalisation

    /**
     * GroupNorm over {@code [batch, channels, ...]}: statistics per (batch, group) over the
     * group's channels and all trailing dims; then the per-channel affine; then SiLU if asked.
     *
     * @param gamma {@code [channels]} or null (1)
     * @param beta  {@code [channels]} or null (0)
     */
    Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu);

    /**
     * LayerNorm over the last dim.
     *
     * @param x     {@code [..., d]}
     * @param gamma {@code [d]} or null
     * @param beta  {@code [d]} or null
     */
    Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps);

    /** Softmax over the last dim. */
    Tensor softmax(Tensor x);

    /**
     * Fused scaled-dot-product attention, {@code softmax(scale * q k^T + mask) v}, computed
     * without materialising the whole score matrix.
     *
     * @param q    {@code [batch, heads, lq, d]}
     * @param k    {@code [batch, heads, lk, d]}
     * @param v    {@code [batch, heads, lk, dv]}
     * @param mask additive F32, rank 4, each dim either 1 or the matching size of
     *             {@code [batch, heads, lq, lk]}; or null
     * @return {@code [batch, heads, lq, dv]}
     */
    Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale);

    // ---------------------------------------------------------------- element-wise

    /** {@code op(x)}; {@code param} is the slope of LEAKY_RELU and unused otherwise. */
    Tensor unary(UnaryOp op, Tensor x, float param);

    /** {@code a op b} with numpy broadcasting; the result has the broadcast shape. */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    /** {@code x op s}. */
    Tensor scalar(BinaryOp op, Tensor x, float s);

    // ---------------------------------------------------------------- data movement

    /** Concatenation along {@code dim}; the other dims must agree. */
    Tensor concat(List<Tensor> parts, int dim);

    /** Elements {@code [start, end)} along {@code dim}, as a new contiguous tensor. */
    Tensor slice(Tensor x, int dim, int start, int end);

    /** Dims reordered: output dim i is input dim {@code perm[i]}. */
    Tensor permute(Tensor x, int... perm);

    /**
     * Nearest-neighbour resize of the last two dims, as torch's {@code interpolate(mode="nearest")}:
     * source index {@code floor(dst * in / out)}.
     *
     * @param x {@code [batch, channels, h, w]}
     * @return {@code [batch, channels, outH, outW]}
     */
    Tensor upsampleNearest(Tensor x, int outH, int outW);

    /**
     * Constant padding in torch's order: {@code pads = [lastBefore, lastAfter,
     * secondLastBefore, secondLastAfter, ...]}. Negative pads crop.
     */
    Tensor pad(Tensor x, int[] pads, float value);

    /**
     * Row gather: {@code out[..., :] = table[ids[...], :]}.
     *
     * @param ids   I64 or I32 of any shape
     * @param table {@code [vocab, d]}
     * @return {@code [ids..., d]}, F32
     */
    Tensor embedding(Tensor ids, Tensor table);

    // ---------------------------------------------------------------- reductions

    Tensor sum(Tensor x, int dim, boolean keepDim);

    Tensor mean(Tensor x, int dim, boolean keepDim);

    /** {@code x / max(||x||_2, eps)} over the last dim, as torch.nn.functional.normalize. */
    Tensor l2Normalize(Tensor x, float eps);

    // ---------------------------------------------------------------- audio activations (Stable Audio)

    /**
     * The Snake activation of Oobleck ({@code Snake1d}), per channel:
     * {@code x + invBeta[c] * sin(alpha[c] * x)^2}. The caller folds the module's log-scale parameters
     * ({@code alpha = exp(α)}, {@code invBeta = 1 / (exp(β) + 1e-9)}).
     *
     * @param x       {@code [batch, channels, length]}
     * @param alpha   {@code [channels]}
     * @param invBeta {@code [channels]}
     * @return {@code [batch, channels, length]}
     */
    Tensor snake(Tensor x, Tensor alpha, Tensor invBeta);

    /**
     * T5's RMS norm over the last dim, without mean subtraction or bias:
     * {@code weight * x / sqrt(mean(x^2) + eps)}.
     *
     * @param x      {@code [..., d]}
     * @param weight {@code [d]}
     */
    Tensor rmsNorm(Tensor x, Tensor weight, float eps);

    /**
     * Rotary position embedding on the first {@code r} channels of each head (Stable Audio's
     * {@code apply_rotary_emb(use_real=True, use_real_unbind_dim=-2)}): with {@code h = r/2},
     * {@code y[j] = x[j] cos[l, j] - x[j+h] sin[l, j]} for {@code j < h},
     * {@code y[j] = x[j] cos[l, j] + x[j-h] sin[l, j]} for {@code h <= j < r}, and {@code y[j] = x[j]} beyond.
     *
     * @param x   {@code [batch, heads, length, headDim]}
     * @param cos {@code [length, r]}, {@code r} even and at most {@code headDim}
     * @param sin {@code [length, r]}
     */
    Tensor rotary(Tensor x, Tensor cos, Tensor sin);

    // ---------------------------------------------------------------- gated activation (Stable Audio DiT)

    /**
     * SwiGLU over the last dim, the activation of the DiT's feed-forward (diffusers' {@code SwiGLU} after its
     * projection, {@code hidden, gate = x.chunk(2, -1)}): the first half gated by the SiLU of the second,
     * {@code y[..., j] = x[..., j] * silu(x[..., n + j])}, in one pass instead of two slices, a SiLU and a
     * product.
     *
     * @param x {@code [..., 2n]}, n >= 1
     * @return {@code [..., n]}
     */
    Tensor swiglu(Tensor x);

    // ---------------------------------------------------------------- fixed-kernel 2x resampling (Dance Diffusion)

    /**
     * diffusers' {@code Downsample1d}: each channel reflect-padded by {@code p = k/2 - 1} on both
     * sides, then correlated with {@code kernel} at stride 2 (the same taps for every channel, as
     * torch's diagonal {@code C x C x k} weight computes):
     * {@code out[b, c, o] = sum_j kernel[j] * x[b, c, reflect(2o + j - p)]}.
     *
     * @param x      {@code [batch, channels, length]}, F32, {@code length > p}
     * @param kernel F32 {@code [k]}, k even and at least 2
     * @return {@code [batch, channels, (length + 2p - k) / 2 + 1]} ({@code length / 2} for even lengths)
     */
    Tensor downsample1d(Tensor x, Tensor kernel);

    /**
     * diffusers' {@code Upsample1d}: each channel reflect-padded by {@code q = (p + 1) / 2} on both
     * sides ({@code p = k/2 - 1}), then a stride-2 transposed convolution with {@code kernel} and
     * padding {@code 2p + 1}: {@code out[b, c, n] = sum over (i, j) with 2i + j = n + 2p + 1 of
     * xpad[i] * kernel[j]}. The kernel is used as given (diffusers stores it already doubled).
     *
     * @param x      {@code [batch, channels, length]}, F32, {@code length > q}
     * @param kernel F32 {@code [k]}, k even and at least 2
     * @return {@code [batch, channels, 2 (length + 2q) - k]} ({@code 2 length} for k divisible by 4)
     */
    Tensor upsample1d(Tensor x, Tensor kernel);

    // ---------------------------------------------------------------- noise

    /**
     * Standard normal noise, the same on every backend for the same seed (drawn on the host by
     * {@link NormalNoise}).
     */
    default Tensor randn(Shape shape, long seed) {
        return fromArray(NormalNoise.sample(seed, Math.toIntExact(shape.numel())), shape);
    }

    /** Frees the device context; tensors of this backend must not be used afterwards. */
    @Override
    default void close() {
    }
}
