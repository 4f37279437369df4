#pragma once
// Error families of ovirt-airgap. Bugs are asserts; everything a user can cause
// is one of these, and each maps to one documented exit code.
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace airgap {

enum ExitCode : int {
    EXIT_DONE = 0,
    EXIT_USAGE = 1,        // usage or configuration error
    EXIT_REFUSED = 2,      // bundle refused; nothing on the system was touched
    EXIT_DEPENDENCY = 3,   // dependency problem; nothing touched
    EXIT_STEP_FAILED = 4,  // a step failed; the journal says which, a re-run resumes
    EXIT_INTERRUPTED = 130,
};

/// Base of every expected failure. `exit_code()` is what main() returns for it.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    virtual int exit_code() const noexcept { return EXIT_USAGE; }
};

/// Bad command line, manifest, repo file, inventory, unreachable repo (exit 1).
class ConfigError : public Error {
public:
    using Error::Error;
};

/// The bundle must not be used: signature, checksum, expiry, rollback, unsafe content (exit 2).
class BundleRefused : public Error {
public:
    using Error::Error;
    int exit_code() const noexcept override { return EXIT_REFUSED; }
};

/// The dependency solver found problems; `problems()` holds them as dnf prints them (exit 3).
class ResolveProblem : public Error {
public:
    ResolveProblem(const std::string& what, std::vector<std::string> problems)
        : Error(what), problems_(std::move(problems)) {}
    int exit_code() const noexcept override { return EXIT_DEPENDENCY; }
    const std::vector<std::string>& problems() const noexcept { return problems_; }

private:
    std::vector<std::string> problems_;
};

/// A step of an update sequence failed after the system may have changed (exit 4).
class StepFailed : public Error {
public:
    using Error::Error;
    int exit_code() const noexcept override { return EXIT_STEP_FAILED; }
};

/// The user interrupted us (exit 130).
class Interrupted : public Error {
public:
    using Error::Error;
    int exit_code() const noexcept override { return EXIT_INTERRUPTED; }
};

/// One line for the whole nested chain: "outer: inner: innermost".
std::string describe(const std::exception& e);

/// The exit code of the outermost `airgap::Error` in the chain; 1 for anything else.
int exit_code_of(const std::exception& e);

}  // namespace airgap
