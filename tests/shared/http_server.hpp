#pragma once
// A small HTTP/1.1 static file server for tests: real HTTP for librepo/dnf, on loopback only.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace airgap::test {

/// Serves the files under `root` on 127.0.0.1, on a free port, from construction until
/// destruction. GET and HEAD, Content-Length, single Range requests (bytes=A-B, A-, -N),
/// one request per connection ("Connection: close"). Paths are URL-decoded and the query
/// string is ignored; ".." is refused. Thread-safe: faults can change while clients run.
///
///     HttpServer server(repo_dir);
///     server.fail_with("/repodata/repomd.xml", 404);
///     fetch(server.url() + "/");  // http://127.0.0.1:PORT/
///     EXPECT_EQ(server.requests(), std::vector<std::string>{"/repodata/repomd.xml"});
class HttpServer {
public:
    explicit HttpServer(std::filesystem::path root);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// "http://127.0.0.1:PORT", no trailing slash.
    std::string url() const;
    std::uint16_t port() const { return port_; }
    const std::filesystem::path& root() const { return root_; }

    /// Requests of `path` (e.g. "/repodata/repomd.xml") get `status` and an empty body.
    void fail_with(const std::string& path, int status);
    /// Requests of `path` get `bytes` instead of the file (which need not exist): corrupt content.
    void serve_bytes(const std::string& path, std::string bytes);
    /// Requests of `path` announce the full Content-Length but the connection is closed after
    /// `bytes` bytes of the body: a transfer that breaks mid-way.
    void cut_after(const std::string& path, std::size_t bytes);
    /// Removes every fault: files are served as they are on disk again.
    void clear_faults();

    /// Paths requested (GET and HEAD, decoded, without query) since start or clear_requests(), in order.
    std::vector<std::string> requests() const;
    void clear_requests();

private:
    struct Fault {
        int status = 0;                    // non-zero: answer with this status
        std::optional<std::string> bytes;  // served instead of the file
        std::optional<std::size_t> cut;    // close after this many body bytes
    };

    void accept_loop();
    void serve(int fd);

    std::filesystem::path root_;
    int listen_fd_ = -1;
    int wake_pipe_[2] = {-1, -1};
    std::uint16_t port_ = 0;
    std::thread acceptor_;
    std::atomic<bool> stopping_{false};

    mutable std::mutex mutex_;  // guards everything below
    std::map<std::string, Fault> faults_;
    std::vector<std::string> log_;
    std::vector<std::thread> workers_;
    std::vector<int> open_fds_;
};

}  // namespace airgap::test
