// leakkinds.cpp: memcheck's leak kinds and the whole malloc family, for the stock heap
// groutine against Valgrind (tests/run/test_heap.py).
//
//   leakkinds kinds     leaves one block of each kind at exit: definitely lost (40 bytes),
//                       a lost list of 3 nodes (definitely lost 24, indirectly lost 2 x 24),
//                       possibly lost (64, only a pointer into its middle kept), still
//                       reachable (32, from a global)
//   leakkinds family    allocates with every member of the malloc family and every form of
//                       operator new, and releases each as it should: nothing left
//   leakkinds mismatch  allocates with new[] and releases with delete
//   leakkinds thread    a block (48 bytes) whose only pointer is on a thread's stack, the
//                       thread blocked while main exits: still reachable
//   leakkinds calls     the same thread started, then main calls halfway() 200 times (a
//                       hooked function called on one thread while another one waits:
//                       tests/lldb/test_target_state.py)
//   leakkinds attach    allocates 3 blocks, prints "ready", waits until a debugger sets `go`
//                       (attached to meanwhile), then frees them and allocates and frees one
//
// Prints "leakkinds MODE done" at the end.
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <new>

struct Node {
  Node* next;
  char payload[16];
};

void* volatile reachable;  // still reachable: pointed to from the data segment
char* volatile inside;     // possibly lost: the block's only pointer is into its middle

__attribute__((noinline)) void lose_one() {
  void* volatile p = malloc(40);
  memset(p, 1, 40);
}

__attribute__((noinline)) void lose_list() {
  Node* volatile head = nullptr;
  for (int i = 0; i < 3; ++i) {
    Node* n = static_cast<Node*>(malloc(sizeof(Node)));
    n->next = head;
    head = n;
  }
}

__attribute__((noinline)) void keep_inside() {
  char* p = static_cast<char*>(malloc(64));
  inside = p + 8;
}

__attribute__((noinline)) void keep_reachable() { reachable = malloc(32); }

// clear_stack() overwrites the stack the calls above used, so no stale copy of a pointer
// (in a dead frame above the stack pointer of a later call) keeps a lost block in reach.
__attribute__((noinline)) void clear_stack() {
  volatile char junk[4096];
  memset(const_cast<char*>(junk), 0, sizeof junk);
}

// halfway() marks the middle of whole_family(): heap.start=halfway follows from there, with
// blocks allocated before and freed after.
__attribute__((noinline)) void halfway() { asm volatile(""); }

__attribute__((noinline)) void whole_family() {
  void* a = malloc(10);
  a = realloc(a, 100);
  void* b = realloc(nullptr, 20);    // allocates
  void* gone = realloc(b, 0);        // frees b (glibc returns NULL)
  void* c = calloc(3, 8);
  void* d = reallocarray(nullptr, 4, 8);
  d = reallocarray(d, 8, 8);
  void* e = nullptr;
  if (posix_memalign(&e, 64, 50) != 0) return;
  void* f = aligned_alloc(64, 128);
  void* g = memalign(32, 40);
  halfway();
  char* h = strdup("hello");
  char* i = strndup("hello world", 5);
  int* j = new int(1);
  int* k = new int[4];
  int* l = new (std::nothrow) int(2);
  int* m = new (std::nothrow) int[3];
  struct alignas(64) Wide {
    char bytes[64];
  };
  Wide* n = new Wide;
  Wide* o = new Wide[2];
  free(a);
  free(gone);
  free(c);
  free(d);
  free(e);
  free(f);
  free(g);
  free(h);
  free(i);
  delete j;
  delete[] k;
  operator delete(l, std::nothrow);
  operator delete[](m, std::nothrow);
  delete n;  // sized and aligned
  delete[] o;
}

volatile int go = 0;  // set by the debugger that attached (leakkinds attach)

pthread_barrier_t started;

void* hold(void*) {
  void* volatile mine = malloc(48);
  pthread_barrier_wait(&started);
  for (;;) pause();  // until the process exits
  return mine;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "kinds";
  if (strcmp(mode, "kinds") == 0) {
    lose_one();
    lose_list();
    keep_inside();
    keep_reachable();
    clear_stack();
  } else if (strcmp(mode, "family") == 0) {
    whole_family();
  } else if (strcmp(mode, "mismatch") == 0) {
    int* p = new int[4];
    delete reinterpret_cast<int*>(p);
  } else if (strcmp(mode, "thread") == 0 || strcmp(mode, "calls") == 0) {
    pthread_t t;
    pthread_barrier_init(&started, nullptr, 2);
    pthread_create(&t, nullptr, hold, nullptr);
    pthread_barrier_wait(&started);
    if (mode[0] == 'c')
      for (int i = 0; i < 200; ++i) halfway();
  } else if (strcmp(mode, "attach") == 0) {
    void* before[3];
    for (void*& p : before) p = malloc(24);
    printf("ready\n");
    fflush(stdout);
    while (!go) usleep(1000);
    for (void* p : before) free(p);
    free(malloc(8));
  }
  fprintf(stderr, "leakkinds %s done\n", mode);
  return 0;
}
