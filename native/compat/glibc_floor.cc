// Lets an addon linked on a new glibc load on glibc 2.28, the oldest Node 20 runs on
// (cmake/glibc_floor.cmake links this file into the addons with -Wl,--wrap=NAME for every
// __wrap_NAME defined here). The linker binds each libc call to the newest version of its
// symbol; the calls below have a newer one than 2.28, so they are sent to the oldest:
//  - ONNXFORGE_PIN: glibc kept the old version (libpthread, libdl and librt moved into libc in
//    2.34; log got a new version in 2.29): a jump to that version;
//  - fstat/fstat64 (2.33) were header inlines over __fxstat before: a call to that;
//  - arc4random (2.36), reached by static libstdc++'s random_device: getrandom (2.25);
//  - __libc_single_threaded (2.32), read by static libstdc++: defined here as 0, "more than one
//    thread", which is always true in Node (libuv and V8 run their own threads).
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>

#if defined(__x86_64__)
#define ONNXFORGE_GLIBC_BASE "GLIBC_2.2.5"
#define ONNXFORGE_GLIBC_BASE_OR(x86_version) x86_version
#define ONNXFORGE_JUMP(target) "jmp " target "@PLT"
#define ONNXFORGE_STAT_VER 1
#elif defined(__aarch64__)
#define ONNXFORGE_GLIBC_BASE "GLIBC_2.17"
#define ONNXFORGE_GLIBC_BASE_OR(x86_version) ONNXFORGE_GLIBC_BASE
#define ONNXFORGE_JUMP(target) "b " target
#define ONNXFORGE_STAT_VER 0
#else
#error "glibc_floor.cc knows the symbol versions of x86_64 and aarch64 only"
#endif

// __wrap_NAME: a tail jump to NAME@VERSION (the arguments stay in their registers).
#define ONNXFORGE_PIN_AT(name, version)                                        \
  __asm__(".symver " #name "_pinned, " #name "@" version "\n"                 \
          ".pushsection .text\n"                                               \
          ".globl __wrap_" #name "\n"                                          \
          ".hidden __wrap_" #name "\n"                                         \
          ".type __wrap_" #name ", %function\n"                                \
          "__wrap_" #name ":\n"                                                \
          "  " ONNXFORGE_JUMP(#name "_pinned") "\n"                            \
          ".size __wrap_" #name ", .-__wrap_" #name "\n"                       \
          ".popsection\n");
#define ONNXFORGE_PIN(name) ONNXFORGE_PIN_AT(name, ONNXFORGE_GLIBC_BASE)

ONNXFORGE_PIN(log)
ONNXFORGE_PIN(dlclose)
ONNXFORGE_PIN(dlerror)
ONNXFORGE_PIN_AT(dlmopen, ONNXFORGE_GLIBC_BASE_OR("GLIBC_2.3.4"))
ONNXFORGE_PIN(dlopen)
ONNXFORGE_PIN(dlsym)
ONNXFORGE_PIN(dlvsym)
ONNXFORGE_PIN(__pthread_key_create)
ONNXFORGE_PIN(pthread_condattr_setpshared)
ONNXFORGE_PIN(pthread_create)
ONNXFORGE_PIN(pthread_detach)
ONNXFORGE_PIN(pthread_getspecific)
ONNXFORGE_PIN(pthread_join)
ONNXFORGE_PIN(pthread_key_create)
ONNXFORGE_PIN(pthread_key_delete)
ONNXFORGE_PIN(pthread_kill)
ONNXFORGE_PIN(pthread_mutex_trylock)
ONNXFORGE_PIN(pthread_mutexattr_destroy)
ONNXFORGE_PIN(pthread_mutexattr_init)
ONNXFORGE_PIN(pthread_mutexattr_setpshared)
ONNXFORGE_PIN(pthread_mutexattr_settype)
ONNXFORGE_PIN(pthread_once)
ONNXFORGE_PIN(pthread_rwlock_destroy)
ONNXFORGE_PIN(pthread_rwlock_init)
ONNXFORGE_PIN(pthread_rwlock_rdlock)
ONNXFORGE_PIN(pthread_rwlock_timedrdlock)
ONNXFORGE_PIN(pthread_rwlock_timedwrlock)
ONNXFORGE_PIN(pthread_rwlock_tryrdlock)
ONNXFORGE_PIN(pthread_rwlock_trywrlock)
ONNXFORGE_PIN(pthread_rwlock_unlock)
ONNXFORGE_PIN(pthread_rwlock_wrlock)
ONNXFORGE_PIN(pthread_rwlockattr_destroy)
ONNXFORGE_PIN(pthread_rwlockattr_init)
ONNXFORGE_PIN(pthread_rwlockattr_setpshared)
ONNXFORGE_PIN(pthread_setspecific)
ONNXFORGE_PIN(pthread_spin_destroy)
ONNXFORGE_PIN(pthread_spin_init)
ONNXFORGE_PIN(pthread_spin_lock)
ONNXFORGE_PIN(pthread_spin_trylock)
ONNXFORGE_PIN(pthread_spin_unlock)
ONNXFORGE_PIN(sem_destroy)
ONNXFORGE_PIN(sem_init)
ONNXFORGE_PIN(sem_post)
ONNXFORGE_PIN(sem_timedwait)
ONNXFORGE_PIN(sem_trywait)
ONNXFORGE_PIN(sem_wait)
ONNXFORGE_PIN(shm_open)
ONNXFORGE_PIN(shm_unlink)

extern "C" {

int __fxstat(int ver, int fd, struct stat* buf);
int __fxstat64(int ver, int fd, struct stat64* buf);
__asm__(".symver __fxstat, __fxstat@" ONNXFORGE_GLIBC_BASE);
__asm__(".symver __fxstat64, __fxstat64@" ONNXFORGE_GLIBC_BASE);

__attribute__((visibility("hidden"))) int __wrap_fstat(int fd, struct stat* buf) {
  return __fxstat(ONNXFORGE_STAT_VER, fd, buf);
}

__attribute__((visibility("hidden"))) int __wrap_fstat64(int fd, struct stat64* buf) {
  return __fxstat64(ONNXFORGE_STAT_VER, fd, buf);
}

__attribute__((visibility("hidden"))) uint32_t __wrap_arc4random(void) {
  uint32_t value;
  for (;;) {
    // Four bytes never come back short; EINTR is the one error worth a retry.
    if (getrandom(&value, sizeof value, 0) == static_cast<ssize_t>(sizeof value)) return value;
    if (errno != EINTR) abort();
  }
}

__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;

}  // extern "C"
