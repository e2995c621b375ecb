/* SPDX-License-Identifier: MIT */
// C++ operators on mica: every form of new/delete is served by mica, a
// failing new calls the new-handler and then throws std::bad_alloc, nothrow
// forms return nullptr, aligned forms align; and an STL workload with
// objects handed between threads. Prints "N passed, N failed".
#include <atomic>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <condition_variable>
#include <deque>
#include <string>
#include <thread>
#include <vector>
#include <dlfcn.h>
#include "mica.h"

static std::atomic<long> passed{0}, failed{0};
#define CHECK(cond) do { if (cond) passed++; else { failed++; std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

// the pointer is a block mica handed out
static bool served(const void* p) { return p != nullptr && mi_is_in_heap_region(p) && mi_usable_size(p) > 0; }

struct alignas(256) Wide { char bytes[300]; };

// The program binds to mica's operators, not libstdc++'s (whose operator
// new would also end in mica through malloc, so `served` cannot tell).
static void test_binding() {
  void* (*op_new)(std::size_t) = &::operator new;
  void (*op_delete)(void*) noexcept = &::operator delete;
  void* (*op_new_al)(std::size_t, std::align_val_t) = &::operator new;
  Dl_info info;
  for (void* fn : { (void*)op_new, (void*)op_delete, (void*)op_new_al }) {
    CHECK(dladdr(fn, &info) != 0 && info.dli_fname != nullptr);
    CHECK(info.dli_fname != nullptr && std::strstr(info.dli_fname, "libstdc++") == nullptr);
    std::printf("operator bound in %s\n", info.dli_fname != nullptr ? info.dli_fname : "?");
  }
}

static void test_forms() {
  int* a = new int(7);                          CHECK(served(a) && *a == 7); delete a;
  int* b = new int[100];                        CHECK(served(b)); delete[] b;
  int* c = new (std::nothrow) int(3);           CHECK(served(c)); delete c;
  int* d = new (std::nothrow) int[50];          CHECK(served(d)); delete[] d;
  Wide* w = new Wide;                           CHECK(served(w) && (reinterpret_cast<uintptr_t>(w) % 256) == 0); delete w;
  Wide* wa = new Wide[5];                       CHECK(served(wa) && (reinterpret_cast<uintptr_t>(wa) % 256) == 0); delete[] wa;
  Wide* wn = new (std::nothrow) Wide;           CHECK(served(wn) && (reinterpret_cast<uintptr_t>(wn) % 256) == 0); delete wn;
  Wide* wan = new (std::nothrow) Wide[3];       CHECK(served(wan) && (reinterpret_cast<uintptr_t>(wan) % 256) == 0); delete[] wan;
  // explicit operator calls, including sized and aligned deletes
  void* p = ::operator new(1000);               CHECK(served(p)); ::operator delete(p, 1000);
  void* q = ::operator new[](1000);             CHECK(served(q)); ::operator delete[](q, 1000);
  void* r = ::operator new(100, std::align_val_t(4096));
  CHECK(served(r) && (reinterpret_cast<uintptr_t>(r) % 4096) == 0);
  ::operator delete(r, 100, std::align_val_t(4096));
  void* s = ::operator new[](100, std::align_val_t(1 << 20));
  CHECK(served(s) && (reinterpret_cast<uintptr_t>(s) % (1 << 20)) == 0);
  ::operator delete[](s, std::align_val_t(1 << 20));
  void* t = ::operator new(64, std::align_val_t(64), std::nothrow);
  CHECK(served(t) && (reinterpret_cast<uintptr_t>(t) % 64) == 0);
  ::operator delete(t, std::align_val_t(64), std::nothrow);
  void* u = ::operator new(64, std::nothrow);   CHECK(served(u)); ::operator delete(u, std::nothrow);
}

static int handler_calls = 0;
static void handler_throws() {
  handler_calls++;
  throw std::bad_alloc();
}
static void handler_gives_up() {
  handler_calls++;
  std::set_new_handler(nullptr);   // next failure throws
}

static void test_failure() {
  const std::size_t impossible = (std::size_t)1 << (sizeof(void*) == 8 ? 62 : 31);
  // no handler: std::bad_alloc, catchable
  bool caught = false;
  try { void* p = ::operator new(impossible); ::operator delete(p); } catch (const std::bad_alloc&) { caught = true; }
  CHECK(caught);
  caught = false;
  try { void* p = ::operator new[](impossible, std::align_val_t(64)); ::operator delete[](p, std::align_val_t(64)); } catch (const std::bad_alloc&) { caught = true; }
  CHECK(caught);
  // a handler is called before the throw
  handler_calls = 0;
  caught = false;
  std::set_new_handler(handler_gives_up);
  try { void* p = ::operator new(impossible); ::operator delete(p); } catch (const std::bad_alloc&) { caught = true; }
  CHECK(caught && handler_calls == 1);
  // nothrow: nullptr, and the handler is called too
  handler_calls = 0;
  std::set_new_handler(handler_gives_up);
  void* n = ::operator new(impossible, std::nothrow);
  CHECK(n == nullptr && handler_calls == 1);
  void* na = ::operator new[](impossible, std::align_val_t(128), std::nothrow);
  CHECK(na == nullptr);
  // nothrow with a handler that throws: still nullptr (the runtime's nothrow
  // operator catches for mica's, which are C: override-new.c)
  handler_calls = 0;
  std::set_new_handler(handler_throws);
  void* volatile nt = ::operator new(impossible, std::nothrow);
  CHECK(nt == nullptr && handler_calls == 1);
  handler_calls = 0;
  void* volatile nta = ::operator new[](impossible, std::align_val_t(64), std::nothrow);
  CHECK(nta == nullptr && handler_calls == 1);
  std::set_new_handler(nullptr);
  // allocation still works afterwards
  std::string after(1000, 'x');
  CHECK(served(after.data()) && after[999] == 'x');
}

// Producer threads build maps, strings and vectors; consumers check and
// destroy them (cross-thread frees of every kind of STL allocation).
struct Item {
  std::map<int, std::string> map;
  std::vector<std::string> vec;
  long key;
};

static void test_stl_threads(int producers, int items_per_producer) {
  std::mutex m;
  std::condition_variable cv;
  std::deque<Item*> queue;
  int done_producers = 0;
  std::atomic<long> consumed{0}, bad{0};
  auto producer = [&](int id) {
    for (int i = 0; i < items_per_producer; i++) {
      Item* it = new Item;
      it->key = (long)id * 1000003 + i;
      for (int k = 0; k < 20; k++) it->map[k] = std::string((size_t)(k * 7 % 300), char('a' + k % 26));
      for (int k = 0; k < 10; k++) it->vec.push_back(std::to_string(it->key + k) + std::string((size_t)k * 50, 'v'));
      if (!served(it) || !served(it->vec.data())) bad++;
      std::lock_guard<std::mutex> g(m);
      queue.push_back(it);
      cv.notify_one();
    }
    std::lock_guard<std::mutex> g(m);
    done_producers++;
    cv.notify_all();
  };
  auto consumer = [&]() {
    for (;;) {
      Item* it;
      {
        std::unique_lock<std::mutex> g(m);
        cv.wait(g, [&] { return !queue.empty() || done_producers == producers; });
        if (queue.empty()) return;
        it = queue.front();
        queue.pop_front();
      }
      bool ok = it->map.size() == 20 && it->vec.size() == 10;
      for (int k = 0; k < 10 && ok; k++) ok = it->vec[k].compare(0, std::to_string(it->key + k).size(), std::to_string(it->key + k)) == 0;
      for (int k = 0; k < 20 && ok; k++) ok = it->map[k].size() == (size_t)(k * 7 % 300);
      if (!ok) bad++;
      delete it;
      consumed++;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < producers; i++) threads.emplace_back(producer, i);
  for (int i = 0; i < producers; i++) threads.emplace_back(consumer);
  for (auto& t : threads) t.join();
  CHECK(bad == 0);
  CHECK(consumed == (long)producers * items_per_producer);
}

int main() {
  const char* scale_env = std::getenv("MICA_TEST_SCALE");
  double scale = (scale_env != nullptr && std::atof(scale_env) > 0 ? std::atof(scale_env) : 1.0);
  test_binding();
  test_forms();
  test_failure();
  test_stl_threads(4, (int)(20000 * scale) + 1);
  std::printf("%ld passed, %ld failed\n", passed.load(), failed.load());
  return failed.load() == 0 ? 0 : 1;
}
