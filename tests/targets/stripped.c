/* stripped.c: libstripped.so, a library with no debug info and no static symbol table.
 *
 * Built -O2 without -g and with -fvisibility=hidden, then `strip --strip-all` after the
 * link, so only the dynamic symbol table (.dynsym) is left and only lib_func is in it:
 * a test hooks lib_func through its dynamic symbol, with no DWARF to find arguments or
 * the end of the prologue. lib_helper, hidden and now nameless, keeps lib_func from being
 * a leaf, as in real libraries. lib_func(a, b) returns a * b + 7. */
#include "hooked.h"

HOOKED int lib_helper(int a, int b) { return a * b; }

HOOKED_EXPORT int lib_func(int a, int b) { return lib_helper(a, b) + 7; }
