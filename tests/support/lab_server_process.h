// LabServerProcess: runs `l2a-lab apiserver` as a child process on a loopback port for a test,
// and stops it (SIGKILL or SIGTERM) on request or destruction. The binary comes from $L2A_LAB.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace l2a::testing {

class LabServerProcess {
 public:
  explicit LabServerProcess(std::vector<std::string> extraArgs = {}, int port = 0)
      : extraArgs_(std::move(extraArgs)) {
    start(port);
  }
  ~LabServerProcess() { stop(SIGKILL); }

  void start(int port) {
    const char* binary = std::getenv("L2A_LAB");
    if (binary == nullptr) throw std::runtime_error("L2A_LAB is not set");
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      std::vector<std::string> args{binary, "apiserver", "--listen",
                                    "127.0.0.1:" + std::to_string(port)};
      args.insert(args.end(), extraArgs_.begin(), extraArgs_.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary, argv.data());
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[512] = {0};
    if (fgets(line, sizeof line, out) == nullptr) throw std::runtime_error("l2a-lab printed nothing");
    fclose(out);
    std::string text(line);
    auto at = text.find("http://");
    if (at == std::string::npos) throw std::runtime_error("unexpected: " + text);
    url_ = text.substr(at);
    url_.erase(url_.find_last_not_of("\r\n") + 1);
    port_ = std::stoi(url_.substr(url_.rfind(':') + 1));
  }
  void stop(int signal = SIGTERM) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  void restart() {
    stop(SIGKILL);
    start(port_);
  }
  const std::string& url() const { return url_; }
  int port() const { return port_; }

 private:
  std::vector<std::string> extraArgs_;
  pid_t pid_ = -1;
  std::string url_;
  int port_ = 0;
};

}  // namespace l2a::testing
