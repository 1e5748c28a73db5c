#include "shared_memory.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <regex>
#include <string>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "args.h"

// A region is an anonymous memory file (memfd_create): it has no name anyone else can open, and it
// is freed by the kernel when the last process holding it (fd or mapping) goes away, so a crash never
// leaks it. The creator keeps the fd open; the other process opens it through /proc/<pid>/fd/<fd>,
// which the kernel allows only to processes that may inspect the creator (same user). Each side's
// view is an external ArrayBuffer: close() detaches it (JavaScript can no longer reach the memory)
// and the buffer's finalizer unmaps it and closes the fd.

namespace onnxforge::napi {
namespace {

// 1 TiB: far above any tensor, low enough that no size computation near it overflows.
constexpr int64_t kMaxRegionBytes = int64_t{1} << 40;

#if defined(__linux__)
struct Mapping {
  void* address;
  size_t bytes;
  int fd;  // -1 once closed
};

void unmap(Napi::Env, void*, Mapping* mapping) {
  munmap(mapping->address, mapping->bytes);
  if (mapping->fd >= 0) ::close(mapping->fd);
  delete mapping;
}

Napi::Value closeRegion(const Napi::CallbackInfo& info) {
  auto* weak = static_cast<Napi::Reference<Napi::ArrayBuffer>*>(info.Data());
  if (!weak->IsEmpty()) {
    Napi::ArrayBuffer buffer = weak->Value();
    if (!buffer.IsEmpty() && !buffer.IsDetached()) buffer.Detach();
  }
  return info.Env().Undefined();
}

// { buffer, path, byteLength, close() } over a mapping the object now owns.
Napi::Object regionObject(Napi::Env env, Mapping* mapping, const std::string& path) {
  Napi::ArrayBuffer buffer;
  try {
    buffer = Napi::ArrayBuffer::New(env, mapping->address, mapping->bytes, unmap, mapping);
  } catch (...) {
    unmap(env, nullptr, mapping);
    throw;
  }
  auto* weak = new Napi::Reference<Napi::ArrayBuffer>(Napi::Weak(buffer));
  Napi::Function close = Napi::Function::New(env, closeRegion, "close", weak);
  close.AddFinalizer([](Napi::Env, Napi::Reference<Napi::ArrayBuffer>* ref) { delete ref; }, weak);
  Napi::Object region = Napi::Object::New(env);
  region.Set("buffer", buffer);
  region.Set("path", path);
  region.Set("byteLength", Napi::Number::New(env, static_cast<double>(mapping->bytes)));
  region.Set("close", close);
  return region;
}

Napi::Error systemError(Napi::Env env, const std::string& what) {
  return Napi::Error::New(env, what + ": " + std::strerror(errno));
}

Napi::Value createSharedRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 1, "createSharedRegion(byteLength)");
  const auto bytes = static_cast<size_t>(intArg(env, info[0], "byteLength", 1, kMaxRegionBytes));
  const int fd = memfd_create("onnxforge-region", MFD_CLOEXEC);
  if (fd < 0) throw systemError(env, "createSharedRegion: memfd_create failed");
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    Napi::Error err = systemError(env, "createSharedRegion: cannot size the region to " + std::to_string(bytes) + " bytes");
    ::close(fd);
    throw err;
  }
  void* address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) {
    Napi::Error err = systemError(env, "createSharedRegion: mmap failed");
    ::close(fd);
    throw err;
  }
  const std::string path = "/proc/" + std::to_string(getpid()) + "/fd/" + std::to_string(fd);
  return regionObject(env, new Mapping{address, bytes, fd}, path);
}

Napi::Value openSharedRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 2, "openSharedRegion(path, byteLength)");
  if (!info[0].IsString()) throwTypeError(env, "path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  // Only a region another process created: never an arbitrary file.
  static const std::regex regionPath("^/proc/[1-9][0-9]{0,9}/fd/[0-9]{1,9}$");
  if (!std::regex_match(path, regionPath)) throwTypeError(env, "path must be a region path /proc/<pid>/fd/<fd>, got '" + path + "'");
  const auto bytes = static_cast<size_t>(intArg(env, info[1], "byteLength", 1, kMaxRegionBytes));
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw systemError(env, "openSharedRegion: cannot open " + path);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != bytes) {
    ::close(fd);
    throwRangeError(env, "openSharedRegion: " + path + " is not a region of " + std::to_string(bytes) + " bytes");
  }
  void* address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  // The mapping keeps the memory alive; this side needs no fd.
  ::close(fd);
  if (address == MAP_FAILED) throw systemError(env, "openSharedRegion: mmap failed");
  return regionObject(env, new Mapping{address, bytes, -1}, path);
}
#else
Napi::Value unsupported(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(), "shared memory regions need Linux (memfd_create); isolation 'process' sends tensors over IPC here");
}
#endif

Napi::Value sharedMemorySupported(const Napi::CallbackInfo& info) {
#if defined(__linux__)
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace

void registerSharedMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("sharedMemorySupported", Napi::Function::New(env, sharedMemorySupported, "sharedMemorySupported"));
#if defined(__linux__)
  exports.Set("createSharedRegion", Napi::Function::New(env, createSharedRegion, "createSharedRegion"));
  exports.Set("openSharedRegion", Napi::Function::New(env, openSharedRegion, "openSharedRegion"));
#else
  exports.Set("createSharedRegion", Napi::Function::New(env, unsupported, "createSharedRegion"));
  exports.Set("openSharedRegion", Napi::Function::New(env, unsupported, "openSharedRegion"));
#endif
}

}  // namespace onnxforge::napi
