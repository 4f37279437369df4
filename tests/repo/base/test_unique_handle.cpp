#include "repo/base/unique_handle.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

using airgap::repo::UniqueHandle;

namespace {

// What the fake C library freed, in order.
std::vector<int> freed;

struct Thing {
    int id;
};

void free_thing(Thing* t) {
    freed.push_back(t->id);
    delete t;
}

// libarchive's free functions return int: the handle ignores it.
int free_thing_returning(Thing* t) {
    free_thing(t);
    return 0;
}

using ThingHandle = UniqueHandle<Thing, free_thing>;

}  // namespace

TEST(UniqueHandle, FreesOnceWhenItDies) {
    freed.clear();
    {
        ThingHandle h(new Thing{1});
        EXPECT_TRUE(h);
        EXPECT_EQ(h.get()->id, 1);
    }
    EXPECT_EQ(freed, std::vector<int>{1});
    { ThingHandle empty; }
    EXPECT_EQ(freed, std::vector<int>{1}) << "an empty handle frees nothing";
}

TEST(UniqueHandle, AMovedFromHandleFreesNothing) {
    freed.clear();
    {
        ThingHandle a(new Thing{1});
        ThingHandle b(std::move(a));
        EXPECT_FALSE(a);
        EXPECT_EQ(b.get()->id, 1);
        ThingHandle c(new Thing{2});
        c = std::move(b);  // 2 is freed now, 1 moves on
        EXPECT_EQ(freed, std::vector<int>{2});
        EXPECT_EQ(c.get()->id, 1);
    }
    EXPECT_EQ(freed, (std::vector<int>{2, 1}));
}

TEST(UniqueHandle, ResetFreesTheOldAndReleaseGivesUp) {
    freed.clear();
    ThingHandle h(new Thing{1});
    h.reset(new Thing{2});
    EXPECT_EQ(freed, std::vector<int>{1});
    Thing* raw = h.release();
    EXPECT_FALSE(h);
    h.reset();
    EXPECT_EQ(freed, std::vector<int>{1}) << "a released handle is the caller's";
    free_thing(raw);
    EXPECT_EQ(freed, (std::vector<int>{1, 2}));
}

TEST(UniqueHandle, AFreeFunctionsResultIsIgnored) {
    freed.clear();
    { UniqueHandle<Thing, free_thing_returning> h(new Thing{7}); }
    EXPECT_EQ(freed, std::vector<int>{7});
}
