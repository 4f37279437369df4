#include "repo/solv/rpm_log_filter_private.hpp"

#include <dlfcn.h>
#include <rpm/rpmlog.h>

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

int filter(rpmlogRec rec, rpmlogCallbackData data) {
    const auto* self = static_cast<const RpmLogFilter*>(data);
    return self->drops(rec_priority(rec), rec_message(rec)) ? 0 : RPMLOG_DEFAULT;
}

}  // namespace

RpmLogFilter::RpmLogFilter(const std::filesystem::path& dbdir)
    : missing_index_("could not open " + dbdir.string() + "/") {
    auto set_callback = rpm_function<SetCallback>("rpmlogSetCallback");
    rec_message = rpm_function<RecMessage>("rpmlogRecMessage");
    rec_priority = rpm_function<RecPriority>("rpmlogRecPriority");
    if (!set_callback || !rec_message || !rec_priority) return;
    previous_ = reinterpret_cast<void*>(set_callback(filter, this));
    installed_ = true;
}

RpmLogFilter::~RpmLogFilter() {
    if (!installed_) return;
    // librpm has no getter for the callback's data; nothing in this program sets any.
    rpm_function<SetCallback>("rpmlogSetCallback")(reinterpret_cast<rpmlogCallback>(previous_), nullptr);
}

// bdb_ro logs "could not open DBDIR/Filetriggername: No such file or directory" as a warning
// for an index, and as an error for Packages itself, which passes.
bool RpmLogFilter::drops(int priority, const char* text) const {
    return priority == RPMLOG_WARNING && text && std::string(text).rfind(missing_index_, 0) == 0;
}

}  // namespace airgap::repo
