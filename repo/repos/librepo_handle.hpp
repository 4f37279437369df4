#pragma once
// Move-only RAII wrappers of librepo's C handles. Private to repo/: librepo and
// glib headers stay out of the public headers. A GError becomes a LibrepoError here, so
// callers only add context (repo id, URL) when turning it into an airgap error.
#include <glib.h>
#include <librepo/librepo.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "repo/base/unique_handle.hpp"

namespace airgap::repo::lr {

/// A failed librepo call: librepo's message (one line), its LRE_* code, and the last
/// per-mirror failure librepo reported (its summary alone hides status codes and checksums).
class LibrepoError : public std::runtime_error {
public:
    LibrepoError(int code, const std::string& message, std::string mirror_failure = {})
        : std::runtime_error(mirror_failure.empty() ? message : message + " (" + mirror_failure + ")"),
          code_(code),
          mirror_failure_(std::move(mirror_failure)) {}
    int code() const noexcept { return code_; }
    const std::string& mirror_failure() const noexcept { return mirror_failure_; }

private:
    int code_;
    std::string mirror_failure_;
};

inline std::string one_line(std::string msg) {
    for (auto& c : msg)
        if (c == '\n' || c == '\r') c = ' ';
    while (!msg.empty() && msg.back() == ' ') msg.pop_back();
    return msg;
}

/// Routes librepo's glib log messages (domain "librepo") to `sink` while alive: the library
/// never prints. Debug and info are dropped. Routes of concurrent fetches
/// may receive each other's lines (glib's handlers are per process), never a dangling one.
class LogRoute {
public:
    using Sink = std::function<void(const std::string&)>;
    explicit LogRoute(Sink sink) : sink_(std::move(sink)) {
        id_ = g_log_set_handler("librepo", GLogLevelFlags(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION),
                                &LogRoute::handle, this);
    }
    ~LogRoute() { g_log_remove_handler("librepo", id_); }
    LogRoute(const LogRoute&) = delete;
    LogRoute& operator=(const LogRoute&) = delete;

private:
    static void handle(const gchar*, GLogLevelFlags level, const gchar* message, gpointer self) {
        if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) return;
        auto* route = static_cast<LogRoute*>(self);
        if (route->sink_ && message) route->sink_("librepo: " + one_line(message));
    }

    Sink sink_;
    guint id_ = 0;
};

/// Owns a GError* that a librepo call may set; raise() turns it into a LibrepoError.
class GErrorSlot {
public:
    GErrorSlot() = default;
    ~GErrorSlot() {
        if (err_) g_error_free(err_);
    }
    GErrorSlot(const GErrorSlot&) = delete;
    GErrorSlot& operator=(const GErrorSlot&) = delete;

    GError** out() { return &err_; }

    /// Throws the error the failed call set (or `fallback` if it set none).
    [[noreturn]] void raise(const char* fallback, std::string mirror_failure = {}) {
        if (!err_) throw LibrepoError(LRE_UNKNOWNERROR, fallback, std::move(mirror_failure));
        throw LibrepoError(err_->code, one_line(err_->message ? err_->message : fallback), std::move(mirror_failure));
    }

private:
    GError* err_ = nullptr;
};

/// A NULL-terminated char* array for list options (LRO_URLS, LRO_YUMDLIST); the strings
/// must outlive the call that passes it (librepo copies them).
class CStrings {
public:
    explicit CStrings(std::vector<std::string> items) : items_(std::move(items)) {
        for (const auto& s : items_) ptrs_.push_back(const_cast<char*>(s.c_str()));
        ptrs_.push_back(nullptr);
    }
    char** get() { return ptrs_.data(); }

private:
    std::vector<std::string> items_;
    std::vector<char*> ptrs_;
};

/// LrResult*: what lr_handle_perform() produced; it owns the LrYumRepo and LrYumRepoMd it returns.
class Result {
public:
    Result() : r_(lr_result_init()) {}
    LrResult* get() const { return r_.get(); }

    LrYumRepo* yum_repo() const {
        LrYumRepo* repo = nullptr;
        GErrorSlot err;
        if (!lr_result_getinfo(r_.get(), err.out(), LRR_YUM_REPO, &repo)) err.raise("lr_result_getinfo failed");
        return repo;
    }

    LrYumRepoMd* repomd() const {
        LrYumRepoMd* repomd = nullptr;
        GErrorSlot err;
        if (!lr_result_getinfo(r_.get(), err.out(), LRR_YUM_REPOMD, &repomd)) err.raise("lr_result_getinfo failed");
        return repomd;
    }

private:
    UniqueHandle<LrResult, lr_result_free> r_;
};

/// LrHandle*: one download (or local check) of one repo's metadata.
class Handle {
public:
    Handle() : h_(lr_handle_init()), failures_(std::make_unique<std::string>()) {
        // The last mirror failure goes into the LibrepoError of perform().
        set(LRO_HMFCB, &Handle::on_mirror_failure);
        set(LRO_PROGRESSDATA, static_cast<void*>(failures_.get()));
    }
    LrHandle* get() const { return h_.get(); }

    /// lr_handle_setopt with the C types librepo documents for `option` (long, char*, char**).
    template <typename T>
    void set(LrHandleOption option, T value) {
        GErrorSlot err;
        if (!lr_handle_setopt(h_.get(), err.out(), option, value)) err.raise("lr_handle_setopt failed");
    }

    void perform(Result& result) {
        GErrorSlot err;
        failures_->clear();
        if (!lr_handle_perform(h_.get(), result.get(), err.out())) err.raise("lr_handle_perform failed", *failures_);
    }

private:
    static int on_mirror_failure(void* data, const char* msg, const char* url, const char* /*metadata*/) {
        auto* last = static_cast<std::string*>(data);
        std::string text = msg ? msg : "failed";
        if (url && text.find(url) == std::string::npos) text += std::string(" for ") + url;
        *last = one_line(text);
        return LR_CB_OK;
    }

    UniqueHandle<LrHandle, lr_handle_free> h_;
    std::unique_ptr<std::string> failures_;  // heap: its address is handed to librepo
};

}  // namespace airgap::repo::lr
