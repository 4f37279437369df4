#pragma once
// libsolv's Queue owned by one object, for the solver area's .cpp files only:
// it pulls in libsolv's headers, which public headers keep out.
extern "C" {
#include <solv/queue.h>
}

namespace airgap::repo {

/// A libsolv Queue of Ids: initialised on construction, freed on destruction, not copyable.
class IdQueue {
public:
    IdQueue() { queue_init(&q_); }
    ~IdQueue() { queue_free(&q_); }
    IdQueue(const IdQueue&) = delete;
    IdQueue& operator=(const IdQueue&) = delete;
    /// The raw queue for libsolv calls; lives as long as this object.
    Queue* get() noexcept { return &q_; }
    int size() const noexcept { return q_.count; }
    Id operator[](int i) const noexcept { return q_.elements[i]; }
    void push(Id id) { queue_push(&q_, id); }
    void push2(Id a, Id b) { queue_push2(&q_, a, b); }

private:
    Queue q_;
};

}  // namespace airgap::repo
