// AVX-512 pieces shared by the AVX512-VNNI and AMX int8 kernels (same B layout).
#pragma once
#include <cstddef>
#include <cstdint>

#include "int8_isa.h"

namespace onnxforge::int8 {

void packBAvx512(const int8_t* b, size_t k, size_t n, size_t kPadded, size_t nPadded, uint8_t* out);
void packAAvx512(const uint8_t* a, size_t rows, size_t k, uint8_t flip, size_t strideBytes,
                 uint8_t* out, int32_t* rowSum);
void quantizeRowsAvx512(const float* x, size_t rows, size_t k, size_t strideBytes, uint8_t* out,
                        int32_t* rowSum, int32_t* zeroPoint, float* scale);
// Zero-point correction and output (int32, or float with scales and bias) of raw
// sums acc (rows x width, accStride values apart) for rows [rowBegin, rowEnd).
void epilogueAvx512(const GemmTask& task, const int32_t* acc, size_t accStride, size_t rowBegin,
                    size_t rowEnd, size_t col0, size_t width);
// The VNNI tile, for any packed k that is a multiple of 4.
void tileAvx512(const GemmTask& task, size_t rowBegin, size_t rowEnd, size_t panel);

}  // namespace onnxforge::int8
