#pragma once
// GROUTINES_ASSERT checks an internal invariant in debug builds, printing what was expected.
// Never for anything a user, a script or the target can cause: those are Errors.
#include <cstdio>
#include <cstdlib>

#ifdef NDEBUG
#define GROUTINES_ASSERT(cond, ...) ((void)0)
#else
#define GROUTINES_ASSERT(cond, ...)                                                     \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "groutines: internal error at %s:%d: %s: ", __FILE__,        \
                   __LINE__, #cond);                                                    \
      std::fprintf(stderr, __VA_ARGS__);                                                \
      std::fputc('\n', stderr);                                                         \
      std::abort();                                                                     \
    }                                                                                   \
  } while (false)
#endif
