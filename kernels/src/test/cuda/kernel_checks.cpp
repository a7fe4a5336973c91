// Runs every CUDA kernel of the backend on the CPU emulator (cuda_emu.h) against plain double
// references, on small random cases that cover the edge paths (partial tiles, transposes,
// broadcasting, padding, dilation, masks, every weight dtype). Exit status 0 when all agree.
// Built and run by KernelEmulationTest; by hand:
//   g++ -std=c++20 -O1 -pthread -Iinclude -I../../main/cuda -include cuda_emu.h kernel_checks.cpp
#include "elementwise.cu"
#include "movement.cu"
#include "norm.cu"
#include "gemm.cu"
#include "attention.cu"
#include "mma.cu"
#include "snake.cu"
#include "stable_audio.cu"
#include "resample.cu"
#include "swiglu.cu"
#include <cstdio>
#include <random>
using namespace euterpe;
std::mt19937 rng(7);
std::vector<float> randn(size_t n) { std::normal_distribution<float> d; std::vector<float> v(n); for (auto& x : v) x = d(rng); return v; }
int fails = 0;
void check(const char* what, const std::vector<float>& got, const std::vector<double>& ref, double tol) {
    double maxAbs = 0, maxRef = 0;
    for (size_t i = 0; i < ref.size(); i++) { maxAbs = std::max(maxAbs, std::fabs(got[i] - ref[i])); maxRef = std::max(maxRef, std::fabs(ref[i])); if (std::isnan(got[i]) != std::isnan(ref[i])) maxAbs = INFINITY; }
    bool ok = maxAbs <= tol * std::max(1.0, maxRef);
    if (!ok) fails++;
    printf("%-4s %-60s max abs %.3g (max |ref| %.3g)\n", ok ? "ok" : "FAIL", what, maxAbs, maxRef);
}
dim3 g1(long long n) { return {(unsigned)std::min<long long>((n + 255) / 256, 1 << 20), 1, 1}; }
// Weight storage in one of the dtypes; w(i) gives the exact widened value.
struct W { int dt; std::vector<float> f; std::vector<uint16_t> h; std::vector<int8_t> q; std::vector<float> sc; long long perRow;
  const void* data() const { return dt == 0 ? (const void*)f.data() : dt == 3 ? (const void*)q.data() : (const void*)h.data(); }
  double at(long long i) const { if (dt == 0) return f[i]; if (dt == 3) return (float)(q[i] * sc[i / perRow]);
    __half a; a.x = h[i]; __nv_bfloat16 b; b.x = h[i]; return dt == 1 ? __half2float(a) : __bfloat162float(b); } };
W weight(int dt, long long dim0, long long n) { W w{dt}; w.perRow = n / dim0; auto v = randn(n);
  if (dt == 0) w.f = v; else if (dt == 3) { w.q.resize(n); w.sc.resize(dim0); for (auto& s : w.sc) s = 0.01f + std::fabs(randn(1)[0]) * 0.02f; for (long long i = 0; i < n; i++) w.q[i] = (int8_t)((int)(rng() % 255) - 127); }
  else { w.h.resize(n); for (long long i = 0; i < n; i++) w.h[i] = dt == 1 ? __float2half_rn(v[i]).x : __float2bfloat16_rn(v[i]).x; }
  return w; }
Strides strides(std::vector<long long> dims, std::vector<long long> a, std::vector<long long> b) { Strides s{}; s.rank = dims.size(); for (size_t i = 0; i < dims.size(); i++) { s.dims[i] = dims[i]; s.a[i] = a[i]; s.b[i] = b[i]; } return s; }

void testGemm(int M, int N, int K, int ta, int tb, int batches, bool sharedB, int dt, bool extras) {
    auto a = randn((size_t)batches * M * K); W b = weight(dt, sharedB ? (tb ? N : K) : batches, (long long)(sharedB ? 1 : batches) * K * N);
    if (sharedB && dt == 3) b = weight(3, tb ? N : K, (long long)K * N);
    auto bias = randn(N); auto c = randn((size_t)batches * M * N); float alpha = extras ? 0.5f : 1.f, beta = extras ? 0.75f : 0.f;
    std::vector<float> out((size_t)batches * M * N);
    long long sA = (long long)M * K, sB = sharedB ? 0 : (long long)K * N;
    launch({(unsigned)(N + 63) / 64, (unsigned)(M + 63) / 64, (unsigned)batches}, {256}, [&] { gemm_f32(a.data(), b.data(), b.sc.data(), b.perRow, dt, extras ? bias.data() : nullptr, extras ? c.data() : nullptr, out.data(), M, N, K, ta, tb, sA, sB, alpha, beta); });
    std::vector<double> ref(out.size());
    for (int z = 0; z < batches; z++) for (int m = 0; m < M; m++) for (int n = 0; n < N; n++) { double acc = 0;
        for (int k = 0; k < K; k++) acc += (double)a[z * sA + (ta ? (long long)k * M + m : (long long)m * K + k)] * b.at(z * sB + (tb ? (long long)n * K + k : (long long)k * N + n));
        double r = alpha * acc; if (extras) r += bias[n] + beta * c[((long long)z * M + m) * N + n]; ref[((long long)z * M + m) * N + n] = r; }
    char buf[128]; snprintf(buf, sizeof buf, "gemm %dx%dx%d ta%d tb%d batch%d shared%d dt%d extras%d", M, N, K, ta, tb, batches, sharedB, dt, extras);
    check(buf, out, ref, 1e-5);
}
void testConv2d(int B, int C, int H, int Wd, int O, int kh, int kw, int s, int p, int d, int dt, bool oneD) {
    int sh = oneD ? 1 : s, ph = oneD ? 0 : p, dh = oneD ? 1 : d;
    int oh = (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (Wd + 2 * p - d * (kw - 1) - 1) / s + 1;
    auto x = randn((size_t)B * C * H * Wd); W w = weight(dt, O, (long long)O * C * kh * kw); auto bias = randn(O);
    std::vector<float> out((size_t)B * O * oh * ow);
    launch({(unsigned)(O + 63) / 64, (unsigned)(B * oh * ow + 63) / 64, 1}, {256}, [&] { conv2d_f32(x.data(), w.data(), w.sc.data(), w.perRow, dt, bias.data(), out.data(), B, C, H, Wd, O, kh, kw, oh, ow, sh, ph, dh, s, p, d); });
    std::vector<double> ref(out.size());
    for (int b = 0; b < B; b++) for (int o = 0; o < O; o++) for (int y = 0; y < oh; y++) for (int xo = 0; xo < ow; xo++) { double acc = bias[o];
        for (int c = 0; c < C; c++) for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) { int iy = y * sh - ph + i * dh, ix = xo * s - p + j * d;
            if (iy >= 0 && iy < H && ix >= 0 && ix < Wd) acc += (double)x[((b * C + c) * H + iy) * Wd + ix] * w.at(((o * C + c) * kh + i) * kw + j); }
        ref[((b * O + o) * oh + y) * ow + xo] = acc; }
    char buf[128]; snprintf(buf, sizeof buf, "conv %dx%dx%dx%d o%d k%dx%d s%d p%d d%d dt%d 1d%d", B, C, H, Wd, O, kh, kw, s, p, d, dt, oneD);
    check(buf, out, ref, 1e-5);
}
void testConvT(int B, int C, int L, int O, int k, int s, int p, int op, int d, int dt) {
    int outLen = (L - 1) * s - 2 * p + d * (k - 1) + op + 1;
    auto x = randn((size_t)B * C * L); W w = weight(dt, C, (long long)C * O * k); auto bias = randn(O);
    std::vector<float> out((size_t)B * O * outLen);
    launch({(unsigned)(O + 63) / 64, (unsigned)(B * outLen + 63) / 64, 1}, {256}, [&] { conv_transpose1d_f32(x.data(), w.data(), w.sc.data(), w.perRow, dt, bias.data(), out.data(), B, C, L, O, k, outLen, s, p, d); });
    std::vector<double> ref(out.size());
    for (int b = 0; b < B; b++) for (int o = 0; o < O; o++) for (int t = 0; t < outLen; t++) ref[(b * O + o) * outLen + t] = bias[o];
    for (int b = 0; b < B; b++) for (int c = 0; c < C; c++) for (int i = 0; i < L; i++) for (int o = 0; o < O; o++) for (int j = 0; j < k; j++) { int t = i * s - p + j * d;
        if (t >= 0 && t < outLen) ref[(b * O + o) * outLen + t] += (double)x[(b * C + c) * L + i] * w.at((c * O + o) * k + j); }
    char buf[128]; snprintf(buf, sizeof buf, "convT %dx%dx%d o%d k%d s%d p%d op%d d%d dt%d", B, C, L, O, k, s, p, op, d, dt);
    check(buf, out, ref, 1e-5);
}
void testAttention(int B, int Hh, int lq, int lk, int d, int dv, bool mask, bool maskFull) {
    auto q = randn((size_t)B * Hh * lq * d), k = randn((size_t)B * Hh * lk * d), v = randn((size_t)B * Hh * lk * dv);
    // mask [B,1,1,lk] or full [B,H,lq,lk]; some -inf entries
    std::vector<float> m = randn(maskFull ? (size_t)B * Hh * lq * lk : (size_t)B * lk);
    if (!maskFull) for (int b = 0; b < B; b++) m[b * lk + lk - 1] = -INFINITY;
    long long mb = maskFull ? (long long)Hh * lq * lk : lk, mh = maskFull ? (long long)lq * lk : 0, mq = maskFull ? lk : 0, mk = 1;
    float scale = 1.f / std::sqrt((float)d);
    std::vector<float> out((size_t)B * Hh * lq * dv);
    launch({(unsigned)(lq + 3) / 4, (unsigned)(B * Hh), 1}, {128}, [&] { attention_f32(q.data(), k.data(), v.data(), mask ? m.data() : nullptr, out.data(), Hh, lq, lk, d, dv, scale, mb, mh, mq, mk); });
    std::vector<double> ref(out.size()); std::vector<double> p(lk);
    for (int bh = 0; bh < B * Hh; bh++) for (int i = 0; i < lq; i++) { double mx = -INFINITY;
        for (int j = 0; j < lk; j++) { double dot = 0; for (int t = 0; t < d; t++) dot += (double)q[(bh * lq + i) * d + t] * k[(bh * lk + j) * d + t];
            p[j] = scale * dot + (mask ? m[(bh / Hh) * mb + (bh % Hh) * mh + i * mq + j * mk] : 0); mx = std::max(mx, p[j]); }
        double sum = 0; for (int j = 0; j < lk; j++) { p[j] = std::exp(p[j] - mx); sum += p[j]; }
        for (int t = 0; t < dv; t++) { double acc = 0; for (int j = 0; j < lk; j++) acc += p[j] / sum * v[(bh * lk + j) * dv + t]; ref[(bh * lq + i) * dv + t] = acc; } }
    char buf[128]; snprintf(buf, sizeof buf, "attention b%d h%d lq%d lk%d d%d dv%d mask%d full%d", B, Hh, lq, lk, d, dv, mask, maskFull);
    check(buf, out, ref, 1e-5);
}
// Tensor-core GEMM vs a reference that rounds both operands to the 16-bit type first (the
// path's documented precision), accumulating in double.
template <typename T> uint16_t to16bits(float v) { if constexpr (__is_same(T, __half)) return __float2half_rn(v).x; else return __float2bfloat16_rn(v).x; }
template <typename T>
void run(int M, int N, int K, int ta, int tb, int dt, const char* name) {
    std::mt19937 rng(3); std::normal_distribution<float> nd;
    std::vector<float> a(M * K), bias(N); for (auto& x : a) x = nd(rng); for (auto& x : bias) x = nd(rng);
    std::vector<uint16_t> b(K * N); for (auto& x : b) x = to16bits<T>(nd(rng));
    std::vector<float> out(M * N);
    launch({(unsigned)(N + 63) / 64, (unsigned)(M + 63) / 64, 1}, {128}, [&] {
        if constexpr (__is_same(T, __half)) gemm_mma_f16(a.data(), b.data(), nullptr, 1, dt, bias.data(), nullptr, out.data(), M, N, K, ta, tb, 0, 0, 1.f, 0.f);
        else gemm_mma_bf16(a.data(), b.data(), nullptr, 1, dt, bias.data(), nullptr, out.data(), M, N, K, ta, tb, 0, 0, 1.f, 0.f); });
    double maxAbs = 0, maxRef = 0;
    for (int m = 0; m < M; m++) for (int n = 0; n < N; n++) { double acc = 0;
        for (int k = 0; k < K; k++) { float av = a[ta ? k * M + m : m * K + k]; T h; h.x = to16bits<T>(av); T w; w.x = b[tb ? n * K + k : k * N + n];
            acc += (double)half_to_float<T>(h.x) * half_to_float<T>(w.x); }
        acc += bias[n]; maxAbs = std::max(maxAbs, std::fabs(acc - out[m * N + n])); maxRef = std::max(maxRef, std::fabs(acc)); }
    bool ok = maxAbs <= 1e-5 * maxRef; fails += !ok;
    printf("%-4s mma %s %dx%dx%d ta%d tb%d: max abs %.3g (max |ref| %.3g)\n", ok ? "ok" : "FAIL", name, M, N, K, ta, tb, maxAbs, maxRef);
}
int main() {
    run<__half>(17, 65, 63, 0, 1, 1, "f16"); run<__half>(70, 130, 100, 1, 0, 1, "f16"); run<__nv_bfloat16>(65, 17, 40, 0, 0, 2, "bf16"); run<__nv_bfloat16>(128, 64, 64, 1, 1, 2, "bf16");
    for (int dt = 0; dt < 4; dt++) testGemm(17, 65, 63, 0, 1, 2, true, dt, false);
    for (int ta = 0; ta < 2; ta++) for (int tb = 0; tb < 2; tb++) { testGemm(17, 63, 65, ta, tb, 1, true, 0, false); testGemm(65, 17, 3, ta, tb, 2, false, 0, ta); }
    testGemm(1, 1, 1, 0, 0, 1, true, 0, false); testGemm(70, 130, 200, 0, 0, 3, true, 2, true); testGemm(5, 7, 3, 0, 1, 1, true, 3, true);
    testConv2d(2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 0, false); testConv2d(1, 4, 17, 16, 8, 3, 3, 2, 1, 1, 1, false); testConv2d(1, 3, 13, 15, 4, 3, 3, 1, 2, 2, 3, false);
    testConv2d(1, 2, 17, 17, 3, 5, 5, 3, 0, 1, 2, false); testConv2d(1, 3, 1, 1, 2, 3, 3, 1, 1, 1, 0, false); testConv2d(2, 17, 5, 7, 70, 1, 1, 1, 0, 1, 0, false);
    testConv2d(1, 4, 1, 63, 6, 1, 7, 2, 3, 2, 0, true); testConv2d(1, 8, 1, 65, 8, 1, 3, 1, 5, 5, 3, true);
    testConvT(2, 5, 17, 7, 4, 2, 1, 0, 1, 0); testConvT(1, 4, 9, 3, 16, 8, 4, 0, 1, 1); testConvT(1, 3, 10, 2, 3, 3, 0, 1, 1, 3); testConvT(1, 2, 5, 3, 3, 1, 2, 0, 2, 2); testConvT(1, 3, 1, 2, 1, 1, 0, 0, 1, 0);
    testAttention(2, 3, 5, 7, 8, 8, false, false); testAttention(1, 2, 9, 77, 40, 24, true, false); testAttention(2, 2, 6, 33, 64, 64, true, true); testAttention(1, 1, 3, 1, 160, 160, false, false);
    // norms
    { int B = 2, C = 32, S = 35, G = 8; auto x = randn(B * C * S), g = randn(C), be = randn(C); for (int silu = 0; silu < 2; silu++) { std::vector<float> y(x.size());
      launch({(unsigned)(B * G)}, {256}, [&] { group_norm_f32(x.data(), g.data(), be.data(), y.data(), G, C / G, S, 1e-5f, silu); });
      std::vector<double> ref(x.size()); int n = C / G * S; for (int bg = 0; bg < B * G; bg++) { double mean = 0, var = 0; for (int i = 0; i < n; i++) mean += x[bg * n + i]; mean /= n; for (int i = 0; i < n; i++) var += (x[bg * n + i] - mean) * (x[bg * n + i] - mean); var /= n;
        for (int i = 0; i < n; i++) { int ch = (bg % G) * (C / G) + i / S; double v = (x[bg * n + i] - mean) / std::sqrt(var + 1e-5) * g[ch] + be[ch]; ref[bg * n + i] = silu ? v / (1 + std::exp(-v)) : v; } }
      check(silu ? "groupnorm silu" : "groupnorm", y, ref, 1e-5); } }
    { int R = 6, D = 300; auto x = randn(R * D), g = randn(D), be = randn(D); std::vector<float> y(x.size()), s(x.size()), l(x.size());
      launch({(unsigned)R}, {256}, [&] { layer_norm_f32(x.data(), g.data(), be.data(), y.data(), D, 1e-5f); });
      launch({(unsigned)R}, {256}, [&] { softmax_f32(x.data(), s.data(), D); });
      launch({(unsigned)R}, {256}, [&] { l2_normalize_f32(x.data(), l.data(), D, 1e-12f); });
      std::vector<double> r1(x.size()), r2(x.size()), r3(x.size());
      for (int r = 0; r < R; r++) { double mean = 0, var = 0, mx = -INFINITY, sum = 0, sq = 0; for (int i = 0; i < D; i++) { mean += x[r * D + i]; mx = std::max(mx, (double)x[r * D + i]); sq += (double)x[r * D + i] * x[r * D + i]; } mean /= D;
        for (int i = 0; i < D; i++) { var += (x[r * D + i] - mean) * (x[r * D + i] - mean); sum += std::exp(x[r * D + i] - mx); } var /= D;
        for (int i = 0; i < D; i++) { r1[r * D + i] = (x[r * D + i] - mean) / std::sqrt(var + 1e-5) * g[i] + be[i]; r2[r * D + i] = std::exp(x[r * D + i] - mx) / sum; r3[r * D + i] = x[r * D + i] / std::sqrt(sq); } }
      check("layernorm", y, r1, 1e-5); check("softmax", s, r2, 1e-5); check("l2normalize", l, r3, 1e-5); }
    { long long O = 3, N = 17, I = 5; auto x = randn(O * N * I); std::vector<float> y(O * I); launch(g1(O * I), {256}, [&] { reduce_dim_f32(x.data(), y.data(), O, N, I, 1.0 / N); });
      std::vector<double> ref(O * I); for (int o = 0; o < O; o++) for (int i = 0; i < I; i++) { double a = 0; for (int j = 0; j < N; j++) a += x[(o * N + j) * I + i]; ref[o * I + i] = a / N; } check("mean dim1", y, ref, 1e-6); }
    // element-wise
    { auto x = randn(1000); for (int op = 0; op < 9; op++) { std::vector<float> y(1000); launch(g1(1000), {256}, [&] { unary_f32(x.data(), y.data(), 1000, op, 0.2f); });
      std::vector<double> ref(1000); for (int i = 0; i < 1000; i++) { double v = x[i]; double r[] = {v / (1 + std::exp(-v)), 0.5 * v * std::erfc(-v / std::sqrt(2.0)), v < 0 ? 0 : v, v >= 0 ? v : 0.2 * v, std::tanh(v), std::exp(v), 1 / (1 + std::exp(-v)), -v, std::sqrt(v)}; ref[i] = r[op]; }
      char buf[32]; snprintf(buf, 32, "unary %d", op); check(buf, y, ref, 1e-5); } }
    { auto a = randn(2 * 3 * 4), b = randn(3 * 1); std::vector<float> y(24); auto s = strides({2, 3, 4}, {12, 4, 1}, {0, 1, 0});
      launch(g1(24), {256}, [&] { binary_f32(a.data(), b.data(), y.data(), 24, 3, s); });
      std::vector<double> ref(24); for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) ref[(i * 3 + j) * 4 + k] = a[(i * 3 + j) * 4 + k] / b[j]; check("binary div broadcast [2,3,4]/[3,1]", y, ref, 1e-6); }
    { auto x = randn(2 * 3 * 17 * 5); std::vector<float> y(x.size()); // permute [0,3,1,2]
      auto s = strides({2, 5, 3, 17}, {255, 1, 85, 5}, {255, 51, 17, 1}); launch(g1(x.size()), {256}, [&] { strided_copy((const char*)x.data(), (char*)y.data(), x.size(), 4, s); });
      std::vector<double> ref(x.size()); for (int a = 0; a < 2; a++) for (int b = 0; b < 5; b++) for (int c = 0; c < 3; c++) for (int d = 0; d < 17; d++) ref[((a * 5 + b) * 3 + c) * 17 + d] = x[((a * 3 + c) * 17 + d) * 5 + b]; check("permute [0,3,1,2]", y, ref, 0); }
    { int P = 6, ih = 13, iw = 9, oh = 7, ow = 5; auto x = randn(P * ih * iw); std::vector<float> y(P * oh * ow); launch(g1(y.size()), {256}, [&] { upsample_nearest((const char*)x.data(), (char*)y.data(), P, ih, iw, oh, ow, 4); });
      std::vector<double> ref(y.size()); float sh = (float)ih / oh, sw = (float)iw / ow; for (int p = 0; p < P; p++) for (int r = 0; r < oh; r++) for (int c = 0; c < ow; c++) ref[(p * oh + r) * ow + c] = x[(p * ih + std::min((int)std::floor(r * sh), ih - 1)) * iw + std::min((int)std::floor(c * sw), iw - 1)]; check("upsample 13x9->7x5", y, ref, 0); }
    for (int dt = 0; dt < 4; dt++) { W t = weight(dt, 50, 50 * 17); std::vector<long long> ids = {3, 49, 0, 7, 7}; std::vector<float> y(5 * 17);
      launch(g1(y.size()), {256}, [&] { embedding_f32(ids.data(), 5, t.data(), t.sc.data(), dt, 5, 17, y.data()); });
      std::vector<double> ref(y.size()); for (int i = 0; i < 5; i++) for (int j = 0; j < 17; j++) ref[i * 17 + j] = t.at(ids[i] * 17 + j); char buf[32]; snprintf(buf, 32, "embedding dt%d", dt); check(buf, y, ref, 0); }
    for (int dt = 1; dt < 4; dt++) { W t = weight(dt, 5, 5 * 17); std::vector<float> y(85); launch(g1(85), {256}, [&] { cast_float(t.data(), t.sc.data(), t.perRow, dt, y.data(), 0, 85); });
      std::vector<double> ref(85); for (int i = 0; i < 85; i++) ref[i] = t.at(i); char buf[32]; snprintf(buf, 32, "cast dt%d -> f32", dt); check(buf, y, ref, 0); }
    { auto x = randn(100); std::vector<uint16_t> y(100); launch(g1(100), {256}, [&] { cast_float(x.data(), nullptr, 1, 0, y.data(), 2, 100); });
      std::vector<float> back(100); std::vector<double> ref(100); for (int i = 0; i < 100; i++) { __nv_bfloat16 b; b.x = y[i]; back[i] = __bfloat162float(b); ref[i] = __bfloat162float(__float2bfloat16_rn(x[i])); } check("cast f32 -> bf16", back, ref, 0); }
    { std::vector<float> y(77); float v = -1.5f; uint32_t bits; std::memcpy(&bits, &v, 4); launch(g1(77), {256}, [&] { fill_bits(y.data(), 77, 4, bits); }); check("fill -1.5", y, std::vector<double>(77, -1.5), 0); }
    // gated activation (Stable Audio DiT)
    { int R = 5, N = 67; auto x = randn(R * 2 * N); for (auto& v : x) v *= 4; std::vector<float> y(R * N);
      launch(g1(y.size()), {256}, [&] { swiglu_f32(x.data(), y.data(), (long long)y.size(), N); });
      std::vector<double> ref(y.size()); for (int r = 0; r < R; r++) for (int j = 0; j < N; j++) { double g = x[r * 2 * N + N + j];
        ref[r * N + j] = x[r * 2 * N + j] * (g / (1 + std::exp(-g))); } check("swiglu [5,134]", y, ref, 1e-5); }
    // audio activations (Stable Audio)
    { int B = 2, C = 5, L = 37; auto x = randn(B * C * L), a = randn(C), ib = randn(C); std::vector<float> y(x.size());
      launch(g1(y.size()), {256}, [&] { snake_f32(x.data(), a.data(), ib.data(), y.data(), (long long)y.size(), C, L); });
      std::vector<double> ref(y.size()); for (int i = 0; i < B * C * L; i++) { int c = (i / L) % C; double s = std::sin((double)a[c] * x[i]); ref[i] = x[i] + ib[c] * s * s; } check("snake [2,5,37]", y, ref, 1e-5); }
    { int R = 7, D = 70; auto x = randn(R * D), w = randn(D); std::vector<float> y(x.size());
      launch(g1(R * 32LL), {256}, [&] { rms_norm_f32(x.data(), w.data(), y.data(), R, D, 1e-6f); });
      std::vector<double> ref(x.size()); for (int r = 0; r < R; r++) { double sq = 0; for (int i = 0; i < D; i++) sq += (double)x[r * D + i] * x[r * D + i];
        for (int i = 0; i < D; i++) ref[r * D + i] = w[i] * x[r * D + i] / std::sqrt(sq / D + 1e-6); } check("rms_norm [7,70]", y, ref, 1e-5); }
    { int B = 2, H = 3, L = 5, D = 12, Rr = 8; auto x = randn(B * H * L * D), c = randn(L * Rr), s = randn(L * Rr); std::vector<float> y(x.size());
      launch(g1(y.size()), {256}, [&] { rotary_f32(x.data(), c.data(), s.data(), y.data(), (long long)y.size(), D, Rr, L); });
      std::vector<double> ref(y.size()); for (int row = 0; row < B * H * L; row++) { int l = row % L; for (int j = 0; j < D; j++) { double v = x[row * D + j];
        ref[row * D + j] = j < Rr / 2 ? v * c[l * Rr + j] - x[row * D + j + Rr / 2] * s[l * Rr + j] : j < Rr ? v * c[l * Rr + j] + x[row * D + j - Rr / 2] * s[l * Rr + j] : v; } }
      check("rotary [2,3,5,12] r 8", y, ref, 1e-5); }
    // Dance Diffusion's cubic 2x resampling: reflect padding, stride-2 correlation / transposed convolution.
    for (int len : {3, 6, 17}) { const int k = 8, rows = 5; std::vector<float> taps = {-0.01171875f, -0.03515625f, 0.11328125f, 0.43359375f, 0.43359375f, 0.11328125f, -0.03515625f, -0.01171875f};
      auto refl = [&](int i) { return i < 0 ? -i : i >= len ? 2 * (len - 1) - i : i; }; auto x = randn(rows * len);
      if (len > 3) { int pad = 3, outLen = (len + 2 * pad - k) / 2 + 1; std::vector<float> y(rows * outLen);
        launch(g1(y.size()), {256}, [&] { downsample1d(x.data(), taps.data(), y.data(), rows, len, k, pad, outLen); });
        std::vector<double> ref(y.size()); for (int r = 0; r < rows; r++) for (int o = 0; o < outLen; o++) { double a = 0; for (int j = 0; j < k; j++) a += (double)taps[j] * x[r * len + refl(2 * o + j - pad)]; ref[r * outLen + o] = a; }
        char buf[48]; snprintf(buf, 48, "downsample1d k8 length %d", len); check(buf, y, ref, 1e-6); }
      { int pad = 2, outLen = 2 * (len + 2 * pad) - k; std::vector<float> y(rows * outLen);
        launch(g1(y.size()), {256}, [&] { upsample1d(x.data(), taps.data(), y.data(), rows, len, k, pad, outLen); });
        std::vector<double> ref(y.size()); for (int r = 0; r < rows; r++) for (int n = 0; n < outLen; n++) { double a = 0; for (int i = 0; i < len + 2 * pad; i++) { int j = n + k - 1 - 2 * i; if (j >= 0 && j < k) a += (double)taps[j] * x[r * len + refl(i - pad)]; } ref[r * outLen + n] = a; }
        char buf[48]; snprintf(buf, 48, "upsample1d k8 length %d", len); check(buf, y, ref, 1e-6); } }
    printf("%d failures\n", fails);
    return fails != 0;
}
