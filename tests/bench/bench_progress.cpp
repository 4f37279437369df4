// Verifies a signed bundle the way `ovirt-applier verify` does, with its progress shown as on a
// terminal or in a log (cli/progress_view), or with no reporter at all, and prints how long the
// verification took and when the first progress line was written. scripts/bench.sh runs the
// modes side by side on the same bundle: their ratio is the cost of reporting. Not a test.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <ostream>
#include <streambuf>

#include "cli/progress_view.hpp"
#include "repo/apply/bundle_verify.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Counts what is written (as a terminal would take it) and remembers when the first byte came.
class FirstWrite : public std::streambuf {
public:
    Clock::time_point first{};
    std::size_t bytes = 0;

protected:
    std::streamsize xsputn(const char*, std::streamsize n) override {
        mark();
        bytes += static_cast<std::size_t>(n);
        return n;
    }
    int_type overflow(int_type c) override {
        mark();
        ++bytes;
        return traits_type::not_eof(c);
    }

private:
    void mark() {
        if (first == Clock::time_point{}) first = Clock::now();
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5 ||
        (std::strcmp(argv[4], "none") && std::strcmp(argv[4], "terminal") && std::strcmp(argv[4], "log"))) {
        std::fprintf(stderr, "usage: %s BUNDLE TRUST.pem STATE_DIR none|terminal|log\n", argv[0]);
        return 1;
    }
    try {
        airgap::repo::VerifyOptions o;
        o.trust = argv[2];
        o.state_dir = argv[3];
        FirstWrite sink;
        std::ostream out(&sink);
        using airgap::cli::ProgressView;
        const bool none = std::strcmp(argv[4], "none") == 0;
        ProgressView view(out, out,
                          std::strcmp(argv[4], "log") == 0 ? ProgressView::Mode::log : ProgressView::Mode::terminal);
        const auto start = Clock::now();
        airgap::repo::VerifiedBundle v = airgap::repo::verify_bundle(argv[1], o, none ? nullptr : &view);
        const auto end = Clock::now();
        const double first_ms = sink.first == Clock::time_point{}
                                    ? -1
                                    : std::chrono::duration<double, std::milli>(sink.first - start).count();
        std::printf("verified %zu files in %.3f s; first progress line after %.1f ms; %zu bytes of progress\n",
                    v.manifest.files.size(), std::chrono::duration<double>(end - start).count(), first_ms, sink.bytes);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_progress: %s\n", e.what());
        return 1;
    }
    return 0;
}
