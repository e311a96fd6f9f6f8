// A test-only LD_PRELOAD shim for the system tests: it sits between containd's SQLite and the C
// library and acts only on the files whose path starts with CONTAIND_SHIM_MATCH (the database,
// its -wal and -journal; not the mapped -shm), so the log, the sockets and everything else are untouched.
//
//   CONTAIND_SHIM_MATCH=/tmp/x/containd.db   which files (path prefix, as /proc/self/fd shows it)
//   CONTAIND_SHIM_KILL_AT_SYNC=N             SIGKILL the process on entering its Nth sync
//                                            (fsync or fdatasync) of a matched file: a crash point
//   CONTAIND_SHIM_CONTROL=/tmp/x/faults      re-read on every matched call; its content switches
//                                            storage faults on and off while the process runs:
//                                              "write=EIO" / "write=ENOSPC": writes fail
//                                              "sync=EIO"  / "sync=ENOSPC":  syncs fail
//                                            (both may be given, one per line; empty: no fault)
//   CONTAIND_SHIM_COUNT=/tmp/x/counts        rewritten after every matched call:
//                                            "syncs=N writes=N injected=N"
//
// Why not strace's injection: strace counts per thread and per syscall, cannot tell the database
// from a socket without -P (which follows the path at call time), and killing strace leaves the
// tracee running. Here the daemon stays the test's direct child, only database files are touched,
// and the count file tells a calibration run how many crash points an incident has.

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using write_fn = ssize_t (*)(int, const void*, size_t);
using pwrite_fn = ssize_t (*)(int, const void*, size_t, off_t);
using writev_fn = ssize_t (*)(int, const struct iovec*, int);
using sync_fn = int (*)(int);

template <typename Fn>
Fn next(const char* name) {
    return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

std::atomic<long> syncs{0}, writes{0}, injected{0};

const char* env(const char* name) {
    const char* v = std::getenv(name);
    return v && *v ? v : nullptr;
}

// Whether fd is one of the files this shim acts on.
bool matched(int fd) {
    const char* prefix = env("CONTAIND_SHIM_MATCH");
    if (!prefix || fd < 0) return false;
    char link[64], path[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return false;
    path[n] = '\0';
    if (std::strncmp(path, prefix, std::strlen(prefix)) != 0) return false;
    // The shared-memory index is mapped, not written: a fault there is not a disk fault.
    return !(n > 4 && std::strcmp(path + n - 4, "-shm") == 0);
}

// The errno the control file asks for on this kind of call ("write" or "sync"), or 0.
int wanted_error(const char* kind) {
    const char* control = env("CONTAIND_SHIM_CONTROL");
    if (!control) return 0;
    const int fd = open(control, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char text[256];
    const ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return 0;
    text[n] = '\0';
    const std::size_t len = std::strlen(kind);
    for (const char* line = text; line && *line;
         line = std::strchr(line, '\n') ? std::strchr(line, '\n') + 1 : nullptr) {
        if (std::strncmp(line, kind, len) != 0 || line[len] != '=') continue;
        const char* value = line + len + 1;
        if (std::strncmp(value, "EIO", 3) == 0) return EIO;
        if (std::strncmp(value, "ENOSPC", 6) == 0) return ENOSPC;
    }
    return 0;
}

void publish_counts() {
    const char* out = env("CONTAIND_SHIM_COUNT");
    if (!out) return;
    // Fixed width, rewritten in place with one pwrite: a reader never sees a truncated file.
    char text[128];
    const int n = std::snprintf(text, sizeof text, "syncs=%012ld writes=%012ld injected=%012ld\n", syncs.load(),
                                writes.load(), injected.load());
    const int fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    static const auto real_pwrite = next<pwrite_fn>("pwrite");
    if (real_pwrite(fd, text, static_cast<size_t>(n), 0) < 0) {}
    close(fd);
}

// Before a matched write: the injected errno, or 0 to go ahead.
int before_write(int fd) {
    if (!matched(fd)) return 0;
    ++writes;
    const int e = wanted_error("write");
    if (e) ++injected;
    publish_counts();
    return e;
}

int before_sync(int fd) {
    if (!matched(fd)) return 0;
    const long n = ++syncs;
    publish_counts();
    if (const char* k = env("CONTAIND_SHIM_KILL_AT_SYNC"); k && std::atol(k) == n) kill(getpid(), SIGKILL);
    const int e = wanted_error("sync");
    if (e) {
        ++injected;
        publish_counts();
    }
    return e;
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
    static const auto real = next<write_fn>("write");
    if (const int e = before_write(fd)) {
        errno = e;
        return -1;
    }
    return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
    static const auto real = next<pwrite_fn>("pwrite");
    if (const int e = before_write(fd)) {
        errno = e;
        return -1;
    }
    return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
    static const auto real = next<pwrite_fn>("pwrite64");
    if (const int e = before_write(fd)) {
        errno = e;
        return -1;
    }
    return real(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
    static const auto real = next<writev_fn>("writev");
    if (const int e = before_write(fd)) {
        errno = e;
        return -1;
    }
    return real(fd, iov, iovcnt);
}

int fsync(int fd) {
    static const auto real = next<sync_fn>("fsync");
    if (const int e = before_sync(fd)) {
        errno = e;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd) {
    static const auto real = next<sync_fn>("fdatasync");
    if (const int e = before_sync(fd)) {
        errno = e;
        return -1;
    }
    return real(fd);
}

}  // extern "C"
