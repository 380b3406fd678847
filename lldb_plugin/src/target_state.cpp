#include "target_state.hpp"

#include <cstdio>
#include <string>

#include "groutines/error.hpp"

namespace groutines::plugin {

namespace {

// agents_own() tells a mapping of the agent (its library, its shared memory with the host):
// the debugger's memory in the target, not the program's.
bool agents_own(const std::string& path) {
  return path.find("libgroutines_agent") != std::string::npos ||
         path.find("groutines-agent") != std::string::npos;
}

}  // namespace

std::vector<MemoryRegion> regions_of_process(lldb::SBProcess& process) {
  std::vector<MemoryRegion> out;
  lldb::SBMemoryRegionInfoList list = process.GetMemoryRegions();
  for (std::uint32_t i = 0, n = list.GetSize(); i < n; ++i) {
    lldb::SBMemoryRegionInfo info;
    if (!list.GetMemoryRegionAtIndex(i, info) || !info.IsMapped()) continue;
    MemoryRegion r;
    r.start = info.GetRegionBase();
    r.end = info.GetRegionEnd();
    r.readable = info.IsReadable();
    r.writable = info.IsWritable();
    r.executable = info.IsExecutable();
    if (const char* name = info.GetName()) r.path = name;
    if (r.end > r.start && !agents_own(r.path)) out.push_back(std::move(r));
  }
  return out;
}

std::vector<ThreadState> threads_of_process(lldb::SBProcess& process, std::uint64_t first) {
  std::vector<ThreadState> out;
  for (std::uint32_t i = 0, n = process.GetNumThreads(); i < n; ++i) {
    lldb::SBThread thread = process.GetThreadAtIndex(i);
    if (!thread.IsValid()) continue;
    ThreadState t;
    t.id = thread.GetThreadID();
    lldb::SBValueList sets = thread.GetFrameAtIndex(0).GetRegisters();
    lldb::SBValue general = sets.GetSize() ? sets.GetValueAtIndex(0) : lldb::SBValue();
    for (std::uint32_t j = 0, m = general.GetNumChildren(); j < m; ++j) {
      lldb::SBValue reg = general.GetChildAtIndex(j);
      if (reg.GetByteSize() != 8 || !reg.GetName()) continue;
      lldb::SBError error;
      std::uint64_t v = reg.GetValueAsUnsigned(error, 0);
      if (error.Fail()) continue;
      t.registers.emplace_back(reg.GetName(), v);
      if (t.registers.back().first == "rsp") t.stack_pointer = v;
    }
    if (t.id == first)
      out.insert(out.begin(), std::move(t));
    else
      out.push_back(std::move(t));
  }
  return out;
}

}  // namespace groutines::plugin
