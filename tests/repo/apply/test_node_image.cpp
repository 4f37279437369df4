#include "repo/apply/node_image_private.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;
using namespace airgap::test;
namespace fs = std::filesystem;

namespace {

const char* const kOld = "ovirt-node-ng-4.3.7-0.20191121.0+1";
const char* const kNew = "ovirt-node-ng-4.3.10-0.20200615.0+1";

// A root with the world's stand-in imgbase and its state: the old base and layer, / on the layer.
fs::path node_root(const TempDir& t) {
    fs::path root = t.path() / "node";
    fs::create_directories(root / "usr/sbin");
    fs::copy_file(source_path("tests/data/world/files/imgbase"), root / "usr/sbin/imgbase");
    fs::path state = root / "var/lib/ovirt-airgap-test/imgbased";
    write_file(state / "lvs/ovirt-node-ng-4.3.7-0.20191121.0", "");
    write_file(state / "lvs" / kOld, "");
    write_file(state / "root-lv", std::string("/dev/onn/") + kOld + "\n");
    return root;
}

}  // namespace

TEST(NodeImage, AsksImgbaseForTheRunningLayerAndEveryLayer) {
    TempDir t;
    fs::path root = node_root(t);
    EXPECT_EQ(node_running_layer(root), kOld);
    write_file(root / "var/lib/ovirt-airgap-test/imgbased/lvs" / kNew, "");
    EXPECT_EQ(node_layers(root), (std::vector<std::string>{kNew, kOld}));
    fs::remove(root / "var/lib/ovirt-airgap-test/imgbased/root-lv");
    EXPECT_EQ(error_of<std::exception>([&] { node_running_layer(root); }), "imgbase w failed with exit code 1");
}

TEST(NodeImage, TheNewLayerIsTheOneOfTheImageVersionThatAppeared) {
    std::vector<std::string> before{kOld};
    EXPECT_EQ(new_node_layer(before, {kNew, kOld}, "4.3.10"), kNew);
    // A layer of another image is not the update's.
    EXPECT_EQ(error_of<std::exception>([&] {
                  new_node_layer(before, {"ovirt-node-ng-4.3.9-0.20200324.0+1", kOld}, "4.3.10");
              }),
              std::string("the update registered no new layer for ovirt-node-ng-image-update 4.3.10: imgbase layout "
                          "--layers lists ovirt-node-ng-4.3.9-0.20200324.0+1, ") +
                  kOld + " (imgbased logs to /var/log/imgbased.log)");
    // Nor is one that was there before the update (4.3.1 vs 4.3.10: the version is a whole word).
    EXPECT_THROW(new_node_layer({kNew}, {kNew}, "4.3.10"), StepFailed);
    EXPECT_THROW(new_node_layer({}, {"ovirt-node-ng-4.3.10-0.20200615.0+1"}, "4.3.1"), StepFailed);
}

TEST(NodeImage, LocalStorageDomainsAreFoundByVdsmsTestFile) {
    TempDir t;
    fs::path root = t.path() / "r";
    fs::create_directories(root / "usr/bin");
    EXPECT_TRUE(local_storage_domains(root).empty());
    write_file(root / "data/sd2/__DIRECT_IO_TEST__", "");
    write_file(root / "data/sd1/__DIRECT_IO_TEST__", "");
    EXPECT_EQ(local_storage_domains(root), (std::vector<std::string>{"/data/sd1", "/data/sd2"}));
}

TEST(NodeImage, PreflightWantsTheImageTwiceInTheThinPool) {
    TempDir t;
    fs::path root = node_root(t);
    const std::uint64_t image = 3u << 20;
    write_file(root / "var/lib/ovirt-airgap-test/imgbased/pool-free-mb", "5.5\n");
    EXPECT_EQ(error_of<std::exception>([&] { node_preflight(root, image); }),
              "not enough free space in the Node's thin pool for the new image: 5 MiB free, 6 MiB needed (imgbase "
              "layout --free-space)");
    write_file(root / "var/lib/ovirt-airgap-test/imgbased/pool-free-mb", "6.0\n");
    EXPECT_NO_THROW(node_preflight(root, image));
    write_file(root / "var/lib/ovirt-airgap-test/imgbased/pool-free-mb", "lots\n");
    EXPECT_EQ(error_of<std::exception>([&] { node_preflight(root, image); }),
              "imgbase layout --free-space does not say how much space the thin pool has");
    write_file(root / "data/sd/__DIRECT_IO_TEST__", "");
    EXPECT_THROW(node_preflight(root, image), ConfigError);
}
