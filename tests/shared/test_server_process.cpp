// The test kit's helper-server runner: what a test sees when its server starts, dies at start,
// never starts, or will not stop; in every case no process is left behind. The servers here are
// python3 one-liners, called as the kit calls a script: with "--port-file FILE" appended.
#include "tests/shared/server_process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "tests/shared/testkit.hpp"

using namespace airgap::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A python3 server whose body is `code`, with `marker` (a path unique to the test) as its first
// argument so that the test can look for it among all processes; sys.argv[3] is the port file.
std::vector<std::string> python(const fs::path& marker, const std::string& code) {
    return {"python3", "-c", "import os, signal, sys, time\n" + code, marker.string()};
}

// Writes `port` to the port file the way the kit's scripts do: a temporary file renamed into place.
std::string with_port(const std::string& port) {
    return "open(sys.argv[3] + '.tmp', 'w').write('" + port + "')\nos.rename(sys.argv[3] + '.tmp', sys.argv[3])\n";
}

// Whether a process started with `marker` among its arguments is running: from its exec on,
// however far the interpreter has come.
bool alive(const fs::path& marker) {
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string cmdline = read_file(e.path() / "cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (cmdline.find(" " + marker.string() + " ") != std::string::npos) return true;
    }
    return false;
}

}  // namespace

TEST(ServerProcess, GivesThePortItsServerWroteAndStopsIt) {
    TempDir t;
    const fs::path& marker = t.path();
    {
        ServerProcess server(python(marker, with_port("4242") + "time.sleep(600)\n"));
        EXPECT_EQ(server.port(), 4242);
        EXPECT_EQ(server.address(), "127.0.0.1:4242");
        EXPECT_EQ(server.url("https", "/ovirt-airgap/"), "https://127.0.0.1:4242/ovirt-airgap/");
        EXPECT_EQ(server.url("http"), "http://127.0.0.1:4242");
        EXPECT_TRUE(server.running());
        EXPECT_TRUE(alive(marker));
    }
    EXPECT_FALSE(alive(marker)) << "the server outlived its ServerProcess";
}

TEST(ServerProcess, AServerThatDiesAtStartIsNamedWithItsLastWords) {
    TempDir t;
    std::string message = error_of<std::runtime_error>([&] {
        ServerProcess server(python(t.path(), "sys.stderr.write('cannot read the docroot\\n')\nsys.exit(3)\n"));
    });
    EXPECT_NE(message.find("python3 exited with status 3 before it listened"), std::string::npos) << message;
    EXPECT_NE(message.find("cannot read the docroot"), std::string::npos) << message;
}

TEST(ServerProcess, AServerThatNeverWritesItsPortIsGivenUpAndKilled) {
    TempDir t;
    const fs::path& marker = t.path();
    const auto start = std::chrono::steady_clock::now();
    std::string message =
        error_of<std::runtime_error>([&] { ServerProcess server(python(marker, "time.sleep(600)\n"), 2s); });
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
    EXPECT_NE(message.find("did not write its port to "), std::string::npos) << message;
    EXPECT_NE(message.find("within 2000 ms"), std::string::npos) << message;
    EXPECT_FALSE(alive(marker)) << "a server that never started was left running";
}

TEST(ServerProcess, AServerThatIgnoresSigtermIsKilledAfterTheGracePeriod) {
    TempDir t;
    const fs::path& marker = t.path();
    ServerProcess server(
        python(marker, "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + with_port("1") + "time.sleep(600)\n"));
    const auto start = std::chrono::steady_clock::now();
    server.stop(300ms);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms) << "SIGTERM alone cannot have ended it";
    EXPECT_FALSE(server.running());
    EXPECT_FALSE(alive(marker));
}
