// SIMD fused LSTM/GRU gate kernels (equations, gate orders and buffer roles in kernels.hpp). One pass per
// time step over (B, H): activations, the cell/hidden update and the backward cache, with no temporaries.
// Each formula is written once against a lane type T (fbatch for the vector body, float for the tail).
#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::for_each_lane;
using simd::load_as;
using simd::store;
using index_t = std::ptrdiff_t;

// ---- LSTM (gate order i, f, g, o) ------------------------------------------------------------------------
void lstm_gates_forward_simd(float* h, float* c, float* gates, const float* c_prev, int B, int H) {
  for (int b = 0; b < B; ++b) {
    float* g = gates + index_t(b) * 4 * H;  // (4H): i, f, g, o pre-activations → activations
    const index_t row = index_t(b) * H;
    for_each_lane(H, [&](int j, auto lane) {
      using T = decltype(lane);
      const T in = simd::sigmoid(load_as<T>(g + j)), forget = simd::sigmoid(load_as<T>(g + H + j));
      const T cell = simd::tanh(load_as<T>(g + 2 * H + j)), out = simd::sigmoid(load_as<T>(g + 3 * H + j));
      store(g + j, in), store(g + H + j, forget), store(g + 2 * H + j, cell), store(g + 3 * H + j, out);
      const T c_new = forget * load_as<T>(c_prev + row + j) + in * cell;
      store(c + row + j, c_new);
      store(h + row + j, out * simd::tanh(c_new));
    });
  }
}

void lstm_gates_backward_simd(float* dgates, float* dc_prev, const float* dh, const float* dc, const float* gates,
                              const float* c, const float* c_prev, int B, int H) {
  for (int b = 0; b < B; ++b) {
    const float* g = gates + index_t(b) * 4 * H;
    float* dg = dgates + index_t(b) * 4 * H;
    const index_t row = index_t(b) * H;
    for_each_lane(H, [&](int j, auto lane) {
      using T = decltype(lane);
      const T one(1.0f);
      const T in = load_as<T>(g + j), forget = load_as<T>(g + H + j), cell = load_as<T>(g + 2 * H + j),
              out = load_as<T>(g + 3 * H + j);
      const T grad_h = load_as<T>(dh + row + j), tanh_c = simd::tanh(load_as<T>(c + row + j));
      const T dc_total = load_as<T>(dc + row + j) + grad_h * out * (one - tanh_c * tanh_c);  // both paths into c
      store(dg + j, dc_total * cell * in * (one - in));
      store(dg + H + j, dc_total * load_as<T>(c_prev + row + j) * forget * (one - forget));
      store(dg + 2 * H + j, dc_total * in * (one - cell * cell));
      store(dg + 3 * H + j, grad_h * tanh_c * out * (one - out));
      store(dc_prev + row + j, dc_total * forget);  // after every read of dc: dc_prev may alias it
    });
  }
}

// ---- GRU (gate order r, z, n; b_hn inside r⊙(·)) ---------------------------------------------------------
void gru_gates_forward_simd(float* h, float* xgates, const float* hgates, const float* h_prev, int B, int H) {
  for (int b = 0; b < B; ++b) {
    float* x = xgates + index_t(b) * 3 * H;        // (3H): x_r, x_z, x_n → r, z, n
    const float* hg = hgates + index_t(b) * 3 * H;  // (3H): h_r, h_z, h_n
    const index_t row = index_t(b) * H;
    for_each_lane(H, [&](int j, auto lane) {
      using T = decltype(lane);
      const T reset = simd::sigmoid(load_as<T>(x + j) + load_as<T>(hg + j));
      const T update = simd::sigmoid(load_as<T>(x + H + j) + load_as<T>(hg + H + j));
      const T candidate = simd::tanh(load_as<T>(x + 2 * H + j) + reset * load_as<T>(hg + 2 * H + j));
      store(x + j, reset), store(x + H + j, update), store(x + 2 * H + j, candidate);
      store(h + row + j, (T(1.0f) - update) * candidate + update * load_as<T>(h_prev + row + j));
    });
  }
}

void gru_gates_backward_simd(float* dxgates, float* dhn, float* dh_prev, const float* dh, const float* xgates,
                             const float* hgates, const float* h_prev, int B, int H) {
  for (int b = 0; b < B; ++b) {
    const float* x = xgates + index_t(b) * 3 * H;
    const float* hg = hgates + index_t(b) * 3 * H;
    float* dx = dxgates + index_t(b) * 3 * H;
    const index_t row = index_t(b) * H;
    for_each_lane(H, [&](int j, auto lane) {
      using T = decltype(lane);
      const T one(1.0f);
      const T reset = load_as<T>(x + j), update = load_as<T>(x + H + j), candidate = load_as<T>(x + 2 * H + j);
      const T grad_h = load_as<T>(dh + row + j);
      const T dcandidate_pre = grad_h * (one - update) * (one - candidate * candidate);
      const T dupdate_pre = grad_h * (load_as<T>(h_prev + row + j) - candidate) * update * (one - update);
      const T dreset_pre = dcandidate_pre * load_as<T>(hg + 2 * H + j) * reset * (one - reset);
      store(dx + j, dreset_pre), store(dx + H + j, dupdate_pre), store(dx + 2 * H + j, dcandidate_pre);
      store(dhn + row + j, dcandidate_pre * reset);
      store(dh_prev + row + j, load_as<T>(dh_prev + row + j) + grad_h * update);
    });
  }
}

}  // namespace

void lstm_gates_forward(float* h, float* c, float* gates, const float* c_prev, int B, int H) {
  simd::pick(ref::lstm_gates_forward, lstm_gates_forward_simd)(h, c, gates, c_prev, B, H);
}
void lstm_gates_backward(float* dgates, float* dc_prev, const float* dh, const float* dc, const float* gates,
                         const float* c, const float* c_prev, int B, int H) {
  simd::pick(ref::lstm_gates_backward, lstm_gates_backward_simd)(dgates, dc_prev, dh, dc, gates, c, c_prev, B, H);
}
void gru_gates_forward(float* h, float* xgates, const float* hgates, const float* h_prev, int B, int H) {
  simd::pick(ref::gru_gates_forward, gru_gates_forward_simd)(h, xgates, hgates, h_prev, B, H);
}
void gru_gates_backward(float* dxgates, float* dhn, float* dh_prev, const float* dh, const float* xgates,
                        const float* hgates, const float* h_prev, int B, int H) {
  simd::pick(ref::gru_gates_backward, gru_gates_backward_simd)(dxgates, dhn, dh_prev, dh, xgates, hgates, h_prev, B,
                                                                H);
}

}  // namespace tinylm
