// SIGINT/SIGTERM set a flag; loops check stop_requested(), drain what is pending and exit.
// A second signal ends the process at once (exit 130), for a user who really means it.
#pragma once

namespace sp {
void install_stop_signals();
bool stop_requested();
int stop_signal();          // the signal number that asked to stop, 0 if none
void request_stop(int sig);  // for tests and for tools that stop themselves (e.g. on SIGPIPE)
}  // namespace sp
