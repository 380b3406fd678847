// fails_at_start: a groutine library with a groutine that fails before its first wait, beside
// one that waits (tests/lldb/test_load_text.py). `groutine load` shows the failure where and
// why, as it does for a Python script's.
#include <groutines/groutines.hpp>

GROUTINE("waits") { groutines::wait_call("add"); }

GROUTINE("fails-early") { GROUTINE_FAIL("no configuration"); }  // line 8
