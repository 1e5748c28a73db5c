#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cpu_features.h"

namespace onnxforge {
namespace {

thread_local bool insideParallelRegion = false;
thread_local int callerThreadLimit = 0;  // 0: the pool's size

// One parallelFor call. Participants claim chunks from `next`; the caller
// returns once every chunk is done, without waiting for workers that woke too
// late to claim any (a descheduled worker must not stall the call). A late
// worker still holds the job through its shared_ptr, claims nothing, and so
// never touches `body`, which dies with the caller's frame.
struct Job {
  const std::function<void(size_t, size_t)>* body;
  size_t count, grain, chunks;
  size_t helpers;  // pool workers allowed to join (the caller's limit minus itself)
  std::atomic<size_t> next{0}, done{0}, joined{0};
};

class ThreadPool {
 public:
  explicit ThreadPool(int threads) { resize(threads); }
  ~ThreadPool() { stopWorkers(); }

  // Read without the region lock so that asking never waits for a running kernel.
  int size() const { return threads_.load(); }

  void resize(int threads) {
    std::lock_guard<std::mutex> lock(regionMutex_);
    stopWorkers();
    stop_.store(false);
    // New workers must not mistake the last finished job for a new one.
    size_t current = generation_.load();
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, current] { workerLoop(current); });
    threads_.store(threads);
  }

  void run(size_t count, size_t grain, const std::function<void(size_t, size_t)>& body) {
    if (count == 0) return;
    grain = std::max<size_t>(grain, 1);
    size_t chunks = (count + grain - 1) / grain;
    std::unique_lock<std::mutex> region(regionMutex_, std::try_to_lock);
    if (insideParallelRegion || chunks == 1 || workers_.empty() || callerThreadLimit == 1 || !region.owns_lock()) {
      body(0, count);
      return;
    }
    auto job = std::make_shared<Job>();
    job->body = &body;
    job->count = count;
    job->grain = grain;
    job->chunks = chunks;
    job->helpers = callerThreadLimit > 1 ? static_cast<size_t>(callerThreadLimit - 1) : workers_.size();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      generation_.store(generation_.load() + 1);
    }
    wake_.notify_all();
    work(*job);
    auto finished = [&] { return job->done.load() == job->chunks; };
    if (!spinUntil(finished)) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, finished);
    }
  }

 private:
  void work(Job& job) {
    insideParallelRegion = true;
    for (;;) {
      size_t chunk = job.next.fetch_add(1);
      if (chunk >= job.chunks) break;
      size_t begin = chunk * job.grain;
      (*job.body)(begin, std::min(job.count, begin + job.grain));
      if (job.done.fetch_add(1) + 1 == job.chunks) {
        // Under the mutex, so the caller cannot check and then sleep past this notify.
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_all();
      }
    }
    insideParallelRegion = false;
  }

  // Kernels often come back to back (a layer after a layer): a spin before sleeping
  // saves the wake-up latency of a futex round trip. It must also outlast the caller's
  // last chunk: on a VM a sleeping worker's vCPU halts, and the host may take
  // milliseconds to run it again, so a worker that sleeps while the caller finishes
  // a 0.3 ms chunk makes the next call run on one core (float GEMM 128x768x3072 on two
  // threads after a pause: 2.8 ms with a 70 us spin, 1.5 ms with 0.7 ms).
  template <typename Ready>
  static bool spinUntil(Ready ready) {
    for (int i = 0; i < kSpinIterations; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    return ready();
  }

  void workerLoop(size_t seen) {
    for (;;) {
      auto posted = [&] { return stop_.load() || generation_.load() != seen; };
      if (!spinUntil(posted)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, posted);
      }
      std::shared_ptr<Job> job;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_.load()) return;
        seen = generation_.load();
        job = job_;
      }
      if (job->joined.fetch_add(1) < job->helpers) work(*job);
    }
  }

  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  static constexpr int kSpinIterations = 40000;  // 0.7 ms of pause on Zen 5, about 1.5 ms on recent Intel
  std::mutex regionMutex_;  // one parallel region at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::shared_ptr<Job> job_;
  std::atomic<size_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> threads_{1};
};

ThreadPool& pool() {
  // Leaked on purpose: joining threads during static destruction at process
  // exit can deadlock inside the Node runtime.
  static ThreadPool* instance = new ThreadPool(cpuFeatures().physicalCores);
  return *instance;
}

}  // namespace

void parallelFor(size_t count, size_t grain, const std::function<void(size_t, size_t)>& body) {
  pool().run(count, grain, body);
}

int getNumThreads() { return pool().size(); }

void setNumThreads(int n) { pool().resize(std::clamp(n, 1, 256)); }

ScopedThreadLimit::ScopedThreadLimit(int threads) : previous_(callerThreadLimit) { callerThreadLimit = threads; }

ScopedThreadLimit::~ScopedThreadLimit() { callerThreadLimit = previous_; }

}  // namespace onnxforge
