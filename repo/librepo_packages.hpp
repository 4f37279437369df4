#pragma once
// Move-only RAII owner of librepo's package download targets. Private to repo/;
// complements repo/librepo_handle.hpp, whose Handle each target refers to.
#include <glib.h>
#include <librepo/librepo.h>

#include <utility>

#include "repo/librepo_handle.hpp"

namespace airgap::repo::lr {

/// A GSList of LrPackageTarget* that lr_download_packages() takes; frees the targets with the list.
class PackageTargets {
public:
    PackageTargets() = default;
    ~PackageTargets() { g_slist_free_full(list_, reinterpret_cast<GDestroyNotify>(lr_packagetarget_free)); }
    PackageTargets(PackageTargets&& o) noexcept : list_(std::exchange(o.list_, nullptr)) {}
    PackageTargets& operator=(PackageTargets&& o) noexcept {
        std::swap(list_, o.list_);
        return *this;
    }
    PackageTargets(const PackageTargets&) = delete;
    PackageTargets& operator=(const PackageTargets&) = delete;

    /// Takes ownership of `target` (from lr_packagetarget_new_v2). Prepends: appending is O(n).
    void add(LrPackageTarget* target) { list_ = g_slist_prepend(list_, target); }
    GSList* get() const { return list_; }
    bool empty() const { return list_ == nullptr; }

private:
    GSList* list_ = nullptr;
};

}  // namespace airgap::repo::lr
