// throwing_initialiser: a groutine library whose static initialiser throws after its groutine
// registered (tests/core/containment.tests.cpp): loading it must be an Error, not the end of
// the process, and the groutine must not stay registered.
#include <groutines/groutines.hpp>

#include <stdexcept>

GROUTINE("never-registered") { groutines::wait_call("f"); }

namespace {
struct Boom {
  Boom() { throw std::runtime_error("boom in a static initialiser"); }
};
Boom boom;
}  // namespace
