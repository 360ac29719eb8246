#include "kube/curl_transport.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/version.h"

namespace l2a::kube {
namespace {

struct Exchange {
  HttpResponse response;
  const std::function<bool(std::string_view)>* onData = nullptr;
  const std::function<bool()>* stopped = nullptr;
  bool stoppedByCaller = false;
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t n = size * count;
  if (ex->onData != nullptr && ex->response.status == 200) {
    if (!(*ex->onData)(std::string_view(data, n))) {
      ex->stoppedByCaller = true;
      return 0;  // aborts the transfer
    }
  } else {
    ex->response.body.append(data, n);
  }
  return n;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    ex->response.headers.clear();  // a new response (after 100-continue or a redirect)
    auto space = line.find(' ');
    if (space != std::string_view::npos) {
      ex->response.status = std::strtol(std::string(line.substr(space + 1, 3)).c_str(), nullptr, 10);
    }
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value(line.substr(colon + 1));
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    ex->response.headers[name] = value;
  }
  return size * count;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* ex = static_cast<Exchange*>(user);
  if (ex->stopped != nullptr && (*ex->stopped)()) {
    ex->stoppedByCaller = true;
    return 1;
  }
  return 0;
}

void setBlob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

struct GlobalInit {
  GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

CurlTransport::CurlTransport(ClientConfig config, std::chrono::milliseconds requestTimeout)
    : config_(std::move(config)), requestTimeoutMs_(requestTimeout.count()) {
  static GlobalInit init;
  if (config_.exec) {
    exec_ = std::make_unique<ExecCredentialSource>(*config_.exec, config_.server, config_.certificateAuthority);
  }
}

CurlTransport::~CurlTransport() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* CurlTransport::takeHandle() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void CurlTransport::giveBack(void* handle) {
  std::lock_guard lock(mutex_);
  idle_.push_back(handle);
}

std::string CurlTransport::bearerToken() {
  if (config_.tokenFile.empty()) return config_.bearerToken;
  struct stat st {};
  std::lock_guard lock(mutex_);
  // Service-account tokens rotate: re-read the file whenever it changed (nanosecond mtime).
  if (stat(config_.tokenFile.c_str(), &st) == 0) {
    long long modified = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    if (modified != tokenModified_) {
      std::ifstream in(config_.tokenFile);
      std::stringstream ss;
      ss << in.rdbuf();
      token_ = ss.str();
      token_.erase(token_.find_last_not_of(" \r\n\t") + 1);
      tokenModified_ = modified;
    }
  }
  return token_;
}

Result<HttpResponse> CurlTransport::perform(void* handle, const HttpRequest& request,
                                            const std::function<bool(std::string_view)>* onData,
                                            const std::function<bool()>* stopped,
                                            int idleTimeoutSeconds) {
  // The credentials first: a plugin that fails ends the request before anything is sent.
  std::string token = bearerToken();
  ExecCredential fromPlugin;
  if (exec_) {
    auto credential = exec_->get();
    if (!credential) return fail(credential.error());
    fromPlugin = std::move(credential).value();
    if (!fromPlugin.token.empty()) token = fromPlugin.token;
  }
  const std::string& certificate = fromPlugin.clientCertificate.empty() ? config_.clientCertificate : fromPlugin.clientCertificate;
  const std::string& key = fromPlugin.clientKey.empty() ? config_.clientKey : fromPlugin.clientKey;
  CURL* curl = static_cast<CURL*>(handle);
  curl_easy_reset(curl);
  std::string url = config_.server + request.target;
  Exchange ex;
  ex.onData = onData;
  ex.stopped = stopped;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  const int64_t timeoutMs = requestTimeoutMs_.load();
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(5000, timeoutMs)));
  std::string agent = fmt::format("l2a/{}", common::version());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, agent.c_str());
  if (onData != nullptr) {
    // Watches: no overall timeout; a silent connection is detected by the idle limit.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(idleTimeoutSeconds));
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &ex);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  } else {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeoutMs));
  }
  if (config_.insecureSkipTlsVerify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!config_.certificateAuthority.empty()) setBlob(curl, CURLOPT_CAINFO_BLOB, config_.certificateAuthority);
  if (!certificate.empty()) {
    setBlob(curl, CURLOPT_SSLCERT_BLOB, certificate);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!key.empty()) {
    setBlob(curl, CURLOPT_SSLKEY_BLOB, key);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, ("Content-Type: " + request.contentType).c_str());
  if (!token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK && !ex.stoppedByCaller) {
    // A stream that ran and then broke is a normal end for a watch: report what we got.
    if (onData != nullptr && ex.response.status == 200) return ex.response;
    return fail("connection", fmt::format("{} {}: {}", request.method, url, curl_easy_strerror(code)));
  }
  return ex.response;
}

Result<HttpResponse> CurlTransport::send(const HttpRequest& request) {
  void* handle = takeHandle();
  auto result = perform(handle, request, nullptr, nullptr, 0);
  if (exec_ && result && result->status == 401) {
    // The plugin's credential was revoked or expired early: ask it again, once.
    exec_->invalidate();
    result = perform(handle, request, nullptr, nullptr, 0);
  }
  giveBack(handle);
  return result;
}

Result<HttpResponse> CurlTransport::stream(const HttpRequest& request,
                                           const std::function<bool(std::string_view)>& onData,
                                           const std::function<bool()>& stopped, int idleTimeoutSeconds) {
  void* handle = curl_easy_init();  // a long-lived stream keeps its own connection
  auto result = perform(handle, request, &onData, &stopped, idleTimeoutSeconds);
  if (exec_ && result && result->status == 401) {
    exec_->invalidate();
    result = perform(handle, request, &onData, &stopped, idleTimeoutSeconds);
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
  return result;
}

}  // namespace l2a::kube
