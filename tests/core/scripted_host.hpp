#pragma once
// Host: the core's tests over the scripted target (groutines::testing::ScriptedTarget, the one
// scripted backend, core/testing/), loading groutines from lambdas.
#include <functional>
#include <string>

#include "groutines/registry.hpp"
#include "groutines/runtime.hpp"
#include "groutines/testing/scripted_target.hpp"

namespace scripted {

using groutines::testing::ScriptedFrame;
using groutines::testing::ScriptedTarget;

// definition() makes a groutine definition from a lambda.
inline groutines::Definition definition(const std::string& name, std::function<void()> body,
                                        std::string source = "test") {
  groutines::Definition d;
  d.name = name;
  d.body = std::move(body);
  d.location = {__FILE__, 1};
  d.source = std::move(source);
  return d;
}

// Host: a scripted target (backend) and its runtime.
struct Host {
  ScriptedTarget backend;
  groutines::Runtime& runtime;

  explicit Host(groutines::RuntimeOptions options = {})
      : backend(options), runtime(backend.runtime()) {}

  groutines::Groutine& load(const std::string& name, std::function<void()> body,
                            std::string source = "test") {
    return runtime.load(definition(name, std::move(body), std::move(source)));
  }
};

}  // namespace scripted
