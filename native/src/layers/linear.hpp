// Embedding lookup and fully connected layers: forward/backward pairs over N rows.
// Backward functions ACCUMULATE into their gradient outputs (+=), as every backward in tinylm does; the input
// gradient of linear_backward may instead be overwritten (din_beta 0), for callers whose buffer is fresh.
// Every function splits its work over `pool` (null: serial) with results independent of the pool's size
// (parallel_kernels.hpp): rows for lookups and products, columns for the sums over rows.
#pragma once
#include <cstdint>

namespace tinylm {

class ThreadPool;

// out (N,C) = table[ids[n]] — ids must already be validated against V.
void embedding_forward(ThreadPool* pool, float* out, const int32_t* ids, const float* table, int N, int C);
// dtable (V,C) += scatter of dout (N,C) by ids; nothing when dtable is null (a frozen table)
void embedding_backward(ThreadPool* pool, float* dtable, const float* dout, const int32_t* ids, int N, int C);

// out (N,O) = in (N,I) · weightᵀ (O,I) + bias (O); bias may be null.
void linear_forward(ThreadPool* pool, float* out, const float* in, const float* weight, const float* bias, int N,
                    int I, int O);
// dweight (O,I) += doutᵀ·in;  dbias (O) += Σ_n dout (dbias may be null);
// din (N,I) = din_beta·din + dout·weight (din may be null): a caller with a fresh buffer passes 0 rather than
// zeroing it to accumulate into. dweight is null when the weight is frozen (a LoRA fine-tune).
void linear_backward(ThreadPool* pool, float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int N, int I, int O, float din_beta = 1.0f);

// dbias (O) += column sums of dout (N,O), each column summed in row order
void bias_backward(ThreadPool* pool, float* dbias, const float* dout, int N, int O);

}  // namespace tinylm
