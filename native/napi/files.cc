#include "files.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "args.h"
#include "large_pages.h"

namespace onnxforge::napi {
namespace {

// readFileLarge(path): the whole file in memory of its own, from huge pages where the OS gives
// them (large_pages.h): a 200 MB model costs a hundred page faults instead of fifty thousand, and,
// being a copy, it is unaffected by later changes to the file.
Napi::Value readFileLarge(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 1, "readFileLarge(path)");
  if (!info[0].IsString()) throwTypeError(env, "path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw Napi::Error::New(env, "cannot open " + path + ": " + std::strerror(errno));
  struct Closer {
    FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{file};
#if defined(__unix__) || defined(__APPLE__)
  struct stat st;
  if (fstat(fileno(file), &st) != 0 || !S_ISREG(st.st_mode)) throw Napi::Error::New(env, "cannot read " + path + ": not a regular file");
  const size_t bytes = static_cast<size_t>(st.st_size);
#else
  if (std::fseek(file, 0, SEEK_END) != 0) throw Napi::Error::New(env, "cannot read " + path);
  const size_t bytes = static_cast<size_t>(std::ftell(file));
  std::rewind(file);
#endif
  if (bytes == 0) return Napi::Uint8Array::New(env, 0);
  void* memory = allocateAligned(bytes);
  if (!memory) throw Napi::Error::New(env, "out of memory reading " + path);
  size_t done = 0;
  while (done < bytes) {
    size_t got = std::fread(static_cast<char*>(memory) + done, 1, bytes - done, file);
    if (got == 0) {
      std::free(memory);
      throw Napi::Error::New(env, "cannot read " + path + ": the file changed while it was read");
    }
    done += got;
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
  auto* size = new size_t(bytes);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, memory, bytes,
      [](Napi::Env finalizeEnv, void* data, size_t* n) {
        Napi::MemoryManagement::AdjustExternalMemory(finalizeEnv, -static_cast<int64_t>(*n));
        std::free(data);
        delete n;
      },
      size);
  return Napi::Uint8Array::New(env, bytes, buffer, 0);
}

}  // namespace

void registerFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("readFileLarge", Napi::Function::New(env, readFileLarge, "readFileLarge"));
}

}  // namespace onnxforge::napi
