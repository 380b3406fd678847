/* dl_target.c: libdl_target.so, the library dlopen_main loads at run time.
 *
 * dl_func is not in any module when the target launches: a breakpoint on it stays pending
 * until the dlopen, then resolves. dl_func(x) returns 3x + 1. */
#include "hooked.h"

HOOKED_EXPORT int dl_func(int x) { return 3 * x + 1; }
