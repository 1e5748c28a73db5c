// Test addon only: buffers flush against an inaccessible page, for the overread tests.
#pragma once
#include "int8_buffer.h"

namespace onnxforge::testing {

enum class GuardSide { Tail, Head };

// Puts each buffer's last byte before (Tail) or its first byte after (Head) a PROT_NONE
// page, so a read past that edge kills the process with SIGSEGV.
const int8::BufferPlacement& guardPlacement(GuardSide side);

}  // namespace onnxforge::testing
