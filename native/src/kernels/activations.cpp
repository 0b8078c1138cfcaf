// SIMD element-wise kernels: activations forward/backward, axpy, sum_squares (contract in kernels.hpp).
// Each is one vector loop over fbatch plus a scalar tail; the scalar tail uses the same formula so results do
// not depend on where an element falls.
#include <cmath>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::fbatch;
using simd::fwidth;
using simd::load;
using simd::store;

// y[i] = vector_op(x[i]) over the vector body, scalar_op over the tail. y may alias x.
template <typename VectorOp, typename ScalarOp>
void map_unary(float* y, const float* x, int64_t n, VectorOp vector_op, ScalarOp scalar_op) {
  int64_t i = 0;
  for (; i + fwidth <= n; i += fwidth) store(y + i, vector_op(load(x + i)));
  for (; i < n; ++i) y[i] = scalar_op(x[i]);
}

// dx[i] += vector_op(dy[i], y[i]) over the vector body, scalar_op over the tail.
template <typename VectorOp, typename ScalarOp>
void accumulate_binary(float* dx, const float* dy, const float* y, int64_t n, VectorOp vector_op, ScalarOp scalar_op) {
  int64_t i = 0;
  for (; i + fwidth <= n; i += fwidth) store(dx + i, load(dx + i) + vector_op(load(dy + i), load(y + i)));
  for (; i < n; ++i) dx[i] += scalar_op(dy[i], y[i]);
}

void sigmoid_forward_simd(float* y, const float* x, int64_t n) {
  map_unary(y, x, n, [](fbatch v) { return simd::sigmoid(v); },
            [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
}
void tanh_forward_simd(float* y, const float* x, int64_t n) {
  map_unary(y, x, n, [](fbatch v) { return simd::tanh(v); }, [](float v) { return std::tanh(v); });
}
void relu_forward_simd(float* y, const float* x, int64_t n) {
  map_unary(y, x, n, [](fbatch v) { return xsimd::max(v, fbatch(0.0f)); },
            [](float v) { return v > 0.0f ? v : 0.0f; });
}

void sigmoid_backward_simd(float* dx, const float* dy, const float* y, int64_t n) {
  accumulate_binary(dx, dy, y, n, [](fbatch g, fbatch s) { return g * s * (fbatch(1.0f) - s); },
                    [](float g, float s) { return g * s * (1.0f - s); });
}
void tanh_backward_simd(float* dx, const float* dy, const float* y, int64_t n) {
  accumulate_binary(dx, dy, y, n, [](fbatch g, fbatch t) { return g * (fbatch(1.0f) - t * t); },
                    [](float g, float t) { return g * (1.0f - t * t); });
}
void relu_backward_simd(float* dx, const float* dy, const float* y, int64_t n) {
  accumulate_binary(dx, dy, y, n, [](fbatch g, fbatch r) { return xsimd::select(r > fbatch(0.0f), g, fbatch(0.0f)); },
                    [](float g, float r) { return r > 0.0f ? g : 0.0f; });
}

void axpy_simd(float* y, float alpha, const float* x, int64_t n) {
  const fbatch a(alpha);
  int64_t i = 0;
  for (; i + fwidth <= n; i += fwidth) store(y + i, simd::multiply_add(a, load(x + i), load(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// Float accumulation inside chunks of chunk_floats elements (a float sum of ≤ 1024 squares loses < 1e-4
// relative), double across chunks, so millions of gradients sum as stably as the double reference.
double sum_squares_simd(const float* x, int64_t n) {
  constexpr int64_t chunk_floats = 1024;
  double total = 0.0;
  int64_t i = 0;
  while (i + fwidth <= n) {
    const int64_t chunk_end = i + chunk_floats < n ? i + chunk_floats : n;
    fbatch acc0(0.0f), acc1(0.0f);  // two chains: the add latency is not the limit
    for (; i + 2 * fwidth <= chunk_end; i += 2 * fwidth) {
      const fbatch v0 = load(x + i), v1 = load(x + i + fwidth);
      acc0 = simd::multiply_add(v0, v0, acc0);
      acc1 = simd::multiply_add(v1, v1, acc1);
    }
    for (; i + fwidth <= chunk_end; i += fwidth) {
      const fbatch v = load(x + i);
      acc0 = simd::multiply_add(v, v, acc0);
    }
    total += double(simd::reduce_add(acc0 + acc1));
  }
  for (; i < n; ++i) total += double(x[i]) * double(x[i]);
  return total;
}

}  // namespace

void sigmoid_forward(float* y, const float* x, int64_t n) { simd::pick(ref::sigmoid_forward, sigmoid_forward_simd)(y, x, n); }
void tanh_forward(float* y, const float* x, int64_t n) { simd::pick(ref::tanh_forward, tanh_forward_simd)(y, x, n); }
void relu_forward(float* y, const float* x, int64_t n) { simd::pick(ref::relu_forward, relu_forward_simd)(y, x, n); }
void sigmoid_backward(float* dx, const float* dy, const float* y, int64_t n) {
  simd::pick(ref::sigmoid_backward, sigmoid_backward_simd)(dx, dy, y, n);
}
void tanh_backward(float* dx, const float* dy, const float* y, int64_t n) {
  simd::pick(ref::tanh_backward, tanh_backward_simd)(dx, dy, y, n);
}
void relu_backward(float* dx, const float* dy, const float* y, int64_t n) {
  simd::pick(ref::relu_backward, relu_backward_simd)(dx, dy, y, n);
}
void axpy(float* y, float alpha, const float* x, int64_t n) { simd::pick(ref::axpy, axpy_simd)(y, alpha, x, n); }
double sum_squares(const float* x, int64_t n) { return simd::pick(ref::sum_squares, sum_squares_simd)(x, n); }

}  // namespace tinylm
