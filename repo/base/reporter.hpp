#pragma once
// How the library tells whoever started long work what it is doing: the library never prints
// and never writes terminal codes; the programs render a Reporter for a terminal or a log
// (cli/progress_view.hpp). One interface for fetching, building, packing, verifying, staging,
// the applier's sequences and the hosts rollout.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace airgap::repo {

/// One report of long work: `done` of `total` bytes of the work called `what`, and for a batch
/// of `unit`s (packages, files) how many of them are done. `item` names the member about to be
/// worked on, when there is one.
struct Progress {
    std::string_view what;  ///< "downloading", "verifying", "staging", "packing"
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    std::size_t done_items = 0;
    std::size_t total_items = 0;  ///< 0: the work is not counted in items
    std::string_view unit = "files";
    std::string_view item = {};
};

/// Where the library reports. Every call has a do-nothing default, so a caller overrides only
/// what it shows. progress() comes often (up to every transfer callback): a renderer limits its
/// own redraws.
class Reporter {
public:
    virtual ~Reporter() = default;
    /// One line of the library's own ("step engine-setup: done", "mirror X failed: ...").
    virtual void message(const std::string& /*line*/) {}
    /// Output of a program the library runs (package manager, engine-setup), as it comes.
    virtual void output(const char* /*data*/, std::size_t /*size*/) {}
    virtual void progress(const Progress& /*p*/) {}
    /// Asked between steps and after every progress call: true stops the work with
    /// airgap::Interrupted (e.g. after SIGINT).
    virtual bool cancelled() { return false; }
};

/// Passes `p` on and answers whether the work may go on.
inline bool report(Reporter& reporter, const Progress& p) {
    reporter.progress(p);
    return !reporter.cancelled();
}

/// Passes everything on to `to`, progress under the name `what`: the same archive pass is
/// "verifying" to `verify` and "staging" to the sequences.
class RenamedReporter : public Reporter {
public:
    RenamedReporter(Reporter& to, std::string what) : to_(to), what_(std::move(what)) {}
    void message(const std::string& line) override { to_.message(line); }
    void output(const char* data, std::size_t size) override { to_.output(data, size); }
    void progress(const Progress& p) override {
        Progress renamed = p;
        renamed.what = what_;
        to_.progress(renamed);
    }
    bool cancelled() override { return to_.cancelled(); }

private:
    Reporter& to_;
    std::string what_;
};

}  // namespace airgap::repo
