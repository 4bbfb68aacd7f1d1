#pragma once

#include <chrono>
#include <functional>

namespace contextd::testing {

// Polls `done` (about every millisecond) until it holds or `deadline` passes; true if it held.
// The way a test waits for a condition another process or thread brings about.
bool Eventually(const std::function<bool()>& done,
                std::chrono::milliseconds deadline = std::chrono::seconds(5));

}  // namespace contextd::testing
