#pragma once
// A child process for system tests: fork/exec with stdout on a pipe (the daemons print one JSON
// line once they listen) and stderr to a file, then SIGKILL, SIGTERM and wait.

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace containd::testing {

class child_process {
public:
    child_process(std::vector<std::string> argv, const std::string& stderr_file) {
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            dup2(fds[1], STDOUT_FILENO);
            const int err = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (err >= 0) dup2(err, STDERR_FILENO);
            close(fds[0]);
            close(fds[1]);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            execv(args[0], args.data());
            _exit(127);
        }
        close(fds[1]);
        out_ = fds[0];
    }
    ~child_process() {
        kill_hard();
        if (out_ >= 0) close(out_);
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // The first line of stdout as JSON (null after timeout_ms or when the process exits first).
    nlohmann::json ready_line(int timeout_ms = 20000) {
        std::string line;
        char c;
        while (line.find('\n') == std::string::npos) {
            pollfd p{out_, POLLIN, 0};
            if (poll(&p, 1, timeout_ms) <= 0) return nullptr;
            if (read(out_, &c, 1) != 1) return nullptr;
            line.push_back(c);
        }
        return nlohmann::json::parse(line, nullptr, false);
    }
    void kill_hard() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    // SIGTERM, then the exit status (as from waitpid).
    int terminate() {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return status;
    }
    bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int out_ = -1;
};

}  // namespace containd::testing
