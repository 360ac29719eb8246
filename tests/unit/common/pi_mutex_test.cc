#include "common/pi_mutex.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

namespace l2a::common {
namespace {

// The kernel's effective priority of thread TID (/proc's "prio": 20 for a normal thread at nice
// 0, -1 - P for real-time priority P, inherited ones included).
int effectivePriority(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces: field 18 is
  // the 16th after it.
  auto fields = stat.substr(stat.rfind(')') + 2);
  size_t at = 0;
  for (int i = 0; i < 15; ++i) at = fields.find(' ', at) + 1;
  return std::stoi(fields.substr(at));
}

template <typename Mutex>
int holderPriorityWhileARealTimeThreadWaits(Mutex& mutex) {
  pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  mutex.lock();
  std::atomic<bool> waiting{false};
  std::atomic<int> setError{0};
  std::thread packet([&] {
    sched_param param{};
    param.sched_priority = 10;
    setError = pthread_setschedparam(pthread_self(), SCHED_RR, &param);
    waiting = true;
    std::lock_guard lock(mutex);
  });
  while (!waiting) std::this_thread::yield();
  int boosted = effectivePriority(self);
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
       boosted != -11 && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the other thread reaches lock()
    boosted = effectivePriority(self);
  }
  mutex.unlock();
  packet.join();
  EXPECT_EQ(setError.load(), 0) << "SCHED_RR refused (the tests run as root): " << std::strerror(setError.load());
  return boosted;
}

// A thread holding the lock while a real-time thread waits for it runs at that thread's
// priority until it lets go; with a std::mutex it stays where it was (the inversion).
TEST(PiMutex, TheHolderRunsAtTheWaitingRealTimeThreadsPriority) {
  pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  int before = effectivePriority(self);
  ASSERT_GE(before, 0) << "the test thread must start with normal scheduling";
  PiMutex inheriting;
  EXPECT_EQ(holderPriorityWhileARealTimeThreadWaits(inheriting), -11);
  EXPECT_EQ(effectivePriority(self), before) << "back to its own once it let go";
  std::mutex plain;
  EXPECT_EQ(holderPriorityWhileARealTimeThreadWaits(plain), before);
}

TEST(PiMutex, IsLockableByTheStandardGuards) {
  PiMutex mutex;
  {
    std::unique_lock lock(mutex);
    EXPECT_FALSE(mutex.try_lock());
  }
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

}  // namespace
}  // namespace l2a::common
