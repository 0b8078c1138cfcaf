// Weight matrices held only in a compact form — F16 (in the row panels sgemv_f16 reads) or int8 with one float
// scale per row (in the panels of 8 rows sgemm_q8_panels reads) — for a model that generates and evaluates but does not train, so a
// 360M-parameter checkpoint needs 0.7 GB (F16) or 0.36 GB (int8) instead of 1.4 GB of floats. A step (and a prompt's
// batch) multiplies straight from the compact rows — F16 in float arithmetic, int8 by int8-quantised inputs with
// integer sums; a batched forward (evaluation, training over the rows) reads a matrix converted back to float for
// the duration of one layer (to_float).
//
// ParameterTable::hold_matrices(kind) routes every 2-D tensor declared after it here: its TensorSpec is marked
// `compact` and its offset is its slot in this store, not a position in the float block.
#pragma once
#include <cstdint>
#include <vector>

#include "tinylm/model.hpp"  // Residency

namespace tinylm {

enum class CompactKind { F16, Int8 };
const char* compact_kind_name(CompactKind kind);  // "F16" | "int8"
inline CompactKind compact_kind_of(Residency residency) {
  return residency == Residency::Int8 ? CompactKind::Int8 : CompactKind::F16;
}

// What a matrix-vector product reads: one of the three storages of a (rows, cols) row-major matrix.
struct MatrixView {
  const float* f32 = nullptr;
  const uint16_t* f16_panels = nullptr;  // half_panels_size(rows, cols) halves
  const int8_t* int8_panels = nullptr;   // q8_panels_size(rows, cols) bytes (kernels.hpp: sgemm_q8_panels)
  const float* scales = nullptr;         // (rows) with int8_panels
  int rows = 0, cols = 0;
};

class ThreadPool;

// The input rows of a product with int8 weights, quantised as the weights are (per row, symmetric, one float scale:
// quantize_rows_int8's values) and held as int16, as the product over the weight panels takes them
// (quantize_rows_int16, sgemm_q8_panels). A row's values depend on that row alone: a token quantised in a step and
// in a prompt's batch gives the same values.
struct QuantizedRows {
  std::vector<int16_t> wide;   // (N, depth): the values, and a zero at k = cols when cols is odd
  std::vector<float> scales;   // (N)
  int depth = 0;               // q8_panel_depth(cols)
  // False (nothing usable) when x holds a value that is not finite. A batch's rows split over `pool` (null: serial).
  bool quantize(ThreadPool* pool, const float* x, int N, int cols);
};

// y (N,rows) = beta·y + x (N,cols) · viewᵀ, each weight read once for the N ≤ 2 vectors; the output rows split over
// `pool` (null: serial) when the matrix is large enough to gain. Int8 weights multiply x quantised per row into
// `scratch` (null: a local one) with integer sums; an x that is not finite multiplies in float instead.
void matrix_vector(ThreadPool* pool, float* y, const MatrixView& view, const float* x, float beta, int N,
                   QuantizedRows* scratch = nullptr);
// y (N,rows) = x (N,cols) · viewᵀ + bias (rows, may be null) for a batch of rows (a prompt's chunk), each weight read
// once for all N (compact_products.cpp): float weights through the GEMM, F16 converted a tile at a time, int8 as
// matrix_vector multiplies it. Float and F16 equal matrix_vector's rows within float rounding (the sums run in another
// order), int8 bit for bit; the same bits whatever the pool's size.
void matrix_rows(ThreadPool* pool, float* y, const MatrixView& view, const float* x, const float* bias, int N,
                 QuantizedRows* scratch = nullptr);

class CompactMatrices {
 public:
  explicit CompactMatrices(CompactKind kind = CompactKind::F16) : kind_(kind) {}
  CompactKind kind() const { return kind_; }
  size_t add(int rows, int cols);  // a slot; storage comes with allocate()
  size_t count() const { return shapes_.size(); }
  uint64_t bytes() const;          // what allocate() holds
  static uint64_t bytes_for(CompactKind kind, uint64_t rows, uint64_t cols);
  void allocate();

  // Stores (rows, cols) floats into the slot, rounded to half or quantised per row. False, storing nothing usable,
  // when a value cannot be held (|w| > 65504 for F16, or not finite).
  bool set(size_t slot, const float* values) { return set_rows(slot, 0, shapes_[slot].rows, values); }
  // Rows [first, first + count) of the slot from count · cols floats (a tensor stacked into a slot).
  bool set_rows(size_t slot, int first, int count, const float* values);
  MatrixView view(size_t slot) const;
  void row(size_t slot, int r, float* out) const;  // one row as floats (cols)
  // Int8 slots: rows [first, first + count) of the quantised bytes into out (count, cols), row-major as
  // quantize_rows_int8 made them (the panels unpacked).
  void int8_rows(size_t slot, int first, int count, int8_t* out) const;
  void to_float(size_t slot, float* out) const;    // the whole matrix as floats, row-major (rows, cols)
  // Rows [first, first + count) as floats into out (count, cols); each row's values do not depend on the range, so
  // ranges split over threads give the bytes to_float gives. A range starting at a multiple of conversion_rows()
  // reads whole F16 panel groups in storage order.
  void to_float_rows(size_t slot, int first, int count, float* out) const;
  static int conversion_rows();  // half_panel_rows(): the grain that keeps F16 panel groups whole

 private:
  struct Shape2 {
    int rows, cols;
  };
  CompactKind kind_;
  std::vector<Shape2> shapes_;
  std::vector<size_t> offsets_;      // per slot: first half (F16) or first byte of its panels (int8)
  std::vector<size_t> row_offsets_;  // per slot: first scale (int8)
  std::vector<uint16_t> halves_;
  std::vector<int8_t> bytes_;
  std::vector<float> scales_;
};

}  // namespace tinylm
