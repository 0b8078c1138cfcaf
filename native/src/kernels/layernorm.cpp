// SIMD LayerNorm kernels (contract in kernels.hpp). One row at a time: the statistics in two passes over the
// row (mean, then Σ(x − mean)², which stays accurate when |mean| ≫ std), then one fused normalize-scale-shift
// pass. Backward needs two row means (of g and g⊙x̂) before it can write dx, so it also makes two passes.
// Each formula is written once against a lane type T (fbatch for the vector body, float for the tail).
#include <cmath>
#include <type_traits>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::fbatch;
using simd::load_as;
using simd::store;
using index_t = std::ptrdiff_t;

constexpr float kLayerNormEps = 1e-5f;  // nn.LayerNorm's default, which nanoGPT keeps

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

void layernorm_rows_forward_simd(float* out, float* mean, float* rstd, const float* x, const float* weight,
                                 const float* bias, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const float* row = x + index_t(n) * C;
    float* out_row = out + index_t(n) * C;
    const float row_mean = sum_lanes(C, [&](int j, auto lane) { return load_as<decltype(lane)>(row + j); }) / C;
    const float squares = sum_lanes(C, [&](int j, auto lane) {
      using T = decltype(lane);
      const T centered = load_as<T>(row + j) - T(row_mean);
      return centered * centered;
    });
    const float row_rstd = 1.0f / std::sqrt(squares / C + kLayerNormEps);
    simd::for_each_lane(C, [&](int j, auto lane) {
      using T = decltype(lane);
      const T normalized = (load_as<T>(row + j) - T(row_mean)) * T(row_rstd);
      const T shift = bias ? load_as<T>(bias + j) : T(0.0f);
      store(out_row + j, normalized * load_as<T>(weight + j) + shift);
    });
    mean[n] = row_mean;
    rstd[n] = row_rstd;
  }
}

void layernorm_rows_backward_simd(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                                  const float* weight, const float* mean, const float* rstd, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const float* row = x + index_t(n) * C;
    const float* grad = dout + index_t(n) * C;
    float* dx_row = dx + index_t(n) * C;
    const float row_mean = mean[n], row_rstd = rstd[n];
    // mean(g) and mean(g⊙x̂), g = dout⊙weight, in one pass.
    fbatch grad_vector(0.0f), grad_xhat_vector(0.0f);
    float grad_scalar = 0.0f, grad_xhat_scalar = 0.0f;
    simd::for_each_lane(C, [&](int j, auto lane) {
      using T = decltype(lane);
      const T xhat = (load_as<T>(row + j) - T(row_mean)) * T(row_rstd);
      const T g = load_as<T>(grad + j) * load_as<T>(weight + j);
      if constexpr (std::is_same_v<T, float>) {
        grad_scalar += g;
        grad_xhat_scalar += g * xhat;
      } else {
        grad_vector += g;
        grad_xhat_vector += g * xhat;
      }
    });
    const float grad_mean = (simd::reduce_add(grad_vector) + grad_scalar) / C;
    const float grad_xhat_mean = (simd::reduce_add(grad_xhat_vector) + grad_xhat_scalar) / C;
    simd::for_each_lane(C, [&](int j, auto lane) {
      using T = decltype(lane);
      const T xhat = (load_as<T>(row + j) - T(row_mean)) * T(row_rstd);
      const T dy = load_as<T>(grad + j);
      const T g = dy * load_as<T>(weight + j);
      store(dx_row + j, load_as<T>(dx_row + j) + T(row_rstd) * (g - T(grad_mean) - xhat * T(grad_xhat_mean)));
      store(dweight + j, load_as<T>(dweight + j) + dy * xhat);
      if (dbias) store(dbias + j, load_as<T>(dbias + j) + dy);
    });
  }
}

}  // namespace

void layernorm_rows_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                            const float* bias, int N, int C) {
  simd::pick(ref::layernorm_rows_forward, layernorm_rows_forward_simd)(out, mean, rstd, x, weight, bias, N, C);
}
void layernorm_rows_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                             const float* weight, const float* mean, const float* rstd, int N, int C) {
  simd::pick(ref::layernorm_rows_backward, layernorm_rows_backward_simd)(dx, dweight, dbias, dout, x, weight, mean,
                                                                          rstd, N, C);
}

}  // namespace tinylm
