/* SPDX-License-Identifier: MIT */
// test early-late, with a C++ compiler: a C++ thread_local object whose
// constructor and destructor allocate. Its destructor runs at the exit of
// every thread that used it, and for the main thread at exit(), after main
// has returned and before the atexit handlers.
#include <atomic>
#include <string>
#include <vector>
#include "mica.h"

extern "C" void el_note(int ok, const char* what);
extern "C" void el_cxx_touch(void);
extern "C" int el_cxx_destroyed(void);

namespace {

std::atomic<int> destroyed{0};

std::string nth(int i) { return std::string(40 + static_cast<size_t>(i), static_cast<char>('a' + i)); }

struct Tracked {
  std::vector<std::string> items;
  Tracked() {
    for (int i = 0; i < 20; i++) items.push_back(nth(i));
  }
  ~Tracked() {
    bool ok = items.size() == 20 && mi_is_in_heap_region(items.data());
    for (int i = 0; ok && i < 20; i++) ok = items[static_cast<size_t>(i)] == nth(i) && mi_is_in_heap_region(items[static_cast<size_t>(i)].data());
    el_note(ok, "C++ thread_local: its strings intact and mica's at destruction");
    std::vector<int> more(5000, 7);
    std::string* s = new std::string(100, 'z');
    more.resize(20000, 8);
    el_note(mi_is_in_heap_region(more.data()) && mi_is_in_heap_region(s) && mi_is_in_heap_region(s->data()) && more[4999] == 7,
            "C++ thread_local destructor: new and vector growth served by mica");
    delete s;
    destroyed.fetch_add(1);
  }
};

thread_local Tracked tracked;

}  // namespace

extern "C" void el_cxx_touch(void) {
  el_note(tracked.items.size() == 20, "C++ thread_local constructed");
}

extern "C" int el_cxx_destroyed(void) { return destroyed.load(); }
