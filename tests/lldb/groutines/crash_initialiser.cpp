// crash_initialiser: a groutine library whose static initialiser throws (tests/lldb/
// test_crashes.py). Loading it must be a load error naming it and the exception; LLDB and
// the groutines loaded before go on.
#include <groutines/groutines.hpp>

#include <stdexcept>

GROUTINE("never-loaded") { groutines::wait_call("add"); }

namespace {
struct Config {
  Config() { throw std::runtime_error("no configuration file"); }
};
Config config;
}  // namespace
