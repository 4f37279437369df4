#include "tests/shared/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace fs = std::filesystem;

namespace airgap::test {

namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

const char* reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 206:
            return "Partial Content";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 416:
            return "Range Not Satisfiable";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Status";
    }
}

bool send_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

std::string url_decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// Reads the request head (up to the blank line); empty when the client went away.
std::string read_head(int fd) {
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return {};
        head.append(buf, static_cast<size_t>(n));
    }
    return head;
}

// Parses "bytes=A-B", "bytes=A-", "bytes=-N" against `size`; false when unsatisfiable.
bool parse_range(const std::string& value, size_t size, size_t& first, size_t& last) {
    if (value.rfind("bytes=", 0) != 0 || value.find(',') != std::string::npos) return false;
    std::string spec = value.substr(6);
    size_t dash = spec.find('-');
    if (dash == std::string::npos) return false;
    std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
    try {
        if (a.empty()) {
            size_t n = std::stoul(b);
            if (n == 0 || size == 0) return false;
            first = size - std::min(n, size);
            last = size - 1;
        } else {
            first = std::stoul(a);
            last = b.empty() ? size - 1 : std::min<size_t>(std::stoul(b), size - 1);
        }
    } catch (const std::exception&) {
        return false;
    }
    return first < size && first <= last;
}

}  // namespace

HttpServer::HttpServer(fs::path root) : root_(std::move(root)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) fail("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // the kernel picks a free port
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) fail("bind");
    if (::listen(listen_fd_, 64) < 0) fail("listen");
    socklen_t len = sizeof addr;
    if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) < 0) fail("getsockname");
    port_ = ntohs(addr.sin_port);
    if (::pipe2(wake_pipe_, O_CLOEXEC) < 0) fail("pipe2");
    acceptor_ = std::thread([this] { accept_loop(); });
}

HttpServer::~HttpServer() {
    stopping_ = true;
    char c = 'x';
    ssize_t ignored = ::write(wake_pipe_[1], &c, 1);
    (void)ignored;
    acceptor_.join();
    std::vector<std::thread> workers;
    {
        // Unblock workers stuck on a client that keeps its connection open.
        std::lock_guard<std::mutex> lock(mutex_);
        for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
        workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
    ::close(listen_fd_);
    ::close(wake_pipe_[0]);
    ::close(wake_pipe_[1]);
}

std::string HttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpServer::fail_with(const std::string& path, int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_[path].status = status;
}

void HttpServer::serve_bytes(const std::string& path, std::string bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_[path].bytes = std::move(bytes);
}

void HttpServer::cut_after(const std::string& path, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_[path].cut = bytes;
}

void HttpServer::clear_faults() {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_.clear();
}

std::vector<std::string> HttpServer::requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return log_;
}

void HttpServer::clear_requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    log_.clear();
}

void HttpServer::accept_loop() {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    while (!stopping_) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents) return;
        if (!(fds[0].revents & POLLIN)) continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        std::lock_guard<std::mutex> lock(mutex_);
        open_fds_.push_back(fd);
        workers_.emplace_back([this, fd] { serve(fd); });
    }
}

void HttpServer::serve(int fd) {
    auto finish = [&] {
        std::lock_guard<std::mutex> lock(mutex_);
        open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
        ::close(fd);
    };
    // `send_limit` below the body's size breaks the transfer after that many body bytes.
    auto respond = [&](int status, const std::string& extra_headers, const std::string& body, bool head_only,
                       size_t send_limit = std::string::npos) {
        std::ostringstream h;
        h << "HTTP/1.1 " << status << " " << reason(status) << "\r\nContent-Length: " << body.size()
          << "\r\nConnection: close\r\n"
          << extra_headers << "\r\n";
        std::string head = h.str();
        if (send_all(fd, head.data(), head.size()) && !head_only)
            send_all(fd, body.data(), std::min(send_limit, body.size()));
    };

    std::string request = read_head(fd);
    std::istringstream lines(request);
    std::string method, target, version;
    lines >> method >> target >> version;
    if (method.empty() || target.empty()) return finish();
    std::string range;
    std::string header;
    std::getline(lines, header);
    while (std::getline(lines, header) && header != "\r") {
        size_t colon = header.find(':');
        if (colon == std::string::npos) continue;
        std::string name = header.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string value = header.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
        if (name == "range") range = value;
    }
    std::string path = url_decode(target.substr(0, target.find('?')));

    Fault fault;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        log_.push_back(path);
        auto it = faults_.find(path);
        if (it != faults_.end()) fault = it->second;
    }
    const bool head_only = method == "HEAD";
    if (method != "GET" && !head_only) {
        respond(405, "Allow: GET, HEAD\r\n", "", false);
        return finish();
    }
    if (fault.status) {
        respond(fault.status, "", "", head_only);
        return finish();
    }
    if (path.empty() || path[0] != '/' || (path + "/").find("/../") != std::string::npos) {
        respond(403, "", "", head_only);
        return finish();
    }

    std::string body;
    if (fault.bytes) {
        body = *fault.bytes;
    } else {
        fs::path file = root_ / path.substr(1);
        std::error_code ec;
        if (!fs::is_regular_file(file, ec)) {
            respond(404, "", "", head_only);
            return finish();
        }
        std::ifstream in(file, std::ios::binary);
        body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    int status = 200;
    std::string extra = "Accept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\n";
    if (!range.empty()) {
        size_t first = 0, last = 0;
        if (!parse_range(range, body.size(), first, last)) {
            respond(416, "Content-Range: bytes */" + std::to_string(body.size()) + "\r\n", "", head_only);
            return finish();
        }
        extra += "Content-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                 std::to_string(body.size()) + "\r\n";
        body = body.substr(first, last - first + 1);
        status = 206;
    }
    if (fault.cut && !head_only) {
        respond(status, extra, body, false, *fault.cut);
        ::shutdown(fd, SHUT_RDWR);
        return finish();
    }
    respond(status, extra, body, head_only);
    return finish();
}

}  // namespace airgap::test
