#include "kube/httplib_transport.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/version.h"

namespace l2a::kube {
namespace {

// What OpenSSL said first on this thread ("certificate verify failed"), or nothing.
std::string openSslError() {
  unsigned long code = ERR_peek_error();  // the first: httplib's clean-up adds its own after it
  ERR_clear_error();
  if (code == 0) return "";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : text;
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioDeleter>;
Bio memoryBio(const std::string& pem) { return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

// Every certificate of a PEM bundle, in order; none is an error.
Result<std::vector<X509*>> readCertificates(const std::string& pem, const char* what) {
  std::vector<X509*> certificates;
  Bio bio = memoryBio(pem);
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certificates.push_back(c);
  ERR_clear_error();  // the end of the bundle reads as an error
  if (certificates.empty()) return fail("config", fmt::format("the {} holds no PEM certificate", what));
  return certificates;
}

Result<ServerUrl> parseServer(const std::string& server) {
  ServerUrl url;
  std::string_view rest = server;
  if (rest.rfind("https://", 0) == 0) {
    url.tls = true;
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    return fail("config", fmt::format("server '{}': not an http:// or https:// URL", server));
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    url.pathPrefix = std::string(rest.substr(slash));
    while (!url.pathPrefix.empty() && url.pathPrefix.back() == '/') url.pathPrefix.pop_back();
  }
  std::string_view portText;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("config", fmt::format("server '{}': no ']' after the IPv6 address", server));
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("config", fmt::format("server '{}': text after the IPv6 address", server));
      portText = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
  }
  if (url.host.empty()) return fail("config", fmt::format("server '{}': no host", server));
  url.port = url.tls ? 443 : 80;
  if (!portText.empty()) {
    int port = 0;
    for (char c : portText) {
      if (c < '0' || c > '9' || port > 65535) return fail("config", fmt::format("server '{}': bad port", server));
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return fail("config", fmt::format("server '{}': bad port", server));
    url.port = port;
  }
  bool v6 = url.host.find(':') != std::string::npos;
  url.hostHeader = fmt::format("{}{}{}:{}", v6 ? "[" : "", url.host, v6 ? "]" : "", url.port);
  return url;
}

// httplib's errors in the words of an operator's log line.
std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "cannot connect (refused, unreachable or no such host)";
    case httplib::Error::ConnectionTimeout: return "connecting timed out";
    case httplib::Error::Read: return "reading the answer failed (closed, reset or timed out)";
    case httplib::Error::Write: return "sending the request failed (closed, reset or timed out)";
    case httplib::Error::SSLConnection: return "TLS handshake failed";
    case httplib::Error::SSLServerVerification: return "the server's certificate is not trusted";
    case httplib::Error::Canceled: return "cancelled";
    default: return httplib::to_string(error);
  }
}

// OpenSSL writes to the socket with write(): once the peer (or the watchdog's shutdown) has
// closed it, a TLS close_notify or a request raises SIGPIPE, whose default ends the process —
// a stopped watch killed its program. A closed connection is an error to report (EPIPE), so
// SIGPIPE is ignored, once, unless the program handles it itself (libcurl did the same).
void ignoreBrokenPipes() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
  });
}

bool isAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

HttplibTransport::HttplibTransport(ClientConfig config, std::chrono::milliseconds requestTimeout)
    : config_(std::move(config)), server_(parseServer(config_.server)), requestTimeoutMs_(requestTimeout.count()) {
  ignoreBrokenPipes();
  if (config_.exec) {
    exec_ = std::make_unique<ExecCredentialSource>(*config_.exec, config_.server, config_.certificateAuthority);
  }
}

HttplibTransport::~HttplibTransport() {
  {
    std::lock_guard lock(watchMutex_);
    closing_ = true;
  }
  watchWake_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

// A new connection (opened by its first request) with TLS set up: the client certificate and
// key, the CA (the kubeconfig's alone, or the system's), and OpenSSL checking the server's name
// or address during the handshake.
Result<HttplibTransport::Connection> HttplibTransport::open(const Credentials& credentials) const {
  Connection connection;
  connection.certificate = credentials.certificate;
  const ServerUrl& server = *server_;
  if (!server.tls) {
    connection.client = std::make_unique<httplib::ClientImpl>(server.host, server.port);
    return connection;
  }
  auto client = std::make_unique<httplib::SSLClient>(server.host, server.port);
  SSL_CTX* context = client->ssl_context();
  if (context == nullptr) return fail("tls", fmt::format("cannot make a TLS context: {}", openSslError()));
  // Verification is OpenSSL's (SSL_VERIFY_PEER and the expected name in the context), not
  // httplib's: httplib would add the system's CAs to the kubeconfig's.
  client->enable_server_certificate_verification(false);
  if (config_.insecureSkipTlsVerify) {
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    if (config_.certificateAuthority.empty()) {
      SSL_CTX_set_default_verify_paths(context);
    } else {
      auto authorities = readCertificates(config_.certificateAuthority, "certificate authority");
      if (!authorities) return fail(authorities.error());
      X509_STORE* store = X509_STORE_new();
      for (X509* c : *authorities) {
        X509_STORE_add_cert(store, c);
        X509_free(c);
      }
      SSL_CTX_set_cert_store(context, store);
    }
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(context);
    int named = isAddress(server.host) ? X509_VERIFY_PARAM_set1_ip_asc(param, server.host.c_str())
                                       : X509_VERIFY_PARAM_set1_host(param, server.host.c_str(), 0);
    if (named != 1) {
      return fail("tls", fmt::format("cannot expect the server name '{}': {}", server.host, openSslError()));
    }
  }
  if (!credentials.certificate.empty() || !credentials.key.empty()) {
    auto chain = readCertificates(credentials.certificate, "client certificate");
    if (!chain) return fail(chain.error());
    int used = SSL_CTX_use_certificate(context, chain->front());
    for (size_t i = 1; i < chain->size(); ++i) {
      if (used == 1) used = static_cast<int>(SSL_CTX_add1_chain_cert(context, (*chain)[i]));
    }
    for (X509* c : *chain) X509_free(c);
    Bio bio = memoryBio(credentials.key);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (key == nullptr) return fail("config", fmt::format("the client key is not a PEM private key: {}", openSslError()));
    if (used == 1) used = SSL_CTX_use_PrivateKey(context, key);
    EVP_PKEY_free(key);
    if (used != 1 || SSL_CTX_check_private_key(context) != 1) {
      return fail("config", fmt::format("the client certificate and key cannot be used: {}", openSslError()));
    }
  }
  connection.client = std::move(client);
  return connection;
}

Result<HttplibTransport::Connection> HttplibTransport::take(const Credentials& credentials) {
  std::vector<Connection> stale;  // opened with a certificate the plugin no longer hands out
  {
    std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
      Connection c = std::move(idle_.back());
      idle_.pop_back();
      if (c.certificate == credentials.certificate) return c;
      stale.push_back(std::move(c));
    }
  }
  return open(credentials);
}

void HttplibTransport::giveBack(Connection connection) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(connection));
}

std::string HttplibTransport::bearerToken() {
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

// The credentials first: a plugin that fails ends the request before anything is sent.
Result<HttplibTransport::Credentials> HttplibTransport::credentials() {
  Credentials c{bearerToken(), config_.clientCertificate, config_.clientKey};
  if (exec_) {
    auto credential = exec_->get();
    if (!credential) return fail(credential.error());
    if (!credential->token.empty()) c.token = credential->token;
    if (!credential->clientCertificate.empty()) c.certificate = credential->clientCertificate;
    if (!credential->clientKey.empty()) c.key = credential->clientKey;
  }
  return c;
}

Result<HttpResponse> HttplibTransport::perform(Connection& connection, const Credentials& credentials,
                                               const HttpRequest& request,
                                               const std::function<bool(std::string_view)>* onData,
                                               Watched* watched, int idleTimeoutSeconds) {
  httplib::ClientImpl& client = *connection.client;
  const int64_t timeoutMs = requestTimeoutMs_.load();
  auto connectMs = std::chrono::milliseconds(std::min<int64_t>(5000, timeoutMs));
  client.set_connection_timeout(connectMs);
  client.set_write_timeout(std::chrono::milliseconds(timeoutMs));
  // A watch: a silent connection is detected by the idle limit; anything else: the request's.
  const int64_t idleMs = idleTimeoutSeconds > 0 ? idleTimeoutSeconds * 1000LL : 3600 * 1000LL;
  client.set_read_timeout(std::chrono::milliseconds(onData != nullptr ? idleMs : timeoutMs));
  client.set_keep_alive(onData == nullptr);
  client.set_tcp_nodelay(true);
  client.set_url_encode(false);  // targets come encoded (the client escapes query values)

  httplib::Request req;
  req.method = request.method;
  req.path = server_->pathPrefix + request.target;
  req.headers = {
      {"Host", server_->hostHeader},
      {"Accept", "application/json"},
      {"Accept-Encoding", "identity"},
      {"Content-Type", request.contentType},
      {"User-Agent", fmt::format("l2a/{}", common::version())},
  };
  if (!credentials.token.empty()) req.headers.emplace("Authorization", "Bearer " + credentials.token);
  req.body = request.body;
  HttpResponse response;
  bool stoppedByCaller = false;
  req.response_handler = [&](const httplib::Response& r) {
    response.status = r.status;
    for (const auto& [name, value] : r.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      response.headers[lower] = value;
    }
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (onData != nullptr && response.status == 200) {
      if (!(*onData)(std::string_view(data, size))) {
        stoppedByCaller = true;
        return false;  // ends the transfer
      }
    } else {
      response.body.append(data, size);
    }
    return true;
  };
  if (watched != nullptr) watch(watched);
  httplib::Response ignored;
  httplib::Error error = httplib::Error::Success;
  bool ok = client.send(req, ignored, error);
  if (watched != nullptr) {
    unwatch(watched);
    stoppedByCaller = stoppedByCaller || watched->stoppedByCaller;
  }
  if (!ok && !stoppedByCaller) {
    // A stream that ran and then broke is a normal end for a watch: report what we got.
    if (onData != nullptr && response.status == 200) return response;
    std::string tlsError = error == httplib::Error::SSLConnection ? openSslError() : "";
    return fail("connection", fmt::format("{} {}{}: {}{}", request.method, config_.server, request.target,
                                          describe(error), tlsError.empty() ? "" : " (" + tlsError + ")"));
  }
  return response;
}

Result<HttpResponse> HttplibTransport::exchange(const HttpRequest& request,
                                                const std::function<bool(std::string_view)>* onData,
                                                const std::function<bool()>* stopped,
                                                int idleTimeoutSeconds) {
  if (!server_) return fail(server_.error());
  Result<HttpResponse> result = fail("connection", "no attempt");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto creds = credentials();
    if (!creds) return fail(creds.error());
    // A stream keeps a connection of its own for its lifetime.
    auto connection = onData != nullptr ? open(*creds) : take(*creds);
    if (!connection) return fail(connection.error());
    Watched watched{connection->client.get(), stopped};
    result = perform(*connection, *creds, request, onData, onData != nullptr ? &watched : nullptr,
                     idleTimeoutSeconds);
    if (onData == nullptr) giveBack(std::move(connection).value());
    // The plugin's credential was revoked or expired early: ask it again, once.
    if (!exec_ || !result || result->status != 401) break;
    exec_->invalidate();
  }
  return result;
}

Result<HttpResponse> HttplibTransport::send(const HttpRequest& request) {
  return exchange(request, nullptr, nullptr, 0);
}

Result<HttpResponse> HttplibTransport::stream(const HttpRequest& request,
                                              const std::function<bool(std::string_view)>& onData,
                                              const std::function<bool()>& stopped, int idleTimeoutSeconds) {
  return exchange(request, &onData, &stopped, idleTimeoutSeconds);
}

void HttplibTransport::watch(Watched* watched) {
  std::lock_guard lock(watchMutex_);
  watched_.push_back(watched);
  if (!watchdog_.joinable()) watchdog_ = std::thread([this] { watchdog(); });
}

void HttplibTransport::unwatch(Watched* watched) {
  std::lock_guard lock(watchMutex_);
  watched_.erase(std::find(watched_.begin(), watched_.end(), watched));
}

// Every quarter of a second: a stream whose caller stopped has its connection shut down, which
// ends the read it waits in (httplib's stop() is the one call safe from another thread).
void HttplibTransport::watchdog() {
  pthread_setname_np(pthread_self(), "kube streams");
  std::unique_lock lock(watchMutex_);
  while (!closing_) {
    for (Watched* w : watched_) {
      if (w->stopped != nullptr && (*w->stopped)()) {
        w->stoppedByCaller = true;
        w->client->stop();
      }
    }
    watchWake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return closing_; });
  }
}

}  // namespace l2a::kube
