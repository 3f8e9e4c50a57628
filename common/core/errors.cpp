#include "common/core/errors.hpp"

#include <cstring>

namespace sp {

const char* exit_name(Exit e) {
  switch (e) {
    case Exit::ok: return "ok";
    case Exit::rejects: return "rejects over threshold";
    case Exit::usage: return "usage error";
    case Exit::data: return "bad input data";
    case Exit::noinput: return "input missing";
    case Exit::unavailable: return "service unavailable";
    case Exit::software: return "internal error";
    case Exit::ioerr: return "I/O error";
    case Exit::tempfail: return "temporary failure";
    case Exit::noperm: return "permission denied";
    case Exit::config: return "configuration error";
    case Exit::interrupted: return "interrupted";
  }
  return "unknown";
}

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message pointer (may not use buf).
  return std::string(strerror_r(err, buf, sizeof buf));
}

}  // namespace sp
