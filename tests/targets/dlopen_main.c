/* dlopen_main.c: a hooked function in a library loaded with dlopen after launch.
 *
 * At launch only dlopen_main itself and libc are loaded; a breakpoint on dl_func is
 * pending. main then dlopens libdl_target.so and calls dl_func through the pointer
 * dlsym returned, so a test checks the subscription resolves on the library load and the
 * calls arrive. It also prints a marker line before the dlopen, which a test can use to
 * check nothing was delivered before the library existed.
 *
 * Usage: dlopen_main [ITERATIONS=3 [LIBRARY]]. LIBRARY defaults to libdl_target.so in the
 * directory of this executable (found through /proc/self/exe). Prints:
 *   dlopen libdl_target.so
 *   dl_func(0)=1
 *   dl_func(1)=4
 *   dl_func(2)=7
 * and exits 1 with a message on stderr if the library or the symbol is missing. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hooked.h"

/* library_next_to_exe() writes "<directory of this executable>/libdl_target.so" to out. */
static int library_next_to_exe(char *out, size_t size) {
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len < 0)
    return -1;
  exe[len] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash == NULL)
    return -1;
  *slash = '\0';
  int written = snprintf(out, size, "%s/libdl_target.so", exe);
  return written > 0 && (size_t)written < size ? 0 : -1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 3);
  char path[PATH_MAX];
  if (argc > 2) {
    snprintf(path, sizeof path, "%s", argv[2]);
  } else if (library_next_to_exe(path, sizeof path) != 0) {
    fprintf(stderr, "dlopen_main: cannot locate libdl_target.so next to the executable\n");
    return 1;
  }

  const char *base = strrchr(path, '/');
  printf("dlopen %s\n", base ? base + 1 : path);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "dlopen_main: %s\n", dlerror());
    return 1;
  }
  int (*dl_func)(int);
  *(void **)&dl_func = dlsym(lib, "dl_func");
  if (dl_func == NULL) {
    fprintf(stderr, "dlopen_main: %s\n", dlerror());
    return 1;
  }
  for (int i = 0; i < n; ++i)
    printf("dl_func(%d)=%d\n", i, dl_func(i));
  dlclose(lib);
  return 0;
}
