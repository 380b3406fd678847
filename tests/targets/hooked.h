/* hooked.h: what every debuggee in tests/targets shares.
 *
 * HOOKED marks a function the tests hook with a breakpoint. It must stay a real,
 * externally visible function at every optimisation level: noinline keeps its calls,
 * and on GCC noipa also stops constant propagation, cloning (add.constprop.0),
 * splitting (add.part.0) and pure-call elimination, any of which would move or remove
 * the calls a test expects to see. Clang has no noipa; its callers use volatile inputs.
 *
 * HOOKED_EXPORT additionally gives a function default visibility, for shared libraries
 * built with -fvisibility=hidden.
 *
 * iterations() reads the iteration count from argv[1], or returns fallback.
 *
 * Every main makes stdout line-buffered so a test reading it while the target is stopped
 * sees every line printed so far. */
#ifndef GROUTINES_TARGETS_HOOKED_H
#define GROUTINES_TARGETS_HOOKED_H

#include <stdlib.h>

#if defined(__clang__)
#define HOOKED __attribute__((noinline))
#else
#define HOOKED __attribute__((noinline, noipa))
#endif
#define HOOKED_EXPORT HOOKED __attribute__((visibility("default")))

static inline long iterations(int argc, char **argv, long fallback) {
  if (argc < 2)
    return fallback;
  long n = strtol(argv[1], NULL, 10);
  return n >= 0 ? n : fallback;
}

#endif
