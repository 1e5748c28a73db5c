#include "guard_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace onnxforge::testing {
namespace {

struct Mapping {
  void* base;
  size_t bytes;
};

size_t pageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// [guard page][body: whole pages][guard page]; mmap'd memory is zeroed.
uint8_t* mapGuarded(size_t bytes, GuardSide side, void** token) {
  size_t page = pageSize();
  size_t body = ((bytes == 0 ? 1 : bytes) + page - 1) / page * page;
  size_t mapped = body + 2 * page;
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  auto* first = static_cast<uint8_t*>(base);
  mprotect(first, page, PROT_NONE);
  mprotect(first + page + body, page, PROT_NONE);
  *token = new Mapping{base, mapped};
  return side == GuardSide::Tail ? first + page + body - bytes : first + page;
}

void unmap(void* token) {
  auto* mapping = static_cast<Mapping*>(token);
  munmap(mapping->base, mapping->bytes);
  delete mapping;
}

const int8::BufferPlacement kTail = {[](size_t bytes, void** token) { return mapGuarded(bytes, GuardSide::Tail, token); },
                                     unmap};
const int8::BufferPlacement kHead = {[](size_t bytes, void** token) { return mapGuarded(bytes, GuardSide::Head, token); },
                                     unmap};

}  // namespace

const int8::BufferPlacement& guardPlacement(GuardSide side) { return side == GuardSide::Tail ? kTail : kHead; }

}  // namespace onnxforge::testing
