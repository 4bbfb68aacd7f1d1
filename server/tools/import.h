#pragma once

namespace contextd::server {

// `contextd import [--data-dir DIR] [--tenant T] FILE|-`: loads services, one JSON Service
// representation per line (NDJSON), into the data directory of a stopped server. The whole
// input is validated first; on a bad line nothing is written and the error names the line.
// Shows a progress bar on a terminal, else prints one summary line. Returns the exit code.
int RunImport(int argc, char** argv);

}  // namespace contextd::server
