// Scalar references for the fused LSTM/GRU gate kernels (equations and gate orders in kernels.hpp), written
// element by element straight from PyTorch's documented equations. Also what every public name runs in a
// TINYLM_FORCE_SCALAR build.
#include <cmath>

#include "kernels/kernels.hpp"

namespace tinylm::ref {

namespace {
float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
}  // namespace

// ---- LSTM (gate order i, f, g, o) ------------------------------------------------------------------------
void lstm_gates_forward(float* h, float* c, float* gates, const float* c_prev, int B, int H) {
  for (int b = 0; b < B; ++b) {
    float* g = gates + (long)b * 4 * H;  // (4H): i, f, g, o
    for (int j = 0; j < H; ++j) {
      const float in = sigmoid(g[j]), forget = sigmoid(g[H + j]), cell = std::tanh(g[2 * H + j]),
                  out = sigmoid(g[3 * H + j]);
      g[j] = in, g[H + j] = forget, g[2 * H + j] = cell, g[3 * H + j] = out;
      const long bj = (long)b * H + j;
      c[bj] = forget * c_prev[bj] + in * cell;
      h[bj] = out * std::tanh(c[bj]);
    }
  }
}

void lstm_gates_backward(float* dgates, float* dc_prev, const float* dh, const float* dc, const float* gates,
                         const float* c, const float* c_prev, int B, int H) {
  for (int b = 0; b < B; ++b) {
    const float* g = gates + (long)b * 4 * H;
    float* dg = dgates + (long)b * 4 * H;
    for (int j = 0; j < H; ++j) {
      const long bj = (long)b * H + j;
      const float in = g[j], forget = g[H + j], cell = g[2 * H + j], out = g[3 * H + j];
      const float tanh_c = std::tanh(c[bj]);
      const float dc_total = dc[bj] + dh[bj] * out * (1.0f - tanh_c * tanh_c);  // both paths into c
      dg[j] = dc_total * cell * in * (1.0f - in);
      dg[H + j] = dc_total * c_prev[bj] * forget * (1.0f - forget);
      dg[2 * H + j] = dc_total * in * (1.0f - cell * cell);
      dg[3 * H + j] = dh[bj] * tanh_c * out * (1.0f - out);
      dc_prev[bj] = dc_total * forget;  // written last: dc_prev may alias dc
    }
  }
}

// ---- GRU (gate order r, z, n; b_hn inside r⊙(·)) ---------------------------------------------------------
void gru_gates_forward(float* h, float* xgates, const float* hgates, const float* h_prev, int B, int H) {
  for (int b = 0; b < B; ++b) {
    float* x = xgates + (long)b * 3 * H;        // (3H): x_r, x_z, x_n → r, z, n
    const float* hg = hgates + (long)b * 3 * H;  // (3H): h_r, h_z, h_n
    for (int j = 0; j < H; ++j) {
      const long bj = (long)b * H + j;
      const float reset = sigmoid(x[j] + hg[j]), update = sigmoid(x[H + j] + hg[H + j]);
      const float candidate = std::tanh(x[2 * H + j] + reset * hg[2 * H + j]);
      x[j] = reset, x[H + j] = update, x[2 * H + j] = candidate;
      h[bj] = (1.0f - update) * candidate + update * h_prev[bj];
    }
  }
}

void gru_gates_backward(float* dxgates, float* dhn, float* dh_prev, const float* dh, const float* xgates,
                        const float* hgates, const float* h_prev, int B, int H) {
  for (int b = 0; b < B; ++b) {
    const float* x = xgates + (long)b * 3 * H;
    const float* hg = hgates + (long)b * 3 * H;
    float* dx = dxgates + (long)b * 3 * H;
    for (int j = 0; j < H; ++j) {
      const long bj = (long)b * H + j;
      const float reset = x[j], update = x[H + j], candidate = x[2 * H + j];
      const float dcandidate_pre = dh[bj] * (1.0f - update) * (1.0f - candidate * candidate);
      const float dupdate_pre = dh[bj] * (h_prev[bj] - candidate) * update * (1.0f - update);
      const float dreset_pre = dcandidate_pre * hg[2 * H + j] * reset * (1.0f - reset);
      dx[j] = dreset_pre, dx[H + j] = dupdate_pre, dx[2 * H + j] = dcandidate_pre;
      dhn[bj] = dcandidate_pre * reset;
      dh_prev[bj] += dh[bj] * update;
    }
  }
}

}  // namespace tinylm::ref
