// ovirt-bundler inspect: what a bundle says it holds. It does not verify trust: that is
// `ovirt-applier verify`.
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bundler/commands.hpp"
#include "bundler/report.hpp"
#include "repo/bundle/bundle_inspect.hpp"
#include "repo/state/bundle_manifest.hpp"

namespace airgap::bundler {

namespace {

const char* const kNotVerified = "not verified: use ovirt-applier verify";

void print_text(const repo::BundleSummary& s, std::ostream& out) {
    const auto& m = s.manifest;
    out << "id:       " << m.id << "\n"
        << "serial:   " << m.serial << "\n"
        << "created:  " << m.created << "\n"
        << "expires:  " << m.expires << "\n"
        << "source:   " << m.source_manifest << "\n";
    if (m.base_bundle)
        out << "base:     " << m.base_bundle->id << " (serial " << m.base_bundle->serial
            << "), incremental: " << m.base_bundle->files.size() << " package(s), " << human_size(s.base_bytes)
            << ", are taken from that bundle (apply with --base)\n";
    if (!s.signer_subject.empty())
        out << "signer:   " << s.signer_subject << " (" << kNotVerified << ")\n"
            << "          sha256 fingerprint " << s.signer_fingerprint << "\n";
    else
        out << "signer:   unreadable: " << s.signature_problem << "\n";
    out << "roles:    ";
    for (std::size_t i = 0; i < m.roles.size(); ++i) out << (i ? ", " : "") << m.roles[i];
    out << "\n";
    for (const auto& [role, versions] : m.target_versions)
        for (const auto& [name, version] : versions)
            out << "target:   " << role << ": " << name << " " << version << "\n";
    out << "repos:\n";
    std::size_t packages = 0;
    for (const auto& r : s.repos) {
        out << "  " << std::left << std::setw(28) << r.id << std::right << std::setw(5) << r.packages << " packages  "
            << human_size(r.package_bytes);
        if (r.from_base) out << "  (" << r.from_base << " from the base)";
        out << "\n";
        packages += r.packages;
    }
    out << "total:    " << packages << " packages, " << m.files.size() << " files, " << human_size(s.total_bytes)
        << "\n";
}

void print_json(const repo::BundleSummary& s, std::ostream& out) {
    const auto& m = s.manifest;
    // The header fields in bundle.json's own words; the lists are summed up below instead.
    nlohmann::json j = m;
    j.erase("format");
    j.erase("packages");
    j.erase("base_bundle");
    nlohmann::json signer = {{"verified", false}, {"note", kNotVerified}};
    if (!s.signer_subject.empty()) {
        signer["subject"] = s.signer_subject;
        signer["fingerprint_sha256"] = s.signer_fingerprint;
    } else {
        signer["problem"] = s.signature_problem;
    }
    j["signer"] = signer;
    j["repos"] = nlohmann::json::array();
    for (const auto& r : s.repos)
        j["repos"].push_back({{"id", r.id},
                              {"name", r.name},
                              {"packages", r.packages},
                              {"size", r.package_bytes},
                              {"from_base", r.from_base}});
    j["files"] = m.files.size();
    j["size"] = s.total_bytes;
    if (m.base_bundle)
        j["base_bundle"] = {{"id", m.base_bundle->id},
                            {"serial", m.base_bundle->serial},
                            {"packages", m.base_bundle->files.size()},
                            {"size", s.base_bytes}};
    out << j.dump(2) << "\n";
}

}  // namespace

void add_inspect_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("inspect", "Show what a bundle holds (without verifying it)");
    auto bundle = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("BUNDLE", *bundle, "Bundle: a directory, .iso or .tar")->required();
    cmd->add_flag("--json", *json, "Print JSON");
    cmd->callback([bundle, json] {
        repo::BundleSummary summary = repo::inspect_bundle(*bundle);
        if (*json)
            print_json(summary, std::cout);
        else
            print_text(summary, std::cout);
    });
}

}  // namespace airgap::bundler
