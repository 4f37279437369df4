// Packs a tree into an .iso or .tar with the bundler's writer and reports the time taken, for
// comparison with `xorriso -as mkisofs -R -J` (issue 3, "Benchmark"). Not a test.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "repo/archive.hpp"
#include "repo/error.hpp"

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: %s TREE OUT.iso|OUT.tar [VOLUME_LABEL]\n", argv[0]);
        return 1;
    }
    try {
        auto start = std::chrono::steady_clock::now();
        airgap::repo::pack(argv[1], argv[2], argc == 4 ? argv[3] : "BENCH");
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        struct stat st {};
        ::stat(argv[2], &st);
        double mb = static_cast<double>(st.st_size) / 1e6;
        std::printf("packed %s: %.1f MB in %.3f s (%.0f MB/s)\n", argv[2], mb, took.count(), mb / took.count());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_pack: %s\n", airgap::describe(e).c_str());
        return airgap::exit_code_of(e);
    }
}
