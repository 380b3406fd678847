#pragma once
#include <atomic>
#include <mutex>
#include <thread>

namespace groutines {

// RecursiveLock is a recursive mutex whose re-entry by the thread that holds it costs a
// relaxed load and an increment, no atomic read-modify-write. A backend takes the runtime's
// lock once per target stop and delivers that stop's events under it; each delivery's own
// lock is then a re-entry.
class RecursiveLock {
 public:
  void lock() {
    const std::thread::id me = std::this_thread::get_id();
    // Only this thread ever stores its own id: seeing it means this thread holds the lock.
    if (owner_.load(std::memory_order_relaxed) == me) {
      ++depth_;
      return;
    }
    mutex_.lock();
    owner_.store(me, std::memory_order_relaxed);
    depth_ = 1;
  }
  // try_lock() takes the lock if it is free (or held by this thread) and tells whether it did.
  bool try_lock() {
    const std::thread::id me = std::this_thread::get_id();
    if (owner_.load(std::memory_order_relaxed) == me) {
      ++depth_;
      return true;
    }
    if (!mutex_.try_lock()) return false;
    owner_.store(me, std::memory_order_relaxed);
    depth_ = 1;
    return true;
  }
  void unlock() {
    if (--depth_ == 0) {
      owner_.store(std::thread::id(), std::memory_order_relaxed);
      mutex_.unlock();
    }
  }
  // depth() is how many times the thread holding the lock holds it; set_depth() puts back an
  // earlier depth (>= 1) for the holder (a fiber ended without unwinding left entries).
  unsigned depth() const noexcept { return depth_; }
  void set_depth(unsigned depth) noexcept { depth_ = depth; }
  // held() tells whether the calling thread holds the lock.
  bool held() const noexcept {
    return owner_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

 private:
  std::mutex mutex_;
  std::atomic<std::thread::id> owner_{};
  unsigned depth_ = 0;
};

}  // namespace groutines
