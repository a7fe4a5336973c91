package org.euterpe.nn.clap;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.euterpe.nn.FlopCounter;
import org.euterpe.nn.ModelLoadException;
import org.euterpe.nn.Weights;
import org.euterpe.nn.layers.LayerNorm;
import org.euterpe.nn.layers.Linear;
import org.euterpe.tensor.Scope;
import org.euterpe.tensor.Shape;
import org.euterpe.tensor.Tensor;

/**
 * One Swin block ({@code layers.S.blocks.B}): pre-LayerNorm window attention with a learned relative position
 * bias (every other block on windows shifted by half a window, masked so tokens that the cyclic shift brought
 * together do not attend to each other), then a pre-LayerNorm GELU MLP; both residual.
 *
 * <pre>
 *   x [b, h*w, c] ─ norm ─ pad to whole windows ─ roll(-shift) ─ windows [b*nW, ws*ws, c]
 *     ─ attention(q, k, v, bias + shift mask) ─ dense ─ merge windows ─ roll(+shift) ─ crop ─ (+x)
 *     ─ norm ─ dense ─ gelu ─ dense ─ (+)
 * </pre>
 */
final class ClapAudioLayer {
    /** What the reference's shift mask adds between tokens from different regions. */
    private static final float SHIFT_MASK = -100f;

    private final int heads;
    private final int window;
    private final int shift;
    private final int height;
    private final int width;
    private final LayerNorm layernormBefore;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Tensor positionBias; // [1, heads, ws*ws, ws*ws]
    private final Tensor shiftMask; // [nW, 1, ws*ws, ws*ws], or null without a shift
    private final Linear attentionOut;
    private final LayerNorm layernormAfter;
    private final Linear intermediate;
    private final Linear output;

    private ClapAudioLayer(int heads, int window, int shift, int height, int width, LayerNorm layernormBefore,
            Linear query, Linear key, Linear value, Tensor positionBias, Tensor shiftMask, Linear attentionOut,
            LayerNorm layernormAfter, Linear intermediate, Linear output) {
        this.heads = heads;
        this.window = window;
        this.shift = shift;
        this.height = height;
        this.width = width;
        this.layernormBefore = layernormBefore;
        this.query = query;
        this.key = key;
        this.value = value;
        this.positionBias = positionBias;
        this.shiftMask = shiftMask;
        this.attentionOut = attentionOut;
        this.layernormAfter = layernormAfter;
        this.intermediate = intermediate;
        this.output = output;
    }

    /**
     * @param dim         the stage's width
     * @param height      token rows at this stage
     * @param width       token columns at this stage
     * @param shifted     an odd block of its stage (shifted by half a window)
     */
    static ClapAudioLayer load(Weights w, ClapAudioConfig c, int dim, int heads, int height, int width,
            boolean shifted) {
        int configWindow = c.windowSize();
        int window = configWindow;
        int shift = shifted ? configWindow / 2 : 0;
        // as transformers: a stage no larger than one window is attended as one window, unshifted
        if (Math.min(height, width) <= configWindow) {
            shift = 0;
            window = Math.min(height, width);
        }
        if (window != configWindow) {
            // the relative position table is sized for the configured window; the reference fails here too
            throw new ModelLoadException(w.key("") + ": a " + height + " x " + width + " stage is smaller than the "
                    + configWindow + "-token window (spec_size, patch_stride and depths do not fit window_size)");
        }
        Weights self = w.child("attention").child("self");
        int mlp = (int) (c.mlpRatio() * dim);
        return new ClapAudioLayer(heads, window, shift, height, width,
                LayerNorm.load(w.child("layernorm_before"), dim, c.layerNormEps()),
                Linear.load(self.child("query"), dim, dim, c.qkvBias()),
                Linear.load(self.child("key"), dim, dim, c.qkvBias()),
                Linear.load(self.child("value"), dim, dim, c.qkvBias()),
                positionBias(self, heads, window),
                shift > 0 ? shiftMask(w, height, width, window, shift) : null,
                Linear.load(w.child("attention").child("output").child("dense"), dim, dim, true),
                LayerNorm.load(w.child("layernorm_after"), dim, c.layerNormEps()),
                Linear.load(w.child("intermediate").child("dense"), dim, mlp, true),
                Linear.load(w.child("output").child("dense"), mlp, dim, true));
    }

    /**
     * The relative position bias {@code [1, heads, n, n]} of an {@code n = ws*ws}-token window: entry (i, j)
     * of head h is {@code table[index(i, j), h]}, where the index enumerates the (dy, dx) offsets between the
     * two tokens. The checkpoint's {@code relative_position_index} buffer, when present, must be that index.
     */
    private static Tensor positionBias(Weights self, int heads, int ws) {
        int span = 2 * ws - 1;
        float[] table = self.floats("relative_position_bias_table");
        if (table.length != span * span * heads) {
            throw new ModelLoadException(self.key("relative_position_bias_table") + " has " + table.length
                    + " values, expected [" + span * span + ", " + heads + "]");
        }
        int n = ws * ws;
        long[] index = new long[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int dy = i / ws - j / ws + ws - 1;
                int dx = i % ws - j % ws + ws - 1;
                index[i * n + j] = (long) dy * span + dx;
            }
        }
        if (self.has("relative_position_index")) {
            long[] stored = self.longs("relative_position_index");
            if (!Arrays.equals(stored, index)) {
                throw new ModelLoadException(self.key("relative_position_index") + " is not the index of a " + ws
                        + " x " + ws + " window");
            }
        }
        float[] bias = new float[heads * n * n];
        for (int h = 0; h < heads; h++) {
            for (int k = 0; k < n * n; k++) {
                bias[h * n * n + k] = table[(int) index[k] * heads + h];
            }
        }
        return self.backend().fromArray(bias, Shape.of(1, heads, n, n));
    }

    /**
     * The shifted-window mask {@code [nW, 1, n, n]}: after the cyclic shift the last window row and column hold
     * tokens from up to three regions of the (padded) image; pairs from different regions get -100.
     */
    private static Tensor shiftMask(Weights w, int height, int width, int ws, int shift) {
        int hp = roundUp(height, ws);
        int wp = roundUp(width, ws);
        int[] regionRow = regions(hp, ws, shift);
        int[] regionCol = regions(wp, ws, shift);
        int wh = hp / ws;
        int ww = wp / ws;
        int n = ws * ws;
        float[] mask = new float[wh * ww * n * n];
        int[] id = new int[n];
        for (int y = 0; y < wh; y++) {
            for (int x = 0; x < ww; x++) {
                for (int t = 0; t < n; t++) {
                    id[t] = regionRow[y * ws + t / ws] * 3 + regionCol[x * ws + t % ws];
                }
                int base = (y * ww + x) * n * n;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        mask[base + i * n + j] = id[i] == id[j] ? 0f : SHIFT_MASK;
                    }
                }
            }
        }
        return w.backend().fromArray(mask, Shape.of(wh * ww, 1, n, n));
    }

    /** Region of each row: 0 before the last window, 1 in it before the shift, 2 in the last {@code shift}. */
    private static int[] regions(int size, int ws, int shift) {
        int[] r = new int[size];
        for (int i = 0; i < size; i++) {
            r[i] = i < size - ws ? 0 : i < size - shift ? 1 : 2;
        }
        return r;
    }

    private static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }

    /**
     * @param x {@code [batch, height*width, dim]}
     * @return {@code [batch, height*width, dim]}
     */
    Tensor forward(Tensor x) {
        try (Scope scope = Scope.open()) {
            Tensor attended = x.add(windowAttention(layernormBefore.forward(x)));
            Tensor mlp = output.forward(intermediate.forward(layernormAfter.forward(attended)).gelu());
            return scope.keep(attended.add(mlp));
        }
    }

    private Tensor windowAttention(Tensor normed) {
        int b = normed.dim(0);
        int c = normed.dim(2);
        int hp = roundUp(height, window);
        int wp = roundUp(width, window);
        Tensor img = normed.reshape(b, height, width, c);
        if (hp != height || wp != width) {
            img = img.pad(new int[] {0, 0, 0, wp - width, 0, hp - height}, 0f);
        }
        if (shift > 0) {
            img = roll(roll(img, 1, -shift), 2, -shift);
        }
        int wh = hp / window;
        int ww = wp / window;
        int n = window * window;
        int nW = wh * ww;
        Tensor windows = img.reshape(b, wh, window, ww, window, c).permute(0, 1, 3, 2, 4, 5).reshape(b * nW, n, c);

        int d = c / heads;
        Tensor q = splitHeads(query.forward(windows), heads);
        Tensor k = splitHeads(key.forward(windows), heads);
        Tensor v = splitHeads(value.forward(windows), heads);
        FlopCounter.attention(q, k, v);
        Tensor context = normed.backend().attention(q, k, v, mask(b), (float) (1.0 / Math.sqrt(d)))
                .permute(0, 2, 1, 3).reshape(b * nW, n, c);
        Tensor out = attentionOut.forward(context);

        Tensor merged = out.reshape(b, wh, ww, window, window, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c);
        if (shift > 0) {
            merged = roll(roll(merged, 1, shift), 2, shift);
        }
        if (hp != height || wp != width) {
            merged = merged.slice(1, 0, height).slice(2, 0, width);
        }
        return merged.reshape(b, height * width, c);
    }

    /** The additive attention mask for {@code batch} images: {@code [batch*nW or 1, heads, n, n]}. */
    private Tensor mask(int batch) {
        if (shiftMask == null) {
            return positionBias;
        }
        Tensor perWindow = shiftMask.add(positionBias); // [nW, heads, n, n]
        if (batch == 1) {
            return perWindow;
        }
        List<Tensor> copies = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            copies.add(perWindow);
        }
        return perWindow.backend().concat(copies, 0);
    }

    /** torch.roll along one dim: element i moves to {@code (i + by) mod size}. */
    private static Tensor roll(Tensor t, int dim, int by) {
        int size = t.dim(dim);
        int s = Math.floorMod(by, size);
        if (s == 0) {
            return t;
        }
        return t.backend().concat(List.of(t.slice(dim, size - s, size), t.slice(dim, 0, size - s)), dim);
    }

    /** {@code [batch, length, heads*d] -> [batch, heads, length, d]}. */
    private static Tensor splitHeads(Tensor t, int heads) {
        return t.reshape(t.dim(0), t.dim(1), heads, t.dim(2) / heads).permute(0, 2, 1, 3);
    }
}
