/* Compiled into prebuilds only (RNNKIT_GLIBC_FLOOR=1; binding.gyp, native/build-config.cjs).
 *
 * glibc versions a symbol when its ABI or home changes: building on Debian 12 (glibc 2.36) binds
 * pthread_create & co. to @GLIBC_2.34 (moved from libpthread into libc), exp/log/pow to @GLIBC_2.29,
 * expf/logf/powf to @GLIBC_2.27 (the versions without the SVID error wrapper), and libstdc++'s
 * inline atomics read __libc_single_threaded (@GLIBC_2.32). A prebuild that needs those does not
 * load on older systems. The link runs with -Wl,--wrap=NAME for every NAME below, which sends each
 * reference to NAME -- from our objects and from the static libopenblas.a and libstdc++.a alike,
 * where a .symver in our own sources would not reach -- to __wrap_NAME here, which calls the
 * architecture's oldest version of NAME. The old versions compute the same results (the math
 * functions differ only in how they report errors through errno, which rnnkit never reads; the
 * pthread ones are the same functions, in libpthread.so.0 before glibc 2.34), so results are
 * unchanged. __libc_single_threaded becomes a constant 0 ("maybe several threads"): libstdc++
 * then always takes its atomic path, which is the path a threaded process takes anyway. The static
 * libstdc++ brings references of its own: the pthread_key_* and pthread_detach (@GLIBC_2.34, pinned
 * like the others) and, from std::random_device (never used by rnnkit), getentropy (@GLIBC_2.25)
 * and arc4random (@GLIBC_2.36), implemented here over the getrandom system call.
 *
 * native/build-config.cjs reads the names to wrap from this file: every RNNKIT_OLD(type, NAME, ...)
 * and RNNKIT_WRAPPED(NAME). What remains is __cxa_thread_atexit_impl (@GLIBC_2.18, thread_local
 * destructors), so prebuilds need glibc >= 2.18 on x64 and arm64; test/prebuild.test.ts checks. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define RNNKIT_GLIBC_BASE "GLIBC_2.2.5"
#define RNNKIT_GLIBC_AFFINITY "GLIBC_2.3.4"
#elif defined(__aarch64__)
#define RNNKIT_GLIBC_BASE "GLIBC_2.17"
#define RNNKIT_GLIBC_AFFINITY "GLIBC_2.17"
#else
#error "glibc_floor.c: no symbol versions known for this architecture (build without RNNKIT_GLIBC_FLOOR)"
#endif

/* Hidden: the linker resolves the wrapped references inside the addon; nothing is exported. */
#define RNNKIT_HIDDEN __attribute__((visibility("hidden")))
#define RNNKIT_WRAPPED(name) __wrap_##name

#define RNNKIT_OLD(ret, name, ver, params, args)          \
  ret rnnkit_old_##name params;                           \
  __asm__(".symver rnnkit_old_" #name "," #name "@" ver); \
  RNNKIT_HIDDEN ret RNNKIT_WRAPPED(name) params;          \
  RNNKIT_HIDDEN ret RNNKIT_WRAPPED(name) params { return rnnkit_old_##name args; }

RNNKIT_OLD(double, exp, RNNKIT_GLIBC_BASE, (double x), (x))
RNNKIT_OLD(double, log, RNNKIT_GLIBC_BASE, (double x), (x))
RNNKIT_OLD(double, pow, RNNKIT_GLIBC_BASE, (double x, double y), (x, y))
RNNKIT_OLD(float, expf, RNNKIT_GLIBC_BASE, (float x), (x))
RNNKIT_OLD(float, logf, RNNKIT_GLIBC_BASE, (float x), (x))
RNNKIT_OLD(float, powf, RNNKIT_GLIBC_BASE, (float x, float y), (x, y))

RNNKIT_OLD(int, pthread_create, RNNKIT_GLIBC_BASE,
           (pthread_t * t, const pthread_attr_t* a, void* (*f)(void*), void* p), (t, a, f, p))
RNNKIT_OLD(int, pthread_join, RNNKIT_GLIBC_BASE, (pthread_t t, void** r), (t, r))
RNNKIT_OLD(int, pthread_once, RNNKIT_GLIBC_BASE, (pthread_once_t * o, void (*f)(void)), (o, f))
RNNKIT_OLD(int, pthread_mutex_trylock, RNNKIT_GLIBC_BASE, (pthread_mutex_t * m), (m))
RNNKIT_OLD(int, pthread_getaffinity_np, RNNKIT_GLIBC_AFFINITY, (pthread_t t, size_t n, cpu_set_t* s),
           (t, n, s))
RNNKIT_OLD(int, pthread_setaffinity_np, RNNKIT_GLIBC_AFFINITY, (pthread_t t, size_t n, const cpu_set_t* s),
           (t, n, s))
RNNKIT_OLD(int, pthread_detach, RNNKIT_GLIBC_BASE, (pthread_t t), (t))
RNNKIT_OLD(int, pthread_key_create, RNNKIT_GLIBC_BASE, (pthread_key_t * k, void (*d)(void*)), (k, d))
RNNKIT_OLD(int, pthread_key_delete, RNNKIT_GLIBC_BASE, (pthread_key_t k), (k))
RNNKIT_OLD(void*, pthread_getspecific, RNNKIT_GLIBC_BASE, (pthread_key_t k), (k))
RNNKIT_OLD(int, pthread_setspecific, RNNKIT_GLIBC_BASE, (pthread_key_t k, const void* v), (k, v))

RNNKIT_HIDDEN char RNNKIT_WRAPPED(__libc_single_threaded) = 0;

/* getentropy(3): at most 256 bytes, from getrandom(2), else (kernels before 3.17) /dev/urandom. */
RNNKIT_HIDDEN int RNNKIT_WRAPPED(getentropy)(void* buf, size_t n);
RNNKIT_HIDDEN int RNNKIT_WRAPPED(getentropy)(void* buf, size_t n) {
  unsigned char* p = (unsigned char*)buf;
  if (n > 256) {
    errno = EIO;
    return -1;
  }
  while (n > 0) {
    long r = syscall(SYS_getrandom, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == ENOSYS) {
      int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
      if (fd < 0) return -1;
      while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
          close(fd);
          errno = EIO;
          return -1;
        }
        p += k;
        n -= (size_t)k;
      }
      close(fd);
      return 0;
    }
    if (r < 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* arc4random(3) cannot fail: glibc's terminates the process when no randomness is available. */
RNNKIT_HIDDEN uint32_t RNNKIT_WRAPPED(arc4random)(void);
RNNKIT_HIDDEN uint32_t RNNKIT_WRAPPED(arc4random)(void) {
  uint32_t v;
  if (__wrap_getentropy(&v, sizeof v) != 0) abort();
  return v;
}
