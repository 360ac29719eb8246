#include "lab/fault_proxy.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

namespace l2a::lab {
namespace {

constexpr size_t kMaxHead = 64 * 1024;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string_view::npos ? "" : std::string(s.substr(b, e - b + 1));
}

std::string openSslError() {
  unsigned long e = ERR_get_error();
  char text[256] = "unknown TLS error";
  if (e != 0) ERR_error_string_n(e, text, sizeof text);
  return text;
}

// One TCP socket bound and listening (or connected) to HOST:PORT, IPv4 or IPv6.
int tcpSocket(const std::string& host, int port, bool listening) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | (listening ? AI_PASSIVE : 0);
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool ok = listening ? bind(fd, found->ai_addr, found->ai_addrlen) == 0 && ::listen(fd, 128) == 0
                        : connect(fd, found->ai_addr, found->ai_addrlen) == 0;
    if (!ok) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

int boundPortOf(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

bool writeAll(SSL* ssl, std::string_view data) {
  while (!data.empty()) {
    int n = SSL_write(ssl, data.data(), static_cast<int>(data.size()));
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string statusResponse(int code, int retryAfterSeconds) {
  std::string reason = code == 429 ? "TooManyRequests" : code == 503 ? "ServiceUnavailable" : "InternalError";
  std::string body = nlohmann::json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
                                    {"status", "Failure"}, {"message", "injected fault"},
                                    {"reason", reason}, {"code", code}}
                         .dump();
  std::string head = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
                                 "Connection: close\r\n",
                                 code, reason, body.size());
  if (retryAfterSeconds > 0) head += fmt::format("Retry-After: {}\r\n", retryAfterSeconds);
  return head + "\r\n" + body;
}

}  // namespace

Result<RequestHead> parseRequestHead(std::string_view head) {
  RequestHead out;
  size_t lineEnd = head.find("\r\n");
  if (lineEnd == std::string_view::npos) return fail("bad_request", "no request line");
  std::string_view line = head.substr(0, lineEnd);
  size_t first = line.find(' ');
  size_t second = line.rfind(' ');
  if (first == std::string_view::npos || second == first || line.substr(second + 1).rfind("HTTP/1.", 0) != 0) {
    return fail("bad_request", "malformed request line");
  }
  out.method = std::string(line.substr(0, first));
  out.target = std::string(line.substr(first + 1, second - first - 1));
  size_t at = lineEnd + 2;
  while (at < head.size()) {
    size_t end = head.find("\r\n", at);
    if (end == std::string_view::npos) end = head.size();
    std::string_view header = head.substr(at, end - at);
    at = end + 2;
    if (header.empty()) break;
    size_t colon = header.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail("bad_request", "malformed header");
    out.headers[lower(std::string(header.substr(0, colon)))] = trim(header.substr(colon + 1));
  }
  if (auto it = out.headers.find("content-length"); it != out.headers.end()) {
    if (it->second.empty() || it->second.find_first_not_of("0123456789") != std::string::npos ||
        it->second.size() > 12) {
      return fail("bad_request", "bad Content-Length");
    }
    out.contentLength = std::stoull(it->second);
  }
  if (auto it = out.headers.find("transfer-encoding"); it != out.headers.end()) {
    out.chunked = lower(it->second).find("chunked") != std::string::npos;
  }
  size_t query = out.target.find('?');
  if (query != std::string::npos) {
    std::string q = "&" + out.target.substr(query + 1) + "&";
    out.watch = q.find("&watch=1&") != std::string::npos || q.find("&watch=true&") != std::string::npos;
  }
  return out;
}

FaultProxy::FaultProxy(FaultProxyOptions options) : options_(std::move(options)) {}

FaultProxy::~FaultProxy() {
  if (listenFd_ >= 0) close(listenFd_);
  SSL_CTX_free(static_cast<SSL_CTX*>(serverContext_));
  SSL_CTX_free(static_cast<SSL_CTX*>(clientContext_));
}

Result<std::string> FaultProxy::start() {
  auto* server = SSL_CTX_new(TLS_server_method());
  auto* client = SSL_CTX_new(TLS_client_method());
  serverContext_ = server;
  clientContext_ = client;
  if (server == nullptr || client == nullptr ||
      SSL_CTX_use_certificate_chain_file(server, options_.certificateFile.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(server, options_.keyFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_load_verify_locations(client, options_.caFile.c_str(), nullptr) != 1) {
    return fail("tls", fmt::format("cannot load the certificates: {}", openSslError()));
  }
  SSL_CTX_set_verify(client, SSL_VERIFY_PEER, nullptr);
  boundPort_ = options_.listenPort;
  if (auto s = listen(); !s) return fail(s.error());
  boundPort_ = boundPortOf(listenFd_);
  adminServer_ = std::make_unique<httplib::Server>();
  admin(*adminServer_);
  int adminPort = options_.adminPort == 0 ? adminServer_->bind_to_any_port(options_.adminHost)
                  : adminServer_->bind_to_port(options_.adminHost, options_.adminPort) ? options_.adminPort : -1;
  if (adminPort <= 0) return fail("listen", fmt::format("cannot listen on {}:{}", options_.adminHost, options_.adminPort));
  return fmt::format("https://{}:{} admin http://{}:{}", options_.listenHost, boundPort_, options_.adminHost, adminPort);
}

Status<> FaultProxy::listen() {
  int fd = tcpSocket(options_.listenHost, boundPort_, true);
  if (fd < 0) return fail("listen", fmt::format("cannot listen on {}:{}", options_.listenHost, boundPort_));
  listenFd_ = fd;
  return Ok{};
}

void FaultProxy::serve() {
  std::thread adminThread([this] { adminServer_->listen_after_bind(); });
  acceptLoop();
  adminServer_->stop();
  adminThread.join();
  closeConnections(false);
  for (int i = 0; i < 500 && handlers_ > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    closeConnections(false);  // one that registered meanwhile
  }
}

void FaultProxy::shutdown() { stopping_ = true; }

void FaultProxy::acceptLoop() {
  while (!stopping_) {
    std::chrono::steady_clock::time_point until;
    {
      std::lock_guard lock(mutex_);
      until = outageUntil_;
    }
    if (std::chrono::steady_clock::now() < until) {
      // An outage: nobody listens, connections are refused, until it ends.
      if (listenFd_ >= 0) close(listenFd_.exchange(-1));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (listenFd_ < 0 && !listen()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    pollfd p{listenFd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int fd = accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::thread([this, fd] { handle(fd); }).detach();
  }
}

void FaultProxy::handle(int fd) {
  // Counted until the very end, so serve() can wait for every handler before the TLS contexts
  // they use are freed (a SIGTERM at a lab's teardown aborted the process otherwise).
  struct Active {
    std::atomic<int>& n;
    explicit Active(std::atomic<int>& count) : n(count) { ++n; }
    ~Active() { --n; }
  } active{handlers_};
  timeval timeout{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  SSL* client = SSL_new(static_cast<SSL_CTX*>(serverContext_));
  SSL_set_fd(client, fd);
  SSL* upstream = nullptr;
  int upstreamFd = -1;
  Connection connection{fd, -1, false};
  {
    std::lock_guard lock(mutex_);
    connections_.insert(&connection);  // from the start: closeConnections reaches a handshake too
  }
  auto finish = [&] {
    {
      std::lock_guard lock(mutex_);
      connections_.erase(&connection);
    }
    if (upstream != nullptr) SSL_free(upstream);
    if (upstreamFd >= 0) close(upstreamFd);
    SSL_free(client);
    close(fd);
  };
  if (SSL_accept(client) != 1) return finish();

  std::string buffer;
  char chunk[16384];
  size_t headEnd;
  while ((headEnd = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > kMaxHead) return finish();
    int n = SSL_read(client, chunk, sizeof chunk);
    if (n <= 0) return finish();
    buffer.append(chunk, static_cast<size_t>(n));
  }
  auto head = parseRequestHead(std::string_view(buffer).substr(0, headEnd + 4));
  if (!head || head->chunked) {
    writeAll(client, statusResponse(400, 0));
    return finish();
  }
  FaultPlan::Decision fault = faults_.decide(requestVerb(head->method, head->watch), std::chrono::steady_clock::now());
  if (fault.delay.count() > 0) std::this_thread::sleep_for(fault.delay);
  if (fault.status != 0) {
    writeAll(client, statusResponse(fault.status, fault.retryAfterSeconds));
    return finish();
  }
  std::string body = buffer.substr(headEnd + 4);
  while (body.size() < head->contentLength) {
    int n = SSL_read(client, chunk, sizeof chunk);
    if (n <= 0) return finish();
    body.append(chunk, static_cast<size_t>(n));
  }

  // Upstream: a connection of its own, the upstream's certificate checked against the CA.
  upstreamFd = tcpSocket(options_.upstreamHost, options_.upstreamPort, false);
  if (upstreamFd < 0) return finish();  // as the API server's own refused connection would be
  upstream = SSL_new(static_cast<SSL_CTX*>(clientContext_));
  SSL_set_fd(upstream, upstreamFd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(upstream), options_.upstreamHost.c_str());
  if (SSL_connect(upstream) != 1) {
    spdlog::warn("event=upstream_tls_failed error=\"{}\"", openSslError());
    return finish();
  }
  std::string forwarded = fmt::format("{} {} HTTP/1.1\r\n", head->method, head->target);
  for (const auto& [name, value] : head->headers) {
    if (name != "connection" && name != "keep-alive") forwarded += fmt::format("{}: {}\r\n", name, value);
  }
  forwarded += "Connection: close\r\n\r\n";
  {
    std::lock_guard lock(mutex_);  // closeConnections reads it
    connection = {fd, upstreamFd, head->watch};
  }
  if (stopping_) return finish();
  if (!writeAll(upstream, forwarded) || !writeAll(upstream, body)) return finish();
  timeval none{0, 0};
  setsockopt(upstreamFd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);  // watches are long
  // Copy the answer back until the upstream ends it, or the client goes away (a watch the
  // client stopped would otherwise be held open until its next event).
  while (true) {
    if (SSL_pending(upstream) == 0) {
      pollfd fds[2] = {{upstreamFd, POLLIN, 0}, {fd, POLLRDHUP, 0}};
      if (poll(fds, 2, 1000) < 0) break;
      if ((fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) break;
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    }
    int n = SSL_read(upstream, chunk, sizeof chunk);
    if (n <= 0 || !writeAll(client, std::string_view(chunk, static_cast<size_t>(n)))) break;
  }
  finish();
}

void FaultProxy::closeConnections(bool watchesOnly) {
  std::lock_guard lock(mutex_);
  for (Connection* c : connections_) {
    if (watchesOnly && !c->watch) continue;
    // Both ends: the copying thread's reads fail and it cleans up.
    ::shutdown(c->client, SHUT_RDWR);
    if (c->upstream >= 0) ::shutdown(c->upstream, SHUT_RDWR);
  }
}

void FaultProxy::admin(httplib::Server& server) {
  auto reply = [](httplib::Response& res, int code, const nlohmann::json& body) {
    res.status = code;
    res.set_content(body.dump(), "application/json");
  };
  server.Post("/admin/fault", [this, reply](const httplib::Request& req, httplib::Response& res) {
    auto set = faults_.set([&](const char* name) { return req.has_param(name) ? req.get_param_value(name) : ""; },
                           std::chrono::steady_clock::now());
    if (!set) return reply(res, 400, {{"error", set.error().message}});
    reply(res, 200, {{"fault", req.get_param_value("mode")}});
  });
  server.Post("/admin/close-watches", [this, reply](const httplib::Request&, httplib::Response& res) {
    closeConnections(true);
    reply(res, 200, {{"closed", true}});
  });
  server.Post("/admin/outage", [this, reply](const httplib::Request& req, httplib::Response& res) {
    int seconds = req.has_param("seconds") ? std::atoi(req.get_param_value("seconds").c_str()) : 5;
    {
      std::lock_guard lock(mutex_);
      outageUntil_ = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    }
    closeConnections(false);
    reply(res, 200, {{"outage", true}});
  });
}

}  // namespace l2a::lab
