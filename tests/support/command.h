#pragma once

#include <string>

namespace contextd::testing {

struct CommandResult {
  int code = -1;       // the exit status; -1 if the command did not run or exit normally
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` with /bin/sh and waits for it.
CommandResult RunCommand(const std::string& command);

}  // namespace contextd::testing
