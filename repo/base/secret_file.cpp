#include "repo/base/secret_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "repo/base/error.hpp"

namespace airgap::repo {

std::string read_secret_file(const std::filesystem::path& file, const std::string& what) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError("cannot read the " + what + " file " + file.string() + ": " + std::strerror(errno));
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw ConfigError("the " + what + " file " + file.string() + " is empty");
    return line;
}

}  // namespace airgap::repo
