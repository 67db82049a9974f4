// CUDA kernels for minigan's GPU fast paths (compiled at run time by CuPy, see gpu.py).
//
// Each kernel computes what the plain NumPy/CuPy lines in the layer that calls it compute
// (tests/test_kernels.py checks they agree). All of them are deterministic: every output
// element is written by exactly one thread, sums are reduced in a fixed order, and there
// are no atomics, so the same inputs give the same bits on every run.
// Built with --fmad=false, so a*b + c rounds twice, as NumPy does.
// Types: T is float or double; each kernel has one extern "C" entry per type (_f32, _f64).

typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;

// ------------------------------------------------------------------- Philox4x32-10 (philox.py)
__device__ __forceinline__ void philox4x32_10(u64 counter, u32 k0, u32 k1, u32 w[4]) {
    u32 c0 = (u32)counter, c1 = (u32)(counter >> 32), c2 = 0u, c3 = 0u;
#pragma unroll
    for (int r = 0; r < 10; ++r) {
        u64 p0 = (u64)0xD2511F53u * c0, p1 = (u64)0xCD9E8D57u * c2;
        u32 hi0 = (u32)(p0 >> 32), lo0 = (u32)p0, hi1 = (u32)(p1 >> 32), lo1 = (u32)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    w[0] = c0; w[1] = c1; w[2] = c2; w[3] = c3;
}

// float32 uniform: value i = (word i%4 of block counter + i/4) >> 8, times 2^-24
extern "C" __global__ void philox_uniform_f32(float* out, i64 n, u64 counter, u32 k0, u32 k1) {
    i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 b = (i64)blockIdx.x * blockDim.x + threadIdx.x; b * 4 < n; b += stride) {
        u32 w[4];
        philox4x32_10(counter + (u64)b, k0, k1, w);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            i64 i = b * 4 + j;
            if (i < n) out[i] = (float)(w[j] >> 8) * 5.9604644775390625e-08f;
        }
    }
}

// float64 uniform: value i = ((a >> 5)·2^26 + (b >> 6))·2^-53 from words (a, b) = 2(i%2), 2(i%2)+1
extern "C" __global__ void philox_uniform_f64(double* out, i64 n, u64 counter, u32 k0, u32 k1) {
    i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 b = (i64)blockIdx.x * blockDim.x + threadIdx.x; b * 2 < n; b += stride) {
        u32 w[4];
        philox4x32_10(counter + (u64)b, k0, k1, w);
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            i64 i = b * 2 + j;
            u64 a = w[2 * j] >> 5, c = w[2 * j + 1] >> 6;
            if (i < n) out[i] = (double)(a * 67108864ull + c) * 1.1102230246251565e-16;
        }
    }
}

// standard normal, Box–Muller in float64 on word pairs (w0, w1), (w2, w3) of each block
template <typename T>
__device__ void philox_normal(T* out, i64 n, u64 counter, u32 k0, u32 k1) {
    i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 b = (i64)blockIdx.x * blockDim.x + threadIdx.x; b * 4 < n; b += stride) {
        u32 w[4];
        philox4x32_10(counter + (u64)b, k0, k1, w);
#pragma unroll
        for (int p = 0; p < 2; ++p) {
            double r = sqrt(-2.0 * log(((double)w[2 * p] + 1.0) * 2.3283064365386963e-10));
            double theta = 6.283185307179586 * ((double)w[2 * p + 1] * 2.3283064365386963e-10);
            i64 i = b * 4 + 2 * p;
            if (i < n) out[i] = (T)(r * cos(theta));
            if (i + 1 < n) out[i + 1] = (T)(r * sin(theta));
        }
    }
}
extern "C" __global__ void philox_normal_f32(float* out, i64 n, u64 counter, u32 k0, u32 k1) {
    philox_normal<float>(out, n, counter, k0, k1);
}
extern "C" __global__ void philox_normal_f64(double* out, i64 n, u64 counter, u32 k0, u32 k1) {
    philox_normal<double>(out, n, counter, k0, k1);
}

// ------------------------------------------------------------------- Dropout (nn/dropout.py)
// Dropout with its keep mask made here, over C-contiguous (F, N) arrays (feature f, sample n):
// keep[f, n] = [word f mod 4 of Philox block (first_sample + n)·⌈F/4⌉ + ⌊f/4⌋ ≥ threshold],
// y = x·scale where kept, else 0 — bit for bit what kernels/cpu.py and keep_mask compute.
// One thread per (block q, sample n); neighbouring threads take neighbouring n (coalesced).
template <typename T>
__device__ void dropout_philox(const T* x, i64 F, i64 N, u64 first_sample, u32 k0, u32 k1,
                               u64 threshold, T scale, T* y, unsigned char* keep) {
    i64 B = (F + 3) / 4, total = B * N;
    i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        i64 q = idx / N, n = idx % N;
        u32 w[4];
        philox4x32_10((first_sample + (u64)n) * (u64)B + (u64)q, k0, k1, w);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            i64 f = 4 * q + j;
            if (f < F) {
                i64 i = f * N + n;
                bool kept = (u64)w[j] >= threshold;
                keep[i] = kept;
                y[i] = kept ? x[i] * scale : T(0);
            }
        }
    }
}
extern "C" __global__ void dropout_philox_f32(const float* x, i64 F, i64 N, u64 first_sample,
        u32 k0, u32 k1, u64 threshold, float scale, float* y, unsigned char* keep) {
    dropout_philox<float>(x, F, N, first_sample, k0, k1, threshold, scale, y, keep);
}
extern "C" __global__ void dropout_philox_f64(const double* x, i64 F, i64 N, u64 first_sample,
        u32 k0, u32 k1, u64 threshold, double scale, double* y, unsigned char* keep) {
    dropout_philox<double>(x, F, N, first_sample, k0, k1, threshold, scale, y, keep);
}

// ------------------------------------------------------------------- im2col / col2im (im2col.py)
// im2col: out[c, i, j, oh, ow, n] = x[c, oh·sh + i − ph, ow·sw + j − pw, n], 0 outside x.
// x is (C, H, W, N) with any strides (in elements: sc, sh_, sw_, sn); out is C-contiguous.
// One thread per element of out; neighbouring threads take neighbouring n (coalesced).
template <typename T>
__device__ void im2col(const T* x, i64 sc, i64 sy, i64 sx, i64 sn, int C, int H, int W, int N,
                       int kh, int kw, int sh, int sw, int ph, int pw, int Ho, int Wo, T* out) {
    i64 total = (i64)C * kh * kw * Ho * Wo * N;
    i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        i64 t = idx;
        int n = (int)(t % N); t /= N;
        int ow = (int)(t % Wo); t /= Wo;
        int oh = (int)(t % Ho); t /= Ho;
        int j = (int)(t % kw); t /= kw;
        int i = (int)(t % kh);
        int c = (int)(t / kh);
        int h = oh * sh + i - ph, w = ow * sw + j - pw;
        out[idx] = (h >= 0 && h < H && w >= 0 && w < W) ? x[c * sc + h * sy + w * sx + n * sn] : (T)0;
    }
}
extern "C" __global__ void im2col_f32(const float* x, i64 sc, i64 sy, i64 sx, i64 sn, int C, int H,
                                      int W, int N, int kh, int kw, int sh, int sw, int ph, int pw,
                                      int Ho, int Wo, float* out) {
    im2col<float>(x, sc, sy, sx, sn, C, H, W, N, kh, kw, sh, sw, ph, pw, Ho, Wo, out);
}
extern "C" __global__ void im2col_f64(const double* x, i64 sc, i64 sy, i64 sx, i64 sn, int C, int H,
                                      int W, int N, int kh, int kw, int sh, int sw, int ph, int pw,
                                      int Ho, int Wo, double* out) {
    im2col<double>(x, sc, sy, sx, sn, C, H, W, N, kh, kw, sh, sw, ph, pw, Ho, Wo, out);
}

// col2im as a gather: out[c, h, w, n] = Σ over kernel offsets (i, j) whose window position
// oh = (h + ph − i)/sh, ow = (w + pw − j)/sw is whole and in range of cols[c, i, j, oh, ow, n].
// cols is C-contiguous (C, kh, kw, Ho, Wo, N), out C-contiguous (C, H, W, N). The sum runs over
// (i, j) in order, one thread per output element: no atomics, the same bits every run.
template <typename T>
__device__ void col2im(const T* cols, int C, int H, int W, int N, int kh, int kw, int sh, int sw,
                       int ph, int pw, int Ho, int Wo, T* out) {
    i64 total = (i64)C * H * W * N;
    i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        i64 t = idx;
        int n = (int)(t % N); t /= N;
        int w = (int)(t % W); t /= W;
        int h = (int)(t % H);
        int c = (int)(t / H);
        T acc = (T)0;
        for (int i = 0; i < kh; ++i) {
            int th = h + ph - i;
            if (th < 0 || th % sh != 0 || th / sh >= Ho) continue;
            int oh = th / sh;
            for (int j = 0; j < kw; ++j) {
                int tw = w + pw - j;
                if (tw < 0 || tw % sw != 0 || tw / sw >= Wo) continue;
                int ow = tw / sw;
                acc += cols[((((i64)c * kh + i) * kw + j) * Ho + oh) * ((i64)Wo * N) + (i64)ow * N + n];
            }
        }
        out[idx] = acc;
    }
}
extern "C" __global__ void col2im_f32(const float* cols, int C, int H, int W, int N, int kh, int kw,
                                      int sh, int sw, int ph, int pw, int Ho, int Wo, float* out) {
    col2im<float>(cols, C, H, W, N, kh, kw, sh, sw, ph, pw, Ho, Wo, out);
}
extern "C" __global__ void col2im_f64(const double* cols, int C, int H, int W, int N, int kh, int kw,
                                      int sh, int sw, int ph, int pw, int Ho, int Wo, double* out) {
    col2im<double>(cols, C, H, W, N, kh, kw, sh, sw, ph, pw, Ho, Wo, out);
}

// ------------------------------------------------------------------- BatchNorm (batchnorm.py)
// One block per channel row c of a C-contiguous (C, M) array; blockDim.x is a power of two
// (at most 1024). Sums are taken in float64: each thread adds its strided share in order,
// then a fixed tree adds the threads' partial sums.
__device__ double block_sum(double v, double* shared) {
    int t = threadIdx.x;
    shared[t] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) shared[t] += shared[t + s];
        __syncthreads();
    }
    double total = shared[0];
    __syncthreads();                       // shared[] may be reused right after
    return total;
}

// μ, biased σ², x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β; and, when update_running, the running
// estimates move as batchnorm.py's _update_running_stats does (float-typed arithmetic):
//   running_mean ← running_mean·(1 − m) + m·μ,   running_var ← running_var·(1 − m) + (m·M/(M−1))·σ²
template <typename T>
__device__ void batchnorm_forward(const T* x, i64 M, const T* gamma, const T* beta, double eps,
                                  T* x_hat, T* y, T* mean_out, T* var_out, T* inv_std_out,
                                  T* running_mean, T* running_var, double keep, double momentum,
                                  double momentum_unbiased, int update_running) {
    __shared__ double shared[1024];
    int c = blockIdx.x;
    const T* row = x + (i64)c * M;
    double s = 0.0;
    for (i64 k = threadIdx.x; k < M; k += blockDim.x) s += (double)row[k];
    double mean = block_sum(s, shared) / (double)M;
    double ss = 0.0;
    for (i64 k = threadIdx.x; k < M; k += blockDim.x) {
        double d = (double)row[k] - mean;
        ss += d * d;
    }
    double var = block_sum(ss, shared) / (double)M;
    double inv = 1.0 / sqrt(var + eps);
    double g = (double)gamma[c], b = (double)beta[c];
    for (i64 k = threadIdx.x; k < M; k += blockDim.x) {
        double xh = ((double)row[k] - mean) * inv;
        x_hat[(i64)c * M + k] = (T)xh;
        y[(i64)c * M + k] = (T)(xh * g + b);
    }
    if (threadIdx.x == 0) {
        T mean_t = (T)mean, var_t = (T)var;
        mean_out[c] = mean_t;
        var_out[c] = var_t;
        inv_std_out[c] = (T)inv;
        if (update_running) {
            T rm = running_mean[c] * (T)keep;
            running_mean[c] = rm + (T)momentum * mean_t;
            T rv = running_var[c] * (T)keep;
            running_var[c] = rv + (T)momentum_unbiased * var_t;
        }
    }
}
extern "C" __global__ void batchnorm_forward_f32(const float* x, i64 M, const float* gamma,
        const float* beta, double eps, float* x_hat, float* y, float* mean, float* var,
        float* inv_std, float* running_mean, float* running_var, double keep, double momentum,
        double momentum_unbiased, int update_running) {
    batchnorm_forward<float>(x, M, gamma, beta, eps, x_hat, y, mean, var, inv_std, running_mean,
                             running_var, keep, momentum, momentum_unbiased, update_running);
}
extern "C" __global__ void batchnorm_forward_f64(const double* x, i64 M, const double* gamma,
        const double* beta, double eps, double* x_hat, double* y, double* mean, double* var,
        double* inv_std, double* running_mean, double* running_var, double keep, double momentum,
        double momentum_unbiased, int update_running) {
    batchnorm_forward<double>(x, M, gamma, beta, eps, x_hat, y, mean, var, inv_std, running_mean,
                              running_var, keep, momentum, momentum_unbiased, update_running);
}

// Training-mode backward per channel row: with Σdy and Σdy·x̂ over the row,
//   dγ += Σdy·x̂,  dβ += Σdy,  dx = (dy·γ − γ·Σdy/M − x̂·γ·Σdy·x̂/M) / √(σ² + ε)
template <typename T>
__device__ void batchnorm_backward(const T* dy, const T* x_hat, i64 M, const T* gamma,
                                   const T* inv_std, T* dgamma, T* dbeta, T* dx) {
    __shared__ double shared[1024];
    int c = blockIdx.x;
    const T* dy_row = dy + (i64)c * M;
    const T* xh_row = x_hat + (i64)c * M;
    double s_dy = 0.0, s_dyxh = 0.0;
    for (i64 k = threadIdx.x; k < M; k += blockDim.x) {
        double d = (double)dy_row[k];
        s_dy += d;
        s_dyxh += d * (double)xh_row[k];
    }
    s_dy = block_sum(s_dy, shared);
    s_dyxh = block_sum(s_dyxh, shared);
    double g = (double)gamma[c];
    double m1 = g * s_dy / (double)M, m2 = g * s_dyxh / (double)M, scale = (double)inv_std[c];
    for (i64 k = threadIdx.x; k < M; k += blockDim.x)
        dx[(i64)c * M + k] = (T)(((double)dy_row[k] * g - m1 - (double)xh_row[k] * m2) * scale);
    if (threadIdx.x == 0) {
        dgamma[c] = (T)((double)dgamma[c] + s_dyxh);
        dbeta[c] = (T)((double)dbeta[c] + s_dy);
    }
}
extern "C" __global__ void batchnorm_backward_f32(const float* dy, const float* x_hat, i64 M,
        const float* gamma, const float* inv_std, float* dgamma, float* dbeta, float* dx) {
    batchnorm_backward<float>(dy, x_hat, M, gamma, inv_std, dgamma, dbeta, dx);
}
extern "C" __global__ void batchnorm_backward_f64(const double* dy, const double* x_hat, i64 M,
        const double* gamma, const double* inv_std, double* dgamma, double* dbeta, double* dx) {
    batchnorm_backward<double>(dy, x_hat, M, gamma, inv_std, dgamma, dbeta, dx);
}

// ------------------------------------------------------------------- many tensors in one launch
// The tensors are given as tables of device pointers, with offsets[k] the number of elements
// before tensor k (offsets[n_tensors] = the total). Thread idx finds its tensor by binary search.
__device__ __forceinline__ int tensor_of(const i64* offsets, int n_tensors, i64 idx) {
    int lo = 0, hi = n_tensors;                    // offsets[lo] <= idx < offsets[hi]
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (offsets[mid] <= idx) lo = mid; else hi = mid;
    }
    return lo;
}

// Adam (optim/adam.py), every parameter of an optimizer in one launch:
//   g ← g + λθ;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  θ ← θ − step_size·m/(√v/√(1 − β₂ᵗ) + ε)
template <typename T>
__device__ void adam_many(const u64* params, const u64* grads, const u64* exp_avgs,
                          const u64* exp_avg_sqs, const i64* offsets, int n_tensors, T beta1,
                          T beta2, T step_size, T bc2_sqrt, T eps, T wd) {
    i64 total = offsets[n_tensors];
    i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        int k = tensor_of(offsets, n_tensors, idx);
        i64 i = idx - offsets[k];
        T* p = (T*)params[k];
        T* m = (T*)exp_avgs[k];
        T* v = (T*)exp_avg_sqs[k];
        T g = ((const T*)grads[k])[i];
        if (wd != (T)0) g = g + wd * p[i];
        T mi = m[i] * beta1 + ((T)1 - beta1) * g;
        T vi = v[i] * beta2 + ((T)1 - beta2) * (g * g);
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] - step_size * (mi / (sqrt(vi) / bc2_sqrt + eps));
    }
}
extern "C" __global__ void adam_many_f32(const u64* params, const u64* grads, const u64* exp_avgs,
        const u64* exp_avg_sqs, const i64* offsets, int n_tensors, float beta1, float beta2,
        float step_size, float bc2_sqrt, float eps, float wd) {
    adam_many<float>(params, grads, exp_avgs, exp_avg_sqs, offsets, n_tensors, beta1, beta2,
                     step_size, bc2_sqrt, eps, wd);
}
extern "C" __global__ void adam_many_f64(const u64* params, const u64* grads, const u64* exp_avgs,
        const u64* exp_avg_sqs, const i64* offsets, int n_tensors, double beta1, double beta2,
        double step_size, double bc2_sqrt, double eps, double wd) {
    adam_many<double>(params, grads, exp_avgs, exp_avg_sqs, offsets, n_tensors, beta1, beta2,
                      step_size, bc2_sqrt, eps, wd);
}

// zero_grad: every gradient of a model or optimizer set to 0 in one launch
template <typename T>
__device__ void zero_many(const u64* arrays, const i64* offsets, int n_tensors) {
    i64 total = offsets[n_tensors];
    i64 stride = (i64)gridDim.x * blockDim.x;
    for (i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        int k = tensor_of(offsets, n_tensors, idx);
        ((T*)arrays[k])[idx - offsets[k]] = (T)0;
    }
}
extern "C" __global__ void zero_many_f32(const u64* arrays, const i64* offsets, int n_tensors) {
    zero_many<float>(arrays, offsets, n_tensors);
}
extern "C" __global__ void zero_many_f64(const u64* arrays, const i64* offsets, int n_tensors) {
    zero_many<double>(arrays, offsets, n_tensors);
}
