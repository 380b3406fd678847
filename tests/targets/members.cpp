// members.cpp: C++ member functions, whose first argument is the hidden `this` (rdi), which
// DWARF lists among the parameters but not in the function's type.
//
// Built at -O0 and -O2, both with DWARF (members_O0_g, members_O2_g). Each function prints
// its object's address and every argument, so a test compares them with what a groutine read:
//   E::foo      `int foo(int z) const`: this in rdi, z in esi
//   E::pick     `int pick(int, int w) const`: this in rdi, an unnamed int in esi, w in edx
//   L::bar      `long bar(long z, int w)`: this in rdi, z in rsi, w in edx
//   L::scaled   `double scaled(double f, int k) const`: this in rdi, f in xmm0, k in esi
//   L::triple   `Big triple(int z) const`: a struct returned in memory: its address in rdi,
//               this in rsi, z in edx
//   L::count    `static int count(int z)`: no this, z in edi
//   L::owned    `Owned owned(int z) const`: Owned (8 bytes) has a destructor, so it is
//               returned in memory: its address in rdi, this in rsi, z in edx
//   L::take     `long take(Owned o, int w) const`: o is passed as the address of a copy:
//               this in rdi, &o in rsi, w in edx (printed by take itself)
//   L::sum3     `long sum3(int a, long b, int c) const`, defined in the class: this in rdi,
//               a, b, c in esi, rdx, ecx
//   L::ac       `long ac(int a, long b, int c) const`, defined in the class and only
//               noinline, not HOOKED: at -O2 GCC calls a clone, L::ac(...) [clone .isra.0],
//               that takes only a and c, in edi and esi (its DWARF lists a, c, b, this)
//   V::many     `static long many(int a, int b, int c, int d, int e, int f, int g, ...)`:
//               variadic (its demangled name holds "..."), a to f in edi to r9d, g on the
//               stack, then the variadic arguments (not read)
//
// Usage: members [ITERATIONS=2]. Iteration i prints, with THIS the object's address (%p):
//   E::foo(THIS,z=-5)=V
//   E::pick(THIS,?=1,w=2)=V      (? is the unnamed parameter)
//   L::bar(THIS,z=-7,w=9)=V
//   L::scaled(THIS,f=1.5,k=2)=V
//   L::triple(THIS,z=11)=V
//   L::count(z=13)=V
//   L::owned(THIS,z=14)=V
//   L::take(THIS,o=ADDRESS,w=15)=V
//   L::sum3(THIS,a=1,b=2,c=3)=V
//   L::ac(THIS,a=4,b=5,c=6)=V
//   V::many(a=1,b=2,c=3,d=4,e=5,f=6,g=7)=V
// with i added to every integer argument.
#include <cstdarg>
#include <cstdio>

#include "hooked.h"

struct E {
  int base;
  HOOKED int foo(int z) const;
  HOOKED int pick(int, int w) const;
};

struct Big {
  long a, b, c;
};

// Owned is not trivial for calls (its destructor is user-provided).
static volatile int owned_live = 0;
struct Owned {
  long v;
  ~Owned() { owned_live = owned_live - 1; }
};

struct L {
  long k;
  HOOKED long bar(long z, int w);
  HOOKED double scaled(double f, int k2) const;
  HOOKED Big triple(int z) const;
  HOOKED static int count(int z);
  HOOKED Owned owned(int z) const;
  HOOKED long take(Owned o, int w) const;
  HOOKED long sum3(int a, long b, int c) const { return k + a + b + c; }
  __attribute__((noinline)) long ac(int a, [[maybe_unused]] long b, int c) const { return a + c; }
};

struct V {
  HOOKED static long many(int a, int b, int c, int d, int e, int f, int g, ...);
};

int E::foo(int z) const { return base + z; }
int E::pick(int, int w) const { return base + w; }
long L::bar(long z, int w) { return k += z * w; }
double L::scaled(double f, int k2) const { return f * k2 + static_cast<double>(k); }
Big L::triple(int z) const { return Big{k, k + z, k + 2 * z}; }
int L::count(int z) { return z + 1; }
Owned L::owned(int z) const { return Owned{k + z}; }
long L::take(Owned o, int w) const {
  long r = o.v + w;
  std::printf("L::take(%p,o=%p,w=%d)=%ld\n", static_cast<const void *>(this),
              static_cast<void *>(&o), w, r);
  return r;
}
long V::many(int a, int b, int c, int d, int e, int f, int g, ...) {
  std::va_list rest;
  va_start(rest, g);
  long r = a + b + c + d + e + f + g + va_arg(rest, int);
  va_end(rest);
  return r;
}

// Inputs go through volatile objects so -O2 cannot fold any call.
static volatile int seed = 0;

int main(int argc, char **argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long n = iterations(argc, argv, 2);
  E e{40};
  L l{3};
  for (long i = 0; i < n; ++i) {
    int d = seed + static_cast<int>(i);
    std::printf("E::foo(%p,z=%d)=%d\n", static_cast<void *>(&e), -5 + d, e.foo(-5 + d));
    std::printf("E::pick(%p,?=%d,w=%d)=%d\n", static_cast<void *>(&e), 1 + d, 2 + d,
                e.pick(1 + d, 2 + d));
    std::printf("L::bar(%p,z=%ld,w=%d)=%ld\n", static_cast<void *>(&l), -7L + d, 9 + d,
                l.bar(-7 + d, 9 + d));
    std::printf("L::scaled(%p,f=1.5,k=%d)=%g\n", static_cast<void *>(&l), 2 + d,
                l.scaled(1.5, 2 + d));
    Big b = l.triple(11 + d);
    std::printf("L::triple(%p,z=%d)=%ld\n", static_cast<void *>(&l), 11 + d, b.a + b.b + b.c);
    std::printf("L::count(z=%d)=%d\n", 13 + d, L::count(13 + d));
    std::printf("L::owned(%p,z=%d)=%ld\n", static_cast<void *>(&l), 14 + d, l.owned(14 + d).v);
    l.take(Owned{seed + 1L}, 15 + d);
    std::printf("L::sum3(%p,a=%d,b=%ld,c=%d)=%ld\n", static_cast<void *>(&l), 1 + d, 2L + d, 3 + d,
                l.sum3(1 + d, 2 + d, 3 + d));
    std::printf("L::ac(%p,a=%d,b=%ld,c=%d)=%ld\n", static_cast<void *>(&l), 4 + d, 5L + d, 6 + d,
                l.ac(4 + d, 5 + d, 6 + d));
    std::printf("V::many(a=%d,b=%d,c=%d,d=%d,e=%d,f=%d,g=%d)=%ld\n", 1 + d, 2 + d, 3 + d, 4 + d,
                5 + d, 6 + d, 7 + d, V::many(1 + d, 2 + d, 3 + d, 4 + d, 5 + d, 6 + d, 7 + d, 8));
  }
  return 0;
}
