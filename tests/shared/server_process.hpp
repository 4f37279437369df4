#pragma once
// A helper server (a python3 script of the test kit) run as a child process on 127.0.0.1 for
// as long as a test needs it.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/shared/testkit.hpp"

namespace airgap::test {

/// Starts `argv` (no shell, looked up on PATH) with "--port-file FILE" appended, waits until the
/// server has written the port it listens on to FILE, and stops it when destroyed: SIGTERM,
/// then SIGKILL if it has not ended within a grace period, and always reaped. Its stdout and
/// stderr go to a file of its own (output()), so that a server that dies or never starts is
/// reported with its last words, and a test that fails shows them too.
///
///     ServerProcess server({"python3", source_path("tests/e2e/stalling_mirror.py").string(), ...});
///     server.url("http");                   // "http://127.0.0.1:PORT"
///     server.url("https", "/ovirt-airgap/"); // "https://127.0.0.1:PORT/ovirt-airgap/"
///
/// The script writes FILE atomically (write a temporary file, rename it) once it listens.
/// Should the test process itself die, the kernel sends the server SIGTERM: no server outlives
/// a crashed or killed test binary. The kernel ties that to the thread that started the server,
/// so start it from the test's own thread, not from a short-lived one.
class ServerProcess {
public:
    /// Throws std::runtime_error naming the program, with the end of its output, when it cannot
    /// be started, exits before it listens, or has not written its port after `start_timeout`.
    explicit ServerProcess(std::vector<std::string> argv,
                           std::chrono::milliseconds start_timeout = std::chrono::seconds(20));
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    int port() const { return port_; }
    /// "127.0.0.1:PORT".
    std::string address() const;
    /// "SCHEME://127.0.0.1:PORT" followed by `path` as given ("" or starting with '/').
    std::string url(const std::string& scheme, const std::string& path = "") const;

    /// Whether the server is still running (it has neither ended nor been stopped).
    bool running() const;
    /// What it has written to stdout and stderr so far.
    std::string output() const;

    /// SIGTERM, SIGKILL after `grace` if it is still running, then reaps it. Once is enough: the
    /// destructor calls it too.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

private:
    // "PROGRAM: WHAT; its output ends with: ..." for an exception.
    std::string failure(const std::string& what) const;

    std::string name_;  // the script (or program) for messages: argv[1] for an interpreter
    TempDir dir_;       // the port file and the output
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace airgap::test
