#include "tests/shared/fake_engine.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

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

// Writes the stand-in's certificates, password and scenario into `d` and returns its argv.
std::vector<std::string> prepare(const fs::path& d, json scenario) {
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
    std::ofstream(d / "password") << FakeEngine::password() << "\n";
    scenario["password"] = FakeEngine::password();
    std::ofstream(d / "scenario.json") << scenario.dump(2);
    return {"python3",    source_path("tests/fake_engine/fake_engine.py").string(),
            "--scenario", (d / "scenario.json").string(),
            "--cert",     (d / "server.pem").string(),
            "--key",      (d / "server.key").string()};
}

}  // namespace

FakeEngine::FakeEngine(json scenario) : server_(prepare(dir_.path(), std::move(scenario))) {}

std::string FakeEngine::engine() const { return server_.address(); }
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
