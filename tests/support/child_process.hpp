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
    // extra_env: "NAME=value" entries added to (or replacing those of) the test's environment.
    child_process(std::vector<std::string> argv, const std::string& stderr_file,
                  std::vector<std::string> extra_env = {}) {
        // The environment is built before fork: the child only calls async-signal-safe functions.
        std::vector<std::string> env_strings;
        for (char** e = environ; e && *e; ++e) {
            const std::string entry(*e);
            bool replaced = false;
            for (const auto& x : extra_env)
                replaced = replaced || entry.compare(0, x.find('=') + 1, x, 0, x.find('=') + 1) == 0;
            if (!replaced) env_strings.push_back(entry);
        }
        env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
        std::vector<char*> envp;
        for (auto& e : env_strings) envp.push_back(e.data());
        envp.push_back(nullptr);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);

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
            execve(args[0], args.data(), envp.data());
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
    // Sends a signal (SIGHUP: reload) without waiting.
    void send(int signal_number) {
        if (pid_ > 0) kill(pid_, signal_number);
    }
    bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
    pid_t pid() const { return pid_; }
    // Waits for an exit the child brings about itself (a crash point); its status, or -1 when it
    // is still running after timeout_ms.
    int wait_exit(int timeout_ms) {
        for (int waited = 0; pid_ > 0; waited += 10) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return status;
            }
            if (waited >= timeout_ms) return -1;
            usleep(10000);
        }
        return -1;
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
};

}  // namespace containd::testing
