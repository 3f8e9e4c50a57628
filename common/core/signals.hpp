// SIGINT/SIGTERM set a flag; loops check stop_requested(), drain what is pending and exit.
// A second signal (request_stop does not count) ends the process at once (exit 130), for a user who
// really means it, unless the tool asked for second_signal_abandons(): then the second signal sets
// abandon_requested(), the tool gives up its pending work and cleans up in bounded time (s3-put aborts
// its multipart upload, which _exit would leave behind, billed), and a third ends the process at once.
#pragma once

namespace sp {
void install_stop_signals();
bool stop_requested();
int stop_signal();          // the signal number that asked to stop, 0 if none
void request_stop(int sig);  // for tests and for tools that stop themselves (e.g. on SIGPIPE)
void second_signal_abandons();
bool abandon_requested();
}  // namespace sp
