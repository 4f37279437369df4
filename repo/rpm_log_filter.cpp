#include "repo/rpm_log_filter.hpp"

#include <dlfcn.h>
#include <rpm/rpmlog.h>

#include <cstring>

namespace airgap::repo {

namespace {

// librpm is in the process because libsolvext reads the rpmdb with it; its log functions are
// looked up there rather than linked, so the applier names no librpm of its own (and its EL7
// package carries only the copy libsolvext needs).
template <class F>
F rpm_function(const char* name) {
    return reinterpret_cast<F>(::dlsym(RTLD_DEFAULT, name));
}

using SetCallback = rpmlogCallback (*)(rpmlogCallback, rpmlogCallbackData);
using RecMessage = const char* (*)(rpmlogRec);
using RecPriority = rpmlogLvl (*)(rpmlogRec);

RecMessage rec_message = nullptr;
RecPriority rec_priority = nullptr;

bool starts_with(const char* text, const char* prefix) { return std::strncmp(text, prefix, std::strlen(prefix)) == 0; }

// bdb_ro: "could not open DBPATH/Filetriggername: No such file or directory" is a warning for
// an index and an error for Packages itself; rpmdb: "Found bdb_ro Packages database while
// attempting sqlite backend: using bdb_ro backend."
bool expected_el7_warning(rpmlogRec rec) {
    if (rec_priority(rec) != RPMLOG_WARNING) return false;
    const char* text = rec_message(rec);
    return text && (starts_with(text, "could not open ") ||
                    (starts_with(text, "Found ") && std::strstr(text, " database while attempting ")));
}

int filter(rpmlogRec rec, rpmlogCallbackData) { return expected_el7_warning(rec) ? 0 : RPMLOG_DEFAULT; }

}  // namespace

RpmLogFilter::RpmLogFilter() {
    auto set_callback = rpm_function<SetCallback>("rpmlogSetCallback");
    rec_message = rpm_function<RecMessage>("rpmlogRecMessage");
    rec_priority = rpm_function<RecPriority>("rpmlogRecPriority");
    if (!set_callback || !rec_message || !rec_priority) return;
    previous_ = reinterpret_cast<void*>(set_callback(filter, nullptr));
    installed_ = true;
}

RpmLogFilter::~RpmLogFilter() {
    if (!installed_) return;
    // librpm has no getter for the callback's data; nothing in this program sets any.
    rpm_function<SetCallback>("rpmlogSetCallback")(reinterpret_cast<rpmlogCallback>(previous_), nullptr);
}

}  // namespace airgap::repo
