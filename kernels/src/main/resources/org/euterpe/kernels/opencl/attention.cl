// Flash-style attention: softmax(scale * q k^T + mask) v without the Lq x Lk score matrix.
// A work-group holds a block of queries (one work-item each, its row of q and its output
// accumulator in local memory) and walks the keys in tiles of BK, loaded cooperatively into
// local memory, keeping a running max and sum per query (online softmax).
//
// q [bh, lq, d]; k [bh, lk, d]; v [bh, lk, dv]; out [bh, lq, dv] with bh = batch * heads.
// mask: additive, read at b * ms.s0 + h * ms.s1 + i * ms.s2 + j * ms.s3 (stride 0 = broadcast).
// Local buffers: qs [block, d], os [block, dv], ks [BK, d], vs [BK, dv].
__kernel void attention(int heads, int lq, int lk, int d, int dv, float scale,
                        __global const float* q, __global const float* k, __global const float* v,
                        __global const float* mask, int hasMask, int4 ms, __global float* out,
                        __local float* qs, __local float* os, __local float* ks, __local float* vs) {
    int bh = get_group_id(1);
    int b = bh / heads;
    int h = bh % heads;
    int lid = get_local_id(0);
    int block = get_local_size(0);
    int i = get_group_id(0) * block + lid;
    bool active = i < lq;
    __local float* qr = qs + lid * d;
    __local float* o = os + lid * dv;
    if (active) {
        for (int t = 0; t < d; t++) {
            qr[t] = q[((long) bh * lq + i) * d + t];
        }
        for (int t = 0; t < dv; t++) {
            o[t] = 0.0f;
        }
    }
    float runMax = -INFINITY;
    float runSum = 0.0f;
    for (int j0 = 0; j0 < lk; j0 += BK) {
        int nk = min(BK, lk - j0);
        __global const float* kt = k + ((long) bh * lk + j0) * d;
        __global const float* vt = v + ((long) bh * lk + j0) * dv;
        for (int e = lid; e < nk * d; e += block) {
            ks[e] = kt[e];
        }
        for (int e = lid; e < nk * dv; e += block) {
            vs[e] = vt[e];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (active) {
            float s[BK];
            float tileMax = -INFINITY;
            for (int jj = 0; jj < nk; jj++) {
                float dot = 0.0f;
                for (int t = 0; t < d; t++) {
                    dot += qr[t] * ks[jj * d + t];
                }
                s[jj] = scale * dot;
                if (hasMask) {
                    s[jj] += mask[b * ms.s0 + h * ms.s1 + i * ms.s2 + (j0 + jj) * ms.s3];
                }
                tileMax = fmax(tileMax, s[jj]);
            }
            float newMax = fmax(runMax, tileMax);
            float correction = exp(runMax - newMax);
            runSum *= correction;
            for (int jj = 0; jj < nk; jj++) {
                s[jj] = exp(s[jj] - newMax);
                runSum += s[jj];
            }
            for (int t = 0; t < dv; t++) {
                float acc = o[t] * correction;
                for (int jj = 0; jj < nk; jj++) {
                    acc += s[jj] * vs[jj * dv + t];
                }
                o[t] = acc;
            }
            runMax = newMax;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (active) {
        for (int t = 0; t < dv; t++) {
            out[((long) bh * lq + i) * dv + t] = o[t] / runSum;
        }
    }
}
