#include "tests/shared/rpm_fixture.hpp"

#include <stdexcept>

#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;

namespace airgap::test {

fs::path build_tiny_rpm(const fs::path& dir, const TinyRpm& rpm) {
    const fs::path spec = dir / (rpm.name + ".spec");
    std::string preamble = rpm.preamble;
    if (!preamble.empty() && preamble.back() != '\n') preamble += '\n';
    write_file(spec, "Name: " + rpm.name + "\nVersion: " + rpm.version +
                         "\nRelease: 1\nSummary: test\nLicense: MIT\nBuildArch: noarch\n" + preamble +
                         "%description\ntest\n%install\n" + rpm.install + "%files\n" + rpm.files);
    // Own rpmdb path and no brp scripts: nothing of the host's rpm setup leaks into the package.
    CommandResult r =
        run_command({"rpmbuild", "-bb", "--quiet", "--define", "_topdir " + (dir / "top").string(), "--define",
                     "_rpmdir " + (dir / "rpms").string(), "--define", "_dbpath " + (dir / "rpmdb").string(),
                     "--define", "__os_install_post %{nil}", "--define", "_build_id_links none", spec.string()});
    if (r.exit_code != 0) throw std::runtime_error("rpmbuild " + spec.string() + " failed: " + r.out + r.err);
    return dir / "rpms" / "noarch" / (rpm.name + "-" + rpm.version + "-1.noarch.rpm");
}

}  // namespace airgap::test
