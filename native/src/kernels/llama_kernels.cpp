// SIMD Llama kernels (contract in llama_kernels.hpp): RMSNorm over rows, the rotary rotation of each head's two
// halves, and SwiGLU's gated activation. Each formula is written once against a lane type T — fbatch for the
// vector body, float for the tail (simd::for_each_lane) — so an element's result does not depend on where it falls.
#include <cmath>
#include <type_traits>

#include "kernels/llama_kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::fbatch;
using simd::load_as;
using simd::store;
using index_t = std::ptrdiff_t;

// Σ_j term(j, lane) over n elements: the vector body and the scalar tail keep separate partial sums.
template <typename Term>
float sum_lanes(int n, Term&& term) {
  fbatch vector_sum(0.0f);
  float scalar_sum = 0.0f;
  simd::for_each_lane(n, [&](int j, auto lane) {
    if constexpr (std::is_same_v<decltype(lane), float>) {
      scalar_sum += term(j, lane);
    } else {
      vector_sum += term(j, lane);
    }
  });
  return simd::reduce_add(vector_sum) + scalar_sum;
}

void rmsnorm_rows_forward_simd(float* out, float* rstd, const float* x, const float* weight, float eps, int N,
                               int C) {
  for (int n = 0; n < N; ++n) {
    const float* row = x + index_t(n) * C;
    float* out_row = out + index_t(n) * C;
    const float squares = sum_lanes(C, [&](int j, auto lane) {
      const auto value = load_as<decltype(lane)>(row + j);
      return value * value;
    });
    const float row_rstd = 1.0f / std::sqrt(squares / C + eps);
    simd::for_each_lane(C, [&](int j, auto lane) {
      using T = decltype(lane);
      store(out_row + j, load_as<T>(row + j) * T(row_rstd) * load_as<T>(weight + j));
    });
    rstd[n] = row_rstd;
  }
}

void rmsnorm_rows_backward_simd(float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                                const float* rstd, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const float* row = x + index_t(n) * C;
    const float* grad = dout + index_t(n) * C;
    float* dx_row = dx + index_t(n) * C;
    const float row_rstd = rstd[n];
    const float grad_xhat_mean = sum_lanes(C, [&](int j, auto lane) {
      using T = decltype(lane);
      return load_as<T>(grad + j) * load_as<T>(weight + j) * (load_as<T>(row + j) * T(row_rstd));
    }) / C;
    simd::for_each_lane(C, [&](int j, auto lane) {
      using T = decltype(lane);
      const T xhat = load_as<T>(row + j) * T(row_rstd);
      const T dy = load_as<T>(grad + j);
      const T g = dy * load_as<T>(weight + j);
      store(dx_row + j, load_as<T>(dx_row + j) + T(row_rstd) * (g - xhat * T(grad_xhat_mean)));
      store(dweight + j, load_as<T>(dweight + j) + dy * xhat);
    });
  }
}

// sign +1 rotates by the table's angle (forward), −1 by its transpose (backward).
template <int sign>
void rotate_heads(float* x, const float* cos, const float* sin, int heads, int D) {
  const int half = D / 2;
  for (int h = 0; h < heads; ++h) {
    float* first = x + index_t(h) * D;
    float* second = first + half;
    simd::for_each_lane(half, [&](int i, auto lane) {
      using T = decltype(lane);
      const T a = load_as<T>(first + i), b = load_as<T>(second + i);
      const T c = load_as<T>(cos + i), s = T(float(sign)) * load_as<T>(sin + i);
      store(first + i, a * c - b * s);
      store(second + i, b * c + a * s);
    });
  }
}

void rotary_forward_simd(float* x, const float* cos, const float* sin, int heads, int D) {
  rotate_heads<1>(x, cos, sin, heads, D);
}
void rotary_backward_simd(float* dx, const float* cos, const float* sin, int heads, int D) {
  rotate_heads<-1>(dx, cos, sin, heads, D);
}

// for_each_lane over an int64_t count, in chunks an int can index.
template <typename F>
void for_each_lane_64(int64_t n, F&& f) {
  constexpr int64_t chunk = int64_t(1) << 30;
  for (int64_t start = 0; start < n; start += chunk) {
    const int count = int(n - start < chunk ? n - start : chunk);
    simd::for_each_lane(count, [&](int j, auto lane) { f(start + j, lane); });
  }
}

void swiglu_forward_simd(float* out, const float* gate, const float* up, int64_t n) {
  for_each_lane_64(n, [&](int64_t i, auto lane) {
    using T = decltype(lane);
    const T g = load_as<T>(gate + i);
    store(out + i, g * simd::sigmoid(g) * load_as<T>(up + i));
  });
}

void swiglu_backward_simd(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n) {
  for_each_lane_64(n, [&](int64_t i, auto lane) {
    using T = decltype(lane);
    const T g = load_as<T>(gate + i), dy = load_as<T>(dout + i);
    const T sigmoid = simd::sigmoid(g);
    store(dgate + i, dy * load_as<T>(up + i) * sigmoid * (T(1.0f) + g * (T(1.0f) - sigmoid)));
    store(dup + i, dy * g * sigmoid);
  });
}

}  // namespace

void rmsnorm_rows_forward(float* out, float* rstd, const float* x, const float* weight, float eps, int N, int C) {
  simd::pick(ref::rmsnorm_rows_forward, rmsnorm_rows_forward_simd)(out, rstd, x, weight, eps, N, C);
}
void rmsnorm_rows_backward(float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                           const float* rstd, int N, int C) {
  simd::pick(ref::rmsnorm_rows_backward, rmsnorm_rows_backward_simd)(dx, dweight, dout, x, weight, rstd, N, C);
}
void rotary_forward(float* x, const float* cos, const float* sin, int heads, int D) {
  simd::pick(ref::rotary_forward, rotary_forward_simd)(x, cos, sin, heads, D);
}
void rotary_backward(float* dx, const float* cos, const float* sin, int heads, int D) {
  simd::pick(ref::rotary_backward, rotary_backward_simd)(dx, cos, sin, heads, D);
}
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n) {
  simd::pick(ref::swiglu_forward, swiglu_forward_simd)(out, gate, up, n);
}
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n) {
  simd::pick(ref::swiglu_backward, swiglu_backward_simd)(dgate, dup, dout, gate, up, n);
}

}  // namespace tinylm
