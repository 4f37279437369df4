#include "repo/base/error.hpp"

namespace airgap {

namespace {

void append_chain(const std::exception& e, std::string& out) {
    if (!out.empty()) out += ": ";
    out += e.what();
    try {
        std::rethrow_if_nested(e);
    } catch (const std::exception& inner) {
        append_chain(inner, out);
    } catch (...) {
        out += ": unknown error";
    }
}

}  // namespace

std::string describe(const std::exception& e) {
    std::string out;
    append_chain(e, out);
    // One line, whatever the libraries put in their messages.
    for (auto& c : out)
        if (c == '\n' || c == '\r') c = ' ';
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

int exit_code_of(const std::exception& e) {
    if (auto* err = dynamic_cast<const Error*>(&e)) return err->exit_code();
    try {
        std::rethrow_if_nested(e);
    } catch (const std::exception& inner) {
        return exit_code_of(inner);
    } catch (...) {
    }
    return EXIT_USAGE;
}

}  // namespace airgap
