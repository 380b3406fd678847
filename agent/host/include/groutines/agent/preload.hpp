#pragma once
// preload: the agent as LD_PRELOAD can name it, for the debuggers that put it in the
// environment of the processes they launch.
#include <string>

namespace groutines::agent {

// preloadable() is agent (a path) as LD_PRELOAD, and a quoted setting carrying it, can hold
// it: itself, or when its path has a blank or a colon (LD_PRELOAD's separators: it has no
// quoting) or a quote or a backslash, a link to it named libgroutines_agent.so in a private
// directory of $TMPDIR (else /tmp), made once per process and removed at exit (or, after an
// exit that skipped that, by the next process that makes one). "" when the link cannot be
// made.
std::string preloadable(const std::string& agent);

}  // namespace groutines::agent
