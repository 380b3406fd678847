#include <catch2/catch.hpp>

#include <thread>

#include "scripted_host.hpp"

using namespace groutines;

TEST_CASE("deliveries from several OS threads are serialised and each delivered once",
          "[core][threads]") {
  scripted::Host host;
  std::uint64_t count = 0;
  std::uint64_t seq_sum = 0;
  host.load("counter", [&] {
    for (Call c : calls("f")) {
      ++count;
      seq_sum += c.seq();
    }
  });
  FunctionId f = host.runtime.function_id("f");
  constexpr int kPerThread = 2000;
  auto deliverer = [&](std::uint64_t thread) {
    scripted::ScriptedFrame frame;
    for (int i = 0; i < kPerThread; ++i) host.runtime.deliver_call(f, thread, Clock::now(), frame);
  };
  std::thread a(deliverer, 1), b(deliverer, 2);
  a.join();
  b.join();
  CHECK(count == 2 * kPerThread);
  constexpr std::uint64_t n = 2 * kPerThread;
  CHECK(seq_sum == n * (n + 1) / 2);  // every sequence number, once
}

TEST_CASE("the API called from a thread a groutine started is an error, not a corruption",
          "[core][threads]") {
  scripted::Host host;
  std::string error;
  Groutine& g = host.load("spawner", [&] {
    std::thread([&] {
      try {
        wait_call("f");
      } catch (const Error& e) {
        error = e.what();
      }
    }).join();
  });
  CHECK(error == "groutines::wait_call() called outside a groutine");
  CHECK(g.state() == State::Finished);
  CHECK(host.backend.hooked().empty());
}

TEST_CASE("a groutine suspended on one thread is resumed on another", "[core][threads]") {
  scripted::Host host;
  std::vector<std::thread::id> seen;
  host.load("g", [&] {
    for (int i = 0; i < 2; ++i) {
      wait_call("f");
      seen.push_back(std::this_thread::get_id());
    }
  });
  FunctionId f = host.runtime.function_id("f");
  scripted::ScriptedFrame frame;
  std::thread([&] { host.runtime.deliver_call(f, 1, Clock::now(), frame); }).join();
  host.runtime.deliver_call(f, 1, Clock::now(), frame);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] != seen[1]);
  CHECK(seen[1] == std::this_thread::get_id());
  CHECK(host.runtime.find("g")->state() == State::Finished);
}
