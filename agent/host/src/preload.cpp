#include "groutines/agent/preload.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

namespace groutines::agent {

namespace {

// PreloadLink is a link to the agent in a private temporary directory
// (groutines-agent-PID-XXXXXX), for an agent whose path LD_PRELOAD cannot hold; removed with
// its directory at exit, or, after an exit that skipped that (_exit(), a crash), by the next
// debugger that makes one (remove_stale_links()).
struct PreloadLink {
  std::string dir, path;
  ~PreloadLink() {
    if (!path.empty()) unlink(path.c_str());
    if (!dir.empty()) rmdir(dir.c_str());
  }
};

// remove_stale_links() removes the links of base whose debugger (the PID in the directory's
// name) is gone.
void remove_stale_links(const std::string& base) {
  DIR* dir = opendir(base.c_str());
  if (!dir) return;
  constexpr std::string_view prefix = "groutines-agent-";
  while (dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name.substr(0, prefix.size()) != prefix) continue;
    char* end = nullptr;
    long pid = std::strtol(entry->d_name + prefix.size(), &end, 10);
    if (pid <= 0 || *end != '-' || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
      continue;
    std::string stale = base + "/" + entry->d_name;
    unlink((stale + "/libgroutines_agent.so").c_str());
    rmdir(stale.c_str());
  }
  closedir(dir);
}

}  // namespace

std::string preloadable(const std::string& agent) {
  constexpr const char* unsafe = " \t\n:'\"\\";
  if (agent.find_first_of(unsafe) == std::string::npos) return agent;
  static PreloadLink link;
  if (link.path.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = tmp && *tmp && std::string(tmp).find_first_of(unsafe) == std::string::npos
                           ? tmp
                           : "/tmp";
    remove_stale_links(base);
    std::string pattern = base + "/groutines-agent-" + std::to_string(getpid()) + "-XXXXXX";
    if (!mkdtemp(pattern.data())) return "";
    link.dir = pattern;
    std::string path = link.dir + "/libgroutines_agent.so";
    if (symlink(agent.c_str(), path.c_str()) != 0) return "";
    link.path = path;
  }
  return link.path;
}

}  // namespace groutines::agent
