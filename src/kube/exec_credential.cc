#include "kube/exec_credential.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace l2a::kube {
namespace {

using Json = nlohmann::json;

std::string base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

// The plugin's stderr on one line: its last lines, trimmed, joined by "; ".
std::string oneLine(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  if (lines.size() > 3) lines.erase(lines.begin(), lines.end() - 3);
  return lines.empty() ? std::string("(nothing on stderr)") : fmt::format("{}", fmt::join(lines, "; "));
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parseRfc3339(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second, &used) != 6 ||
      used != 19) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    size_t digits = 0;
    int64_t micros = 0;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++digits) {
      if (digits < 6) micros = micros * 10 + (text[i] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (size_t d = digits; d < 6; ++d) micros *= 10;
    t += std::chrono::microseconds(micros);
  }
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z') && i + 1 == text.size()) return t;
  int offsetHours = 0, offsetMinutes = 0;
  if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-') &&
      std::sscanf(text.c_str() + i + 1, "%2d:%2d", &offsetHours, &offsetMinutes) == 2 && offsetHours < 24 &&
      offsetMinutes < 60) {
    auto offset = std::chrono::hours(offsetHours) + std::chrono::minutes(offsetMinutes);
    return text[i] == '+' ? t - offset : t + offset;
  }
  return std::nullopt;
}

Result<ExecCredential> parseExecCredential(std::string_view output, const std::string& apiVersion) {
  Json j = Json::parse(output, nullptr, false);
  if (!j.is_object()) return fail("credentials", "exec plugin's output is not a JSON object");
  if (j.value("kind", Json()) != Json("ExecCredential")) {
    return fail("credentials", "exec plugin's output is not an ExecCredential (kind)");
  }
  Json version = j.value("apiVersion", Json());
  if (version != Json(apiVersion)) {
    return fail("credentials", fmt::format("exec plugin is configured for {} but returned {}", apiVersion,
                                           version.is_string() ? version.get<std::string>() : version.dump()));
  }
  Json status = j.value("status", Json());
  if (!status.is_object()) return fail("credentials", "exec plugin's ExecCredential has no status");
  ExecCredential c;
  auto field = [&](const char* name, std::string& out) -> Status<> {
    if (!status.contains(name)) return Ok{};
    if (!status[name].is_string()) return fail("credentials", fmt::format("exec plugin's status.{} is not a string", name));
    out = status[name].get<std::string>();
    return Ok{};
  };
  for (auto [name, out] : {std::pair{"token", &c.token}, std::pair{"clientCertificateData", &c.clientCertificate},
                           std::pair{"clientKeyData", &c.clientKey}}) {
    if (auto s = field(name, *out); !s) return fail(s.error());
  }
  if (c.clientCertificate.empty() != c.clientKey.empty()) {
    return fail("credentials", "exec plugin returned a client certificate without its key, or a key without its certificate");
  }
  if (c.token.empty() && c.clientCertificate.empty()) {
    return fail("credentials", "exec plugin returned neither a token nor a client certificate and key");
  }
  if (status.contains("expirationTimestamp") && !status["expirationTimestamp"].is_null()) {
    std::string text = status["expirationTimestamp"].is_string() ? status["expirationTimestamp"].get<std::string>() : "";
    c.expires = parseRfc3339(text);
    if (!c.expires) {
      return fail("credentials", fmt::format("exec plugin's status.expirationTimestamp {} is not RFC 3339",
                                             status["expirationTimestamp"].dump()));
    }
  }
  return c;
}

Result<std::string> runExecPlugin(const ExecConfig& config, const std::string& execInfo,
                                  std::chrono::milliseconds timeout) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return fail("credentials", fmt::format("exec plugin: pipe: {}", std::strerror(errno)));
  if (pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return fail("credentials", fmt::format("exec plugin: pipe: {}", std::strerror(errno)));
  }
  // Built before the spawn: the child only execs.
  std::vector<std::string> envStrings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    bool replaced = entry.rfind("KUBERNETES_EXEC_INFO=", 0) == 0;
    for (const auto& [name, value] : config.env) replaced = replaced || entry.rfind(name + "=", 0) == 0;
    if (!replaced) envStrings.push_back(std::move(entry));
  }
  for (const auto& [name, value] : config.env) envStrings.push_back(name + "=" + value);
  envStrings.push_back("KUBERNETES_EXEC_INFO=" + execInfo);
  std::vector<char*> envp, argv;
  for (auto& s : envStrings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args{config.command};
  args.insert(args.end(), config.args.begin(), config.args.end());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);  // no terminal, no input
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, config.command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (spawned != 0) {
    ::close(out[0]);
    ::close(err[0]);
    std::string hint = config.installHint.empty() ? "" : "; " + oneLine(config.installHint);
    return fail("credentials", fmt::format("exec plugin: cannot run '{}': {}{}", config.command, std::strerror(spawned), hint));
  }
  std::string stdoutText, stderrText;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timedOut = false;
  std::array<pollfd, 2> fds{pollfd{out[0], POLLIN, 0}, pollfd{err[0], POLLIN, 0}};
  char buffer[4096];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    if (poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        std::string& to = i == 0 ? stdoutText : stderrText;
        if (to.size() < (1 << 20)) to.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
      }
    }
  }
  for (const auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  if (timedOut) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timedOut) {
    return fail("credentials", fmt::format("exec plugin '{}' did not finish within {} s", config.command,
                                           timeout.count() / 1000));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status))
                                        : fmt::format("signal {}", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return fail("credentials", fmt::format("exec plugin '{}' failed ({}): {}", config.command, how, oneLine(stderrText)));
  }
  return stdoutText;
}

ExecCredentialSource::ExecCredentialSource(ExecConfig config, std::string server, std::string certificateAuthority,
                                           Runner runner, Clock now)
    : config_(std::move(config)),
      server_(std::move(server)),
      certificateAuthority_(std::move(certificateAuthority)),
      runner_(runner ? std::move(runner) : Runner([](const ExecConfig& c, const std::string& info) { return runExecPlugin(c, info); })),
      now_(now ? std::move(now) : Clock([] { return std::chrono::system_clock::now(); })) {}

std::string ExecCredentialSource::execInfo() const {
  Json info{{"apiVersion", config_.apiVersion}, {"kind", "ExecCredential"}, {"spec", {{"interactive", false}}}};
  if (config_.provideClusterInfo) {
    Json cluster{{"server", server_}};
    if (!certificateAuthority_.empty()) cluster["certificate-authority-data"] = base64(certificateAuthority_);
    info["spec"]["cluster"] = cluster;
  }
  return info.dump();
}

Result<ExecCredential> ExecCredentialSource::get() {
  std::lock_guard lock(mutex_);
  if (cached_ && (!cached_->expires || now_() < *cached_->expires)) return *cached_;
  cached_.reset();
  ++runs_;
  auto output = runner_(config_, execInfo());
  if (!output) return fail(output.error());
  auto credential = parseExecCredential(*output, config_.apiVersion);
  if (!credential) return fail(credential.error());
  cached_ = *credential;
  return *credential;
}

void ExecCredentialSource::invalidate() {
  std::lock_guard lock(mutex_);
  cached_.reset();
}

uint64_t ExecCredentialSource::runs() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

}  // namespace l2a::kube
