// Containment: a C++ groutine's stack overflow, abort() and std::terminate() end that groutine
// as failed and nothing else; anything that is not a groutine's stays as fatal as before; a
// groutine library whose static initialiser throws is a load error.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <future>
#include <stdexcept>
#include <thread>

#include "scripted_host.hpp"
#include "groutines/library.hpp"
#include "groutines/registry.hpp"

using namespace groutines;

namespace {

// deep() recurses until the stack runs out: a frame of 1 KiB per level, never a tail call.
__attribute__((noinline)) int deep(int n) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(n);
  if (n == 0) return 0;
  return deep(n - 1) + pad[0];
}

__attribute__((noinline)) void throws() { throw std::logic_error("escaped a noexcept"); }
void throws_through_noexcept() noexcept { throws(); }

volatile std::uintptr_t g_null = 0;  // a null pointer the compiler cannot see

// killed_by() runs fn in a child process and returns the signal that ended it (0: none).
template <typename Fn>
int killed_by(Fn fn) {
  pid_t child = fork();
  if (child == 0) {
    fn();
    std::_Exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

}  // namespace

TEST_CASE("a groutine that overflows its fiber stack fails with 'stack overflow' and the others go on",
          "[core][containment]") {
  scripted::Host host(RuntimeOptions{64 * 1024});
  int other = 0;
  Groutine& bad = host.load("recurses", [] {
    for (Call c : calls("f")) {
      (void)c;
      deep(1'000'000);
    }
  });
  Groutine& good = host.load("counts", [&] {
    for (;;) {
      wait_call("f");
      ++other;
    }
  });
  host.backend.call(1, "f");
  REQUIRE(bad.state() == State::Failed);
  REQUIRE(bad.failures().size() == 1);
  CHECK(bad.failures()[0].message ==
        "stack overflow (fiber stack 64 KiB; set GROUTINES_STACK_SIZE to raise it)");
  CHECK(bad.failures()[0].event == "call #1 of f on thread 1");
  host.backend.call(1, "f");
  CHECK(other == 2);
  CHECK(good.state() == State::Waiting);
  // The dead groutine's stream let go of its hook: only "counts" holds f now.
  auto hooks = host.runtime.hooks();
  REQUIRE(hooks.size() == 1);
  CHECK(hooks[0].holders == 1);
  // The runtime is whole: its lock is free for another thread, it loads and unloads.
  CHECK(std::async(std::launch::async, [&] { return host.runtime.try_lock().owns_lock(); }).get());
  Groutine& again = host.load("again", [] { deep(1'000'000); });
  CHECK(again.state() == State::Failed);
  host.runtime.unload_all();
  CHECK(host.runtime.hooks().empty());
}

TEST_CASE("a groutine that calls abort() fails with 'abort() called' and the others go on",
          "[core][containment]") {
  scripted::Host host;
  int other = 0;
  Groutine& bad = host.load("aborts", [] {
    wait_call("f");
    std::abort();
  });
  host.load("counts", [&] {
    for (;;) {
      wait_call("f");
      ++other;
    }
  });
  host.backend.call(1, "f");
  REQUIRE(bad.state() == State::Failed);
  CHECK(bad.failures().at(0).message == "abort() called");
  // SIGABRT is not blocked on this thread afterwards: a second one is contained too.
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  CHECK_FALSE(sigismember(&mask, SIGABRT));
  Groutine& again = host.load("aborts-too", [] { std::abort(); });
  CHECK(again.failures().at(0).message == "abort() called");
  host.backend.call(1, "f");
  CHECK(other == 2);
}

TEST_CASE("a listener that overflows while handling a fired event fails and the firer goes on",
          "[core][containment][custom]") {
  scripted::Host host;
  Groutine& listener = host.load("listener", [] {
    wait_event("x");
    deep(1'000'000);
  });
  Groutine& replier = host.load("replier", [] { wait_event("x").reply(Value(std::int64_t{7})); });
  std::size_t replies = 99;
  Groutine& firer = host.load("firer", [&] {
    wait_call("f");
    replies = fire("x").size();
    wait_call("f");
  });
  host.backend.call(1, "f");
  CHECK(listener.failures().at(0).message.rfind("stack overflow", 0) == 0);
  CHECK(replier.state() == State::Finished);
  CHECK(replies == 1);
  CHECK(firer.state() == State::Waiting);
  host.backend.call(1, "f");
  CHECK(firer.state() == State::Finished);
  CHECK(firer.passed());
}

TEST_CASE("std::terminate in a groutine fails it with the exception that caused it",
          "[core][containment]") {
  scripted::Host host;
  SECTION("an exception escaping a noexcept function") {
    Groutine& g = host.load("noexcept", [] { throws_through_noexcept(); });
    CHECK(g.failures().at(0).message == "std::terminate: std::logic_error: escaped a noexcept");
  }
  SECTION("a plain call, without an exception") {
    Groutine& g = host.load("terminates", [] { std::terminate(); });
    CHECK(g.failures().at(0).message == "std::terminate called");
  }
  // The thread's exception record is as before: no exception is current here.
  CHECK_FALSE(std::current_exception());
  CHECK(std::uncaught_exceptions() == 0);
  Groutine& fine = host.load("fine", [] {
    try {
      throw std::runtime_error("caught");
    } catch (const std::exception&) {
    }
  });
  CHECK(fine.state() == State::Finished);
}

TEST_CASE("faults, aborts and terminates that are not a groutine's stay fatal as before",
          "[core][containment]") {
  SECTION("a null pointer dereference in a groutine is no stack overflow") {
    CHECK(killed_by([] {
            scripted::Host host;
            host.load("null", [] { *reinterpret_cast<volatile int*>(g_null) = 1; });
          }) == SIGSEGV);
  }
  SECTION("abort() outside any groutine, once groutines have run on the thread") {
    CHECK(killed_by([] {
            scripted::Host host;
            host.load("fine", [] {});
            std::abort();
          }) == SIGABRT);
  }
  SECTION("std::terminate outside any groutine") {
    CHECK(killed_by([] {
            scripted::Host host;
            host.load("fine", [] {});
            std::terminate();
          }) == SIGABRT);
  }
  SECTION("SIGSEGV sent to the process") {
    CHECK(killed_by([] {
            scripted::Host host;
            host.load("fine", [] {});
            kill(getpid(), SIGSEGV);
          }) == SIGSEGV);
  }
}

TEST_CASE("a library whose static initialiser throws is a load error naming it and the exception",
          "[core][containment][library]") {
  const std::string path = GROUTINES_THROWING_LIBRARY;
  try {
    open_library(path);
    FAIL("open_library() returned");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "cannot load '" + path +
              "': a static initialiser threw std::runtime_error: boom in a static initialiser");
  }
  CHECK(Registry::global().definitions_of(path).empty());
  CHECK_FALSE(std::current_exception());
  CHECK(std::uncaught_exceptions() == 0);
  // The loader is whole: loading again fails the same way, and other libraries load.
  CHECK_THROWS_AS(open_library(path), Error);
  CHECK_THROWS_WITH(open_library("/nonexistent/libx.so"),
                    Catch::Contains("cannot load '/nonexistent/libx.so': "));
}

TEST_CASE("a thread that switched into fibers gives its alternate signal stack back when it ends",
          "[core][containment][thread]") {
  scripted::Host host;
  void* alt = nullptr;
  std::thread([&] {
    host.load("fine", [] {});  // the first switch on this thread gives it an alternate stack
    stack_t current{};
    REQUIRE(sigaltstack(nullptr, &current) == 0);
    REQUIRE_FALSE(current.ss_flags & SS_DISABLE);
    alt = current.ss_sp;
  }).join();
  REQUIRE(alt != nullptr);
  // mincore() fails with ENOMEM on a page that is not mapped: the stack was unmapped.
  unsigned char resident = 0;
  errno = 0;
  CHECK(mincore(alt, 1, &resident) == -1);
  CHECK(errno == ENOMEM);
}
