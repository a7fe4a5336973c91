package org.euterpe.pipeline.noise;

/**
 * The 32-bit Mersenne Twister (MT19937, Matsumoto and Nishimura 1998) as PyTorch's CPU generator
 * uses it: seeded with {@code init_genrand} from the low 32 bits of the seed, one tempered 32-bit
 * word per call.
 */
public final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    private final int[] state = new int[N];
    private int next;

    /** A generator seeded with {@code seed & 0xFFFFFFFF}, as torch's {@code manual_seed} does. */
    public Mt19937(long seed) {
        seed(seed);
    }

    /** Re-seeds with the low 32 bits of {@code seed} (higher bits are ignored, as in torch). */
    public void seed(long seed) {
        state[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            int prev = state[i - 1];
            state[i] = 1812433253 * (prev ^ (prev >>> 30)) + i;
        }
        next = N;
    }

    /** The next 32-bit output; read it as unsigned ({@code & 0xFFFFFFFFL}). */
    public int nextInt() {
        if (next >= N) {
            twist();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    /** Two outputs as one 64-bit word, the first as the high half (torch's {@code random64}). */
    public long nextLong() {
        long hi = nextInt() & 0xFFFFFFFFL;
        long lo = nextInt() & 0xFFFFFFFFL;
        return (hi << 32) | lo;
    }

    /** Regenerates the whole state block. */
    private void twist() {
        for (int k = 0; k < N; k++) {
            int y = (state[k] & UPPER_MASK) | (state[(k + 1) % N] & LOWER_MASK);
            state[k] = state[(k + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        }
        next = 0;
    }
}
