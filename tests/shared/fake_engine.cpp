#include "tests/shared/fake_engine.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;
using nlohmann::json;

namespace airgap::test {

namespace {

void must(const CommandResult& r, const std::string& what) {
    if (r.exit_code != 0) throw std::runtime_error(what + " failed: " + r.err);
}

// A CA and a certificate signed by it for 127.0.0.1, with the openssl CLI.
void make_ca(const fs::path& dir, const std::string& name) {
    must(run_command({"openssl",
                      "req",
                      "-x509",
                      "-newkey",
                      "ec",
                      "-pkeyopt",
                      "ec_paramgen_curve:P-256",
                      "-nodes",
                      "-keyout",
                      (dir / (name + ".key")).string(),
                      "-out",
                      (dir / (name + ".pem")).string(),
                      "-days",
                      "2",
                      "-subj",
                      "/CN=" + name,
                      "-addext",
                      "basicConstraints=critical,CA:TRUE",
                      "-addext",
                      "keyUsage=critical,keyCertSign,cRLSign"}),
         "openssl req (CA)");
}

}  // namespace

FakeEngine::FakeEngine(json scenario) {
    const fs::path d = dir_.path();
    make_ca(d, "ca");
    make_ca(d, "other-ca");
    must(run_command({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                      (d / "server.key").string(), "-out", (d / "server.csr").string(), "-subj", "/CN=127.0.0.1"}),
         "openssl req (server)");
    std::ofstream(d / "ext.cnf") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                    "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n";
    must(run_command({"openssl", "x509", "-req", "-in", (d / "server.csr").string(), "-CA", (d / "ca.pem").string(),
                      "-CAkey", (d / "ca.key").string(), "-CAcreateserial", "-out", (d / "server.pem").string(),
                      "-days", "2", "-extfile", (d / "ext.cnf").string()}),
         "openssl x509 (server)");
    std::ofstream(d / "password") << password() << "\n";
    scenario["password"] = password();
    std::ofstream(d / "scenario.json") << scenario.dump(2);

    const fs::path port_file = d / "port";
    std::vector<std::string> argv = {"python3",     source_path("tests/fake_engine/fake_engine.py").string(),
                                     "--scenario",  (d / "scenario.json").string(),
                                     "--cert",      (d / "server.pem").string(),
                                     "--key",       (d / "server.key").string(),
                                     "--port-file", port_file.string()};
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("fake_engine.py exited at start");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::ifstream(port_file) >> port_;
    if (!port_) throw std::runtime_error("fake_engine.py did not start");
}

FakeEngine::~FakeEngine() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
}

std::string FakeEngine::engine() const { return "127.0.0.1:" + std::to_string(port_); }
std::string FakeEngine::url() const { return "https://" + engine() + "/ovirt-engine/api"; }

// The control endpoint through the stand-in's own client mode (python3, no other tool needed).
void FakeEngine::control(const json& change) const {
    must(run_command({"python3", source_path("tests/fake_engine/fake_engine.py").string(), "--control",
                      "https://" + engine() + "/__control", "--ca", ca_file().string(), "--data", change.dump()}),
         "control");
}

json FakeEngine::state() const {
    CommandResult r = run_command({"python3", source_path("tests/fake_engine/fake_engine.py").string(), "--control",
                                   "https://" + engine() + "/__control/log", "--ca", ca_file().string()});
    must(r, "control log");
    return json::parse(r.out);
}

std::vector<std::string> FakeEngine::log() const { return state()["log"].get<std::vector<std::string>>(); }

std::vector<std::string> FakeEngine::applier(const fs::path& state_dir) const {
    return {binary("ovirt-applier").string(),
            "hosts",
            "--engine-url",
            url(),
            "--user",
            "admin@internal",
            "--password-file",
            password_file().string(),
            "--ca-file",
            ca_file().string(),
            "--state-dir",
            state_dir.string()};
}

json three_host_scenario() {
    const long long gib = 1LL << 30;
    return json{
        {"transition_ms", 100},
        {"clusters", json::array({{{"name", "Default"}}})},
        {"hosts", json::array({{{"name", "host1"}, {"spm", true}, {"max_scheduling_memory", 32 * gib}},
                               {{"name", "host2"}, {"max_scheduling_memory", 32 * gib}},
                               {{"name", "host3"}, {"max_scheduling_memory", 32 * gib}}})},
        {"vms", json::array({{{"name", "vm1"}, {"host", "host1"}, {"memory", 4 * gib}},
                             {{"name", "vm2"}, {"host", "host1"}, {"memory", 4 * gib}},
                             {{"name", "vm3"}, {"host", "host2"}, {"memory", 4 * gib}}})},
    };
}

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) out.push_back(line);
    return out;
}

}  // namespace airgap::test
