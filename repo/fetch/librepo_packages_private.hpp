#pragma once
// Move-only RAII owner of librepo's package download targets. Private to repo/;
// complements repo/repos/librepo_handle.hpp, whose Handle each target refers to.
#include <glib.h>
#include <librepo/librepo.h>

#include <utility>

#include "repo/base/unique_handle.hpp"
#include "repo/repos/librepo_handle.hpp"

namespace airgap::repo::lr {

inline void free_package_targets(GSList* list) {
    g_slist_free_full(list, reinterpret_cast<GDestroyNotify>(lr_packagetarget_free));
}

/// A GSList of LrPackageTarget* that lr_download_packages() takes; frees the targets with the list.
class PackageTargets {
public:
    /// Takes ownership of `target` (from lr_packagetarget_new_v2). Prepends: appending is O(n).
    void add(LrPackageTarget* target) { list_.reset(g_slist_prepend(list_.release(), target)); }
    GSList* get() const { return list_.get(); }
    bool empty() const { return !list_; }

private:
    UniqueHandle<GSList, free_package_targets> list_;
};

}  // namespace airgap::repo::lr
