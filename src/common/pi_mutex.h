// PiMutex: a mutex with priority inheritance (PTHREAD_PRIO_INHERIT), for the locks the packet
// thread shares with the threads that plan and write. When the packet thread (real-time with
// --packet-rt-priority) waits for such a lock, the thread holding it runs at the packet thread's
// priority until it lets go: a low-priority planner preempted while holding it can no longer
// hold heartbeats up (a priority inversion; 20 agents on two cores sent heartbeats in sequence
// but hundreds of milliseconds late, and their peers took their addresses). std::mutex takes no
// protocol. Lockable: std::lock_guard and std::unique_lock take it. Uncontended, it costs what a
// std::mutex does (one atomic operation in user space).
#pragma once

#include <pthread.h>

namespace l2a::common {

class PiMutex {
 public:
  PiMutex() {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setprotocol(&attributes, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&mutex_, &attributes);
    pthread_mutexattr_destroy(&attributes);
  }
  ~PiMutex() { pthread_mutex_destroy(&mutex_); }
  PiMutex(const PiMutex&) = delete;
  PiMutex& operator=(const PiMutex&) = delete;

  void lock() { pthread_mutex_lock(&mutex_); }
  bool try_lock() { return pthread_mutex_trylock(&mutex_) == 0; }
  void unlock() { pthread_mutex_unlock(&mutex_); }

 private:
  pthread_mutex_t mutex_;
};

}  // namespace l2a::common
