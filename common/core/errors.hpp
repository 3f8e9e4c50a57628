// Typed errors and the exit-code table shared by every tool (documented in each man page,
// pinned by tests/unit/errors_test.cpp).
#pragma once
#include <stdexcept>
#include <string>

namespace sp {

enum class Exit : int {
  ok = 0,
  rejects = 1,        // data rejects over the --max-rejects threshold
  usage = 2,          // bad command line
  data = 65,          // input data unusable as a whole (EX_DATAERR)
  noinput = 66,       // input file / object / table does not exist (EX_NOINPUT)
  unavailable = 69,   // server unreachable at start, broker down (EX_UNAVAILABLE)
  software = 70,      // internal error (EX_SOFTWARE)
  ioerr = 74,         // local I/O error (EX_IOERR)
  tempfail = 75,      // still failing after all retries: rerun later (EX_TEMPFAIL)
  noperm = 77,        // authentication / permission refused (EX_NOPERM)
  config = 78,        // bad configuration file or value (EX_CONFIG)
  interrupted = 130,  // stopped by SIGINT/SIGTERM before finishing the input
};

inline int code(Exit e) { return static_cast<int>(e); }
// Short name of an exit code, for summaries and the man pages' EXIT STATUS table.
const char* exit_name(Exit e);

// Base of all errors the tools raise on purpose; the guarded main prints what() once,
// prefixed with the tool name, and exits with code().
class Error : public std::runtime_error {
 public:
  Error(Exit code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  Exit code() const { return code_; }

 private:
  Exit code_;
};

struct UsageError : Error {
  explicit UsageError(const std::string& m) : Error(Exit::usage, m) {}
};
struct ConfigError : Error {
  explicit ConfigError(const std::string& m) : Error(Exit::config, m) {}
};
struct IoError : Error {
  explicit IoError(const std::string& m) : Error(Exit::ioerr, m) {}
};
struct UnavailableError : Error {
  explicit UnavailableError(const std::string& m) : Error(Exit::unavailable, m) {}
};
struct TempFailError : Error {
  explicit TempFailError(const std::string& m) : Error(Exit::tempfail, m) {}
};
struct AuthError : Error {
  explicit AuthError(const std::string& m) : Error(Exit::noperm, m) {}
};
struct NoInputError : Error {
  explicit NoInputError(const std::string& m) : Error(Exit::noinput, m) {}
};
struct DataError : Error {
  explicit DataError(const std::string& m) : Error(Exit::data, m) {}
};

// stdout was closed by the reader (EPIPE): the tool stops quietly with exit 0, like `yes | head`.
struct BrokenPipe : Error {
  BrokenPipe() : Error(Exit::ok, "broken pipe") {}
};

// errno text for messages: "open foo: No such file or directory".
std::string errno_text(int err);

}  // namespace sp
