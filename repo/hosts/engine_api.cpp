#include "repo/hosts/engine_api.hpp"

#include <curl/curl.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>
#include <utility>

#include "repo/base/error.hpp"
#include "repo/base/secret_file.hpp"
#include "repo/base/unique_handle.hpp"

namespace airgap::repo {

namespace {

using nlohmann::json;

// curl_global_init is not thread-safe before 7.84: do it once, before any handle.
void global_init() {
    static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) throw ConfigError(std::string("cannot initialise libcurl: ") + curl_easy_strerror(rc));
}

class CurlHandle : public UniqueHandle<CURL, curl_easy_cleanup> {
public:
    CurlHandle() : UniqueHandle(curl_easy_init()) {
        if (!get()) throw ConfigError("cannot create a libcurl handle");
    }
};

class CurlHeaders {
public:
    void add(const std::string& line) {
        curl_slist* next = curl_slist_append(list_.get(), line.c_str());
        if (!next) throw std::bad_alloc();
        list_.release();  // `next` heads the same list, grown by one
        list_.reset(next);
    }
    curl_slist* get() const noexcept { return list_.get(); }

private:
    UniqueHandle<curl_slist, curl_slist_free_all> list_;
};

// Escaped with curl_easy_escape; owned by a std::string at once.
std::string escape(CURL* curl, const std::string& text) {
    char* out = curl_easy_escape(curl, text.c_str(), static_cast<int>(text.size()));
    if (!out) throw std::bad_alloc();
    std::string result(out);
    curl_free(out);
    return result;
}

size_t write_body(char* data, size_t size, size_t count, void* sink) {
    static_cast<std::string*>(sink)->append(data, size * count);
    return size * count;
}

struct Response {
    CURLcode code = CURLE_OK;
    std::string curl_error;
    bool sent = false;  // the request went out (so a POST must not be repeated)
    long status = 0;
    std::string body;
};

// What the Engine says in a fault: {"reason", "detail"}, or {"fault": {...}} in an action.
std::string fault_text(const std::string& body) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return {};
    const json& f = j.contains("fault") && j["fault"].is_object() ? j["fault"] : j;
    std::string detail = f.contains("detail") && f["detail"].is_string() ? f["detail"].get<std::string>() : "";
    std::string reason = f.contains("reason") && f["reason"].is_string() ? f["reason"].get<std::string>() : "";
    if (detail.size() > 2 && detail.front() == '[' && detail.back() == ']')
        detail = detail.substr(1, detail.size() - 2);
    if (!detail.empty()) return detail;
    return reason;
}

std::string read_password(const std::filesystem::path& file) { return read_secret_file(file, "password"); }

}  // namespace

bool json_bool(const json& object, const std::string& key, bool fallback) {
    if (!object.is_object() || !object.contains(key) || object[key].is_null()) return fallback;
    const json& v = object[key];
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string()) {
        if (v == "true") return true;
        if (v == "false") return false;
    }
    throw StepFailed("the Engine sent '" + key + "': " + v.dump() + ", not a boolean");
}

std::int64_t json_int(const json& object, const std::string& key, std::int64_t fallback) {
    if (!object.is_object() || !object.contains(key) || object[key].is_null()) return fallback;
    const json& v = object[key];
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_string()) {
        const std::string& text = v.get_ref<const std::string&>();
        std::size_t used = 0;
        try {
            long long n = std::stoll(text, &used);
            if (used == text.size()) return n;
        } catch (const std::exception&) {
        }
    }
    throw StepFailed("the Engine sent '" + key + "': " + v.dump() + ", not an integer");
}

std::string json_string(const json& object, const std::string& key) {
    if (!object.is_object() || !object.contains(key) || object[key].is_null()) return {};
    const json& v = object[key];
    return v.is_string() ? v.get<std::string>() : v.dump();
}

struct EngineClient::Impl {
    EngineConnection conn;
    std::string origin;  // https://ENGINE[:PORT]
    std::string api;     // origin + /ovirt-engine/api
    std::string engine;  // ENGINE[:PORT]
    std::string password;
    std::string token;
    bool contacted = false;  // a first exchange with the Engine worked
    std::size_t requests = 0;
    CurlHandle curl;

    Response perform(const std::string& url, const std::string* body, const std::vector<std::string>& headers) {
        ++requests;
        CURL* c = curl.get();
        curl_easy_reset(c);
        Response r;
        CurlHeaders list;
        for (const auto& h : headers) list.add(h);
        char error[CURL_ERROR_SIZE] = {};
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
        // Verified against the Engine's CA and nothing else; there is no switch to turn it off.
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_CAINFO, conn.ca_file.c_str());
        curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);  // not the system's CAs: only the Engine's
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(conn.request_timeout.count()));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
        if (body) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->c_str());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
        }
        r.code = curl_easy_perform(c);
        r.curl_error = error[0] ? error : curl_easy_strerror(r.code);
        long request_size = 0;
        curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &request_size);
        r.sent = request_size > 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        // Forget the bytes of a form that held the password.
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, nullptr);
        return r;
    }

    // Transport errors: TLS trust is always a configuration error; others are one at the
    // first contact and a failed step afterwards.
    [[noreturn]] void transport_failure(const Response& r, const std::string& what) {
        if (r.code == CURLE_PEER_FAILED_VERIFICATION)
            throw ConfigError("TLS: certificate of " + engine + " not trusted by " + conn.ca_file.string());
        if (r.code == CURLE_SSL_CACERT_BADFILE)
            throw ConfigError("TLS: cannot use the CA file " + conn.ca_file.string() + " (" + r.curl_error + ")");
        std::string message = "cannot reach the Engine " + engine + " (" + what + "): " + r.curl_error;
        if (!contacted) throw ConfigError(message);
        throw StepFailed(message);
    }

    bool retryable(const Response& r, bool idempotent) const {
        if (r.code == CURLE_PEER_FAILED_VERIFICATION || r.code == CURLE_SSL_CACERT_BADFILE) return false;
        return idempotent || !r.sent;
    }

    Response with_retries(const std::string& url, const std::string* body, const std::vector<std::string>& headers,
                          bool idempotent) {
        Response r;
        for (int attempt = 0;; ++attempt) {
            r = perform(url, body, headers);
            if (r.code == CURLE_OK) return r;
            if (attempt >= conn.retries || !retryable(r, idempotent)) return r;
            std::this_thread::sleep_for(conn.retry_delay);
        }
    }

    void login() {
        std::string form = "grant_type=password&scope=ovirt-app-api&username=" + escape(curl.get(), conn.user) +
                           "&password=" + escape(curl.get(), password);
        Response r =
            with_retries(origin + "/ovirt-engine/sso/oauth/token", &form,
                         {"Accept: application/json", "Content-Type: application/x-www-form-urlencoded"}, true);
        std::fill(form.begin(), form.end(), '\0');
        if (r.code != CURLE_OK) transport_failure(r, "SSO login");
        contacted = true;
        json j = json::parse(r.body, nullptr, false);
        if (j.is_array() && !j.empty()) j = j[0];
        if (j.is_object() && j.contains("access_token") && j["access_token"].is_string() && r.status == 200) {
            token = j["access_token"].get<std::string>();
            return;
        }
        std::string why;
        if (j.is_object())
            for (const char* key : {"error_description", "error", "error_code"})
                if (j.contains(key) && j[key].is_string()) {
                    why = j[key].get<std::string>();
                    break;
                }
        if (why.empty()) why = "HTTP " + std::to_string(r.status);
        throw ConfigError("the Engine " + engine + " refused the login of " + conn.user + ": " + why);
    }

    json request(const std::string& method, const std::string& path, const std::string& query, const json* body) {
        if (token.empty()) login();
        std::string url = (path.empty() ? api : api + "/" + path) + query;
        std::string text = body ? body->dump() : std::string();
        for (int auth_attempt = 0;; ++auth_attempt) {
            std::vector<std::string> headers = {"Accept: application/json", "Version: 4",
                                                "Authorization: Bearer " + token};
            if (body) headers.emplace_back("Content-Type: application/json");
            Response r = with_retries(url, body ? &text : nullptr, headers, !body);
            if (r.code != CURLE_OK) transport_failure(r, method + " " + path);
            contacted = true;
            if (r.status == 401 && auth_attempt == 0) {
                // The token expired or the Engine restarted: one new login, then the same request.
                token.clear();
                login();
                continue;
            }
            if (r.status < 200 || r.status >= 300) {
                std::string why = fault_text(r.body);
                throw StepFailed("the Engine answered " + method + " " + path + " with HTTP " +
                                 std::to_string(r.status) + (why.empty() ? "" : ": " + why));
            }
            if (r.body.empty()) return json::object();
            json j = json::parse(r.body, nullptr, false);
            if (j.is_discarded())
                throw StepFailed("the Engine answered " + method + " " + path + " with something that is not JSON");
            if (j.is_object() && j.contains("status") && j["status"] == "failed")
                throw StepFailed("the Engine failed " + method + " " + path + ": " + fault_text(r.body));
            return j;
        }
    }
};

EngineClient::EngineClient(EngineConnection connection) : impl_(std::make_unique<Impl>()) {
    global_init();
    Impl& d = *impl_;
    d.conn = std::move(connection);
    const std::string& url = d.conn.url;
    const std::string scheme = "https://";
    if (url.compare(0, scheme.size(), scheme) != 0)
        throw ConfigError("bad --engine-url '" + url + "': expected https://ENGINE/ovirt-engine/api");
    std::size_t slash = url.find('/', scheme.size());
    d.engine = url.substr(scheme.size(), slash == std::string::npos ? std::string::npos : slash - scheme.size());
    std::string path = slash == std::string::npos ? "" : url.substr(slash);
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (d.engine.empty() || d.engine.find_first_of("@?# ") != std::string::npos ||
        (!path.empty() && path != "/ovirt-engine/api" && path != "/ovirt-engine"))
        throw ConfigError("bad --engine-url '" + url + "': expected https://ENGINE/ovirt-engine/api");
    d.origin = scheme + d.engine;
    d.api = d.origin + "/ovirt-engine/api";
    if (d.conn.user.empty() || d.conn.user.find('@') == std::string::npos)
        throw ConfigError("bad --user '" + d.conn.user + "': expected USER@PROFILE, e.g. admin@internal");
    std::ifstream ca(d.conn.ca_file);
    if (!ca) throw ConfigError("cannot read the CA file " + d.conn.ca_file.string() + ": " + std::strerror(errno));
    d.password = read_password(d.conn.password_file);
}

EngineClient::~EngineClient() {
    if (impl_) logout();
}
EngineClient::EngineClient(EngineClient&&) noexcept = default;
EngineClient& EngineClient::operator=(EngineClient&& other) noexcept {
    if (this != &other) {
        if (impl_) logout();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

const std::string& EngineClient::api_url() const { return impl_->api; }
const std::string& EngineClient::engine_name() const { return impl_->engine; }
std::size_t EngineClient::request_count() const { return impl_->requests; }

void EngineClient::login() { impl_->login(); }

void EngineClient::logout() noexcept {
    Impl& d = *impl_;
    if (d.token.empty()) return;
    try {
        // As the SDKs do: the token and scope, form-encoded, to the SSO logout service.
        std::string form = "scope=ovirt-app-api&token=" + escape(d.curl.get(), d.token);
        d.token.clear();
        d.perform(d.origin + "/ovirt-engine/services/sso-logout", &form,
                  {"Accept: application/json", "Content-Type: application/x-www-form-urlencoded"});
    } catch (...) {
        // Best effort: an Engine that is gone does not need its token revoked.
    }
}

json EngineClient::get(const std::string& path, const std::string& search) {
    std::string query = search.empty() ? "" : "?search=" + escape(impl_->curl.get(), search);
    return impl_->request("GET", path, query, nullptr);
}

std::vector<json> EngineClient::list(const std::string& path, const std::string& element, const std::string& search) {
    json j = get(path, search);
    std::vector<json> items;
    if (!j.is_object() || !j.contains(element)) return items;
    const json& a = j[element];
    if (a.is_array())
        for (const auto& item : a) items.push_back(item);
    else if (a.is_object())
        items.push_back(a);
    return items;
}

json EngineClient::post(const std::string& path, const json& body) { return impl_->request("POST", path, "", &body); }

}  // namespace airgap::repo
