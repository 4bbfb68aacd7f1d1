#pragma once

namespace contextd::server {

// `contextd check [--data-dir=DIR]`: reads a stopped server's data directory and checks that
// every record decodes and every index agrees with its records. Prints a summary and the
// problems found. Returns the process exit code: 0 consistent, 1 problems or unreadable, 2 usage.
int RunCheck(int argc, char** argv);

}  // namespace contextd::server
