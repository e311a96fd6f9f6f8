#pragma once
// Storage faults for in-process tests: a SQLite VFS that wraps the default one and, when armed,
// fails writes (SQLITE_FULL: disk full, or SQLITE_IOERR_WRITE) or syncs (SQLITE_IOERR_FSYNC),
// optionally only after a number of syncs still succeed (to hit the k-th commit). While
// installed it is the default VFS, so a store opened by path uses it. Like SQLite's own
// test_vfs / test_devsym, it changes nothing but the result codes.
//
//   faulty_vfs vfs;                    // installed for this scope
//   vfs.fail_syncs();                  // every commit from now on fails
//   vfs.fail_syncs(SQLITE_IOERR_FSYNC, 2);  // two more syncs succeed, then they fail
//   vfs.fail_writes(SQLITE_FULL);
//   vfs.heal();

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

namespace containd::testing {

class faulty_vfs {
public:
    faulty_vfs() {
        real_ = sqlite3_vfs_find(nullptr);
        if (!real_) throw std::runtime_error("no default SQLite VFS");
        vfs_ = *real_;
        vfs_.zName = "containd-faulty";
        vfs_.szOsFile = static_cast<int>(sizeof(file)) + real_->szOsFile;
        vfs_.pAppData = this;
        vfs_.pNext = nullptr;
        vfs_.xOpen = &open;
        vfs_.xDelete = [](sqlite3_vfs* v, const char* n, int s) { return self(v).real_->xDelete(self(v).real_, n, s); };
        vfs_.xAccess = [](sqlite3_vfs* v, const char* n, int f, int* r) {
            return self(v).real_->xAccess(self(v).real_, n, f, r);
        };
        vfs_.xFullPathname = [](sqlite3_vfs* v, const char* n, int size, char* out) {
            return self(v).real_->xFullPathname(self(v).real_, n, size, out);
        };
        vfs_.xRandomness = [](sqlite3_vfs* v, int n, char* out) {
            return self(v).real_->xRandomness(self(v).real_, n, out);
        };
        vfs_.xSleep = [](sqlite3_vfs* v, int us) { return self(v).real_->xSleep(self(v).real_, us); };
        vfs_.xCurrentTime = [](sqlite3_vfs* v, double* t) { return self(v).real_->xCurrentTime(self(v).real_, t); };
        vfs_.xGetLastError = [](sqlite3_vfs* v, int n, char* out) {
            return self(v).real_->xGetLastError(self(v).real_, n, out);
        };
        vfs_.xCurrentTimeInt64 = [](sqlite3_vfs* v, sqlite3_int64* t) {
            return self(v).real_->xCurrentTimeInt64(self(v).real_, t);
        };
        vfs_.xDlOpen = nullptr;  // extensions are not loaded
        vfs_.xDlError = nullptr;
        vfs_.xDlSym = nullptr;
        vfs_.xDlClose = nullptr;
        vfs_.xSetSystemCall = nullptr;
        vfs_.xGetSystemCall = nullptr;
        vfs_.xNextSystemCall = nullptr;
        vfs_.iVersion = 2;
        if (sqlite3_vfs_register(&vfs_, 1) != SQLITE_OK) throw std::runtime_error("cannot register the faulty VFS");
    }
    ~faulty_vfs() {
        sqlite3_vfs_unregister(&vfs_);
        sqlite3_vfs_register(real_, 1);
    }
    faulty_vfs(const faulty_vfs&) = delete;
    faulty_vfs& operator=(const faulty_vfs&) = delete;

    // Syncs fail with `code` once `after` more syncs have succeeded.
    void fail_syncs(int code = SQLITE_IOERR_FSYNC, int after = 0) {
        syncs_left_ = after;
        sync_error_ = code;
    }
    void fail_writes(int code = SQLITE_FULL) { write_error_ = code; }
    void heal() {
        sync_error_ = 0;
        write_error_ = 0;
        syncs_left_ = 0;
    }
    int injected() const { return injected_; }
    int syncs() const { return syncs_; }

private:
    struct file {
        sqlite3_file base;
        faulty_vfs* owner;
        sqlite3_file* real;
    };

    static faulty_vfs& self(sqlite3_vfs* v) { return *static_cast<faulty_vfs*>(v->pAppData); }
    static file& as(sqlite3_file* f) { return *reinterpret_cast<file*>(f); }
    static sqlite3_file* real(sqlite3_file* f) { return as(f).real; }

    static int open(sqlite3_vfs* v, sqlite3_filename name, sqlite3_file* out, int flags, int* out_flags) {
        file& f = as(out);
        f.owner = &self(v);
        f.real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(out) + sizeof(file));
        const int rc = f.owner->real_->xOpen(f.owner->real_, name, f.real, flags, out_flags);
        f.base.pMethods = rc == SQLITE_OK && f.real->pMethods ? &methods() : nullptr;
        return rc;
    }

    static const sqlite3_io_methods& methods() {
        static const sqlite3_io_methods m = [] {
            sqlite3_io_methods io{};
            io.iVersion = 3;
            io.xClose = [](sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); };
            io.xRead = [](sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
                return real(f)->pMethods->xRead(real(f), b, n, o);
            };
            io.xWrite = [](sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
                faulty_vfs& me = *as(f).owner;
                if (const int e = me.write_error_.load()) {
                    ++me.injected_;
                    return e;
                }
                return real(f)->pMethods->xWrite(real(f), b, n, o);
            };
            io.xTruncate = [](sqlite3_file* f, sqlite3_int64 s) { return real(f)->pMethods->xTruncate(real(f), s); };
            io.xSync = [](sqlite3_file* f, int flags) {
                faulty_vfs& me = *as(f).owner;
                ++me.syncs_;
                if (const int e = me.sync_error_.load()) {
                    if (me.syncs_left_ > 0) {
                        --me.syncs_left_;
                    } else {
                        ++me.injected_;
                        return e;
                    }
                }
                return real(f)->pMethods->xSync(real(f), flags);
            };
            io.xFileSize = [](sqlite3_file* f, sqlite3_int64* s) { return real(f)->pMethods->xFileSize(real(f), s); };
            io.xLock = [](sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); };
            io.xUnlock = [](sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); };
            io.xCheckReservedLock = [](sqlite3_file* f, int* r) {
                return real(f)->pMethods->xCheckReservedLock(real(f), r);
            };
            io.xFileControl = [](sqlite3_file* f, int op, void* a) {
                return real(f)->pMethods->xFileControl(real(f), op, a);
            };
            io.xSectorSize = [](sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); };
            io.xDeviceCharacteristics = [](sqlite3_file* f) {
                return real(f)->pMethods->xDeviceCharacteristics(real(f));
            };
            io.xShmMap = [](sqlite3_file* f, int pg, int sz, int ext, void volatile** p) {
                return real(f)->pMethods->xShmMap(real(f), pg, sz, ext, p);
            };
            io.xShmLock = [](sqlite3_file* f, int o, int n, int fl) {
                return real(f)->pMethods->xShmLock(real(f), o, n, fl);
            };
            io.xShmBarrier = [](sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); };
            io.xShmUnmap = [](sqlite3_file* f, int d) { return real(f)->pMethods->xShmUnmap(real(f), d); };
            io.xFetch = [](sqlite3_file* f, sqlite3_int64 o, int n, void** p) {
                return real(f)->pMethods->xFetch(real(f), o, n, p);
            };
            io.xUnfetch = [](sqlite3_file* f, sqlite3_int64 o, void* p) {
                return real(f)->pMethods->xUnfetch(real(f), o, p);
            };
            return io;
        }();
        return m;
    }

    sqlite3_vfs* real_ = nullptr;
    sqlite3_vfs vfs_{};
    std::atomic<int> write_error_{0}, sync_error_{0}, syncs_left_{0}, injected_{0}, syncs_{0};
};

}  // namespace containd::testing
