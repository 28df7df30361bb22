#include "plugins/content/local_store.hpp"

#include "core/fs/atomic_file.hpp"
#include "core/fs/unique_fd.hpp"
#include "core/metadata/identifiers.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <openssl/evp.h>
#include <random>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gantry::content {

namespace {

using fs::UniqueFd;

constexpr std::size_t kCopyBuffer = 1 << 20;

Timestamp now_ts() {
    return metadata::to_timestamp(std::chrono::system_clock::now());
}

Timestamp from_timespec(const struct timespec& t) {
    return Timestamp{static_cast<std::int64_t>(t.tv_sec), static_cast<std::int32_t>(t.tv_nsec)};
}

// RFC 3339 with nanoseconds, trailing zeros of the fraction dropped (Go's RFC3339Nano).
std::string format_rfc3339(Timestamp t) {
    std::time_t secs = static_cast<std::time_t>(t.seconds);
    struct tm tm {};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out = buf;
    if (t.nanos != 0) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%09d", t.nanos);
        std::string f = frac;
        while (f.back() == '0')
            f.pop_back();
        out += f;
    }
    return out + "Z";
}

// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)".
Result<Timestamp> parse_rfc3339(std::string_view s) {
    auto bad = [&] { return Error(Errc::DataLoss, "bad timestamp \"" + std::string(s) + "\""); };
    if (s.size() < 20) return bad();
    struct tm tm {};
    std::string head(s.substr(0, 19));
    if (!strptime(head.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return bad();
    std::int64_t secs = timegm(&tm);
    std::size_t i = 19;
    std::int32_t nanos = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        int digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (digits < 9) {
                nanos = nanos * 10 + (s[i] - '0');
                ++digits;
            }
            ++i;
        }
        for (; digits < 9; ++digits)
            nanos *= 10;
    }
    if (i >= s.size()) return bad();
    if (s[i] == 'Z') {
        if (i + 1 != s.size()) return bad();
    } else if ((s[i] == '+' || s[i] == '-') && s.size() == i + 6) {
        int hh = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
        int mm = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
        std::int64_t off = (hh * 60 + mm) * 60;
        secs += s[i] == '+' ? -off : off;
    } else {
        return bad();
    }
    return Timestamp{secs, nanos};
}

// Go's time.Duration.String, enough for lock messages ("1.234ms", "2.5s").
std::string format_duration(std::chrono::nanoseconds d) {
    auto ns = d.count();
    char buf[64];
    if (ns < 1000) {
        std::snprintf(buf, sizeof buf, "%" PRId64 "ns", static_cast<std::int64_t>(ns));
        return buf;
    }
    double v;
    const char* unit;
    if (ns < 1000000) {
        v = ns / 1e3;
        unit = "µs";
    } else if (ns < 1000000000) {
        v = ns / 1e6;
        unit = "ms";
    } else {
        v = ns / 1e9;
        unit = "s";
    }
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return std::string(buf) + unit;
}

// Write via temp name + rename so a reader sees the old or the new timestamp, never a torn one.
// No fsync: a lost or stale timestamp makes the ingest "corrupt", which only restarts it.
Status write_small_file(const std::string& path, std::string_view data) {
    std::string tmp = path + ".tmp";
    {
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd) return from_errno(errno, "create " + tmp);
        if (::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()))
            return from_errno(errno, "write " + tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) return from_errno(errno, "rename " + tmp);
    return {};
}

Status fsync_dir(const std::string& dir) {
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd) return from_errno(errno, "open " + dir);
    if (::fsync(dfd.get()) != 0) return from_errno(errno, "fsync " + dir);
    return {};
}

// An EVP digest context, reset-able, whose value can be read without ending it.
class Hasher {
public:
    explicit Hasher(const EVP_MD* md) : md_(md), ctx_(EVP_MD_CTX_new()) { reset(); }
    ~Hasher() { EVP_MD_CTX_free(ctx_); }
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    void reset() { EVP_DigestInit_ex(ctx_, md_, nullptr); }
    void update(const void* p, std::size_t n) { EVP_DigestUpdate(ctx_, p, n); }
    std::string hex() const {
        EVP_MD_CTX* copy = EVP_MD_CTX_new();
        EVP_MD_CTX_copy_ex(copy, ctx_);
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(copy, out, &len);
        EVP_MD_CTX_free(copy);
        static constexpr char kHex[] = "0123456789abcdef";
        std::string s;
        s.reserve(len * 2);
        for (unsigned int i = 0; i < len; ++i) {
            s.push_back(kHex[out[i] >> 4]);
            s.push_back(kHex[out[i] & 15]);
        }
        return s;
    }

private:
    const EVP_MD* md_;
    EVP_MD_CTX* ctx_;
};

std::string sha256_hex(std::string_view s) {
    Hasher h(EVP_sha256());
    h.update(s.data(), s.size());
    return h.hex();
}

class FileReader final : public ReaderAt {
public:
    FileReader(UniqueFd fd, std::int64_t size) : fd_(std::move(fd)), size_(size) {}
    std::int64_t size() const override { return size_; }
    Result<std::size_t> read_at(std::int64_t offset, std::span<char> buf) override {
        if (offset < 0) return invalid_argument("negative read offset");
        for (;;) {
            ssize_t n = ::pread(fd_.get(), buf.data(), buf.size(), offset);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return from_errno(errno, "read blob");
            return static_cast<std::size_t>(n);
        }
    }

private:
    UniqueFd fd_;
    std::int64_t size_;
};

Result<std::int64_t> read_total(const std::string& dir) {
    auto t = fs::read_file(dir + "/total", 64);
    if (!t.ok()) return std::int64_t{0};
    try {
        return static_cast<std::int64_t>(std::stoll(*t));
    } catch (...) {
        return std::int64_t{0};
    }
}

class LocalWriter final : public Writer {
public:
    LocalWriter(LocalStore& store, std::string bref, std::string dir, UniqueFd fd,
                std::int64_t offset, std::int64_t total, Timestamp started, Timestamp updated,
                std::unique_ptr<Hasher> hash)
        : store_(store), bref_(std::move(bref)), dir_(std::move(dir)), fd_(std::move(fd)),
          offset_(offset), total_(total), started_(started), updated_(updated),
          hash_(std::move(hash)) {}
    ~LocalWriter() override { store_.unlock(bref_); }

    Result<IngestStatus> status() override {
        if (!fd_) return failed_precondition("writer is closed");
        IngestStatus st;
        st.ref = bref_;
        st.offset = offset_;
        st.total = total_;
        st.started_at = started_;
        st.updated_at = updated_;
        struct stat sb {};
        if (::fstat(fd_.get(), &sb) == 0) {
            Timestamp m = from_timespec(sb.st_mtim);
            if (m > st.updated_at) st.updated_at = m;
        }
        return st;
    }

    std::string digest() override { return "sha256:" + hash_->hex(); }

    Status write(std::string_view data) override {
        if (!fd_) return failed_precondition("cannot write on closed writer");
        std::size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::pwrite(fd_.get(), data.data() + done, data.size() - done,
                                 offset_ + static_cast<std::int64_t>(done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                // Keep what was written consistent with the hash: drop the partial tail.
                int e = errno;
                (void)::ftruncate(fd_.get(), offset_);
                return from_errno(e, "write ingest " + bref_);
            }
            done += static_cast<std::size_t>(n);
        }
        hash_->update(data.data(), data.size());
        offset_ += static_cast<std::int64_t>(data.size());
        return {};
    }

    Status truncate(std::int64_t size) override {
        if (!fd_) return failed_precondition("cannot truncate closed writer");
        if (size != 0) return invalid_argument("truncate only supports size 0");
        if (::ftruncate(fd_.get(), 0) != 0) return from_errno(errno, "truncate ingest " + bref_);
        hash_->reset();
        offset_ = 0;
        started_ = updated_ = now_ts();
        GANTRY_TRY(write_small_file(dir_ + "/startedat", format_rfc3339(started_)));
        return write_small_file(dir_ + "/updatedat", format_rfc3339(updated_));
    }

    Status commit(std::int64_t size, std::string_view expected, const Labels&) override {
        UniqueFd fd = std::move(fd_);
        if (!fd) return failed_precondition("cannot commit on closed writer");
        if (::fsync(fd.get()) != 0) return from_errno(errno, "sync failed");
        struct stat sb {};
        if (::fstat(fd.get(), &sb) != 0) return from_errno(errno, "stat on ingest file failed");
        if (size > 0 && size != sb.st_size)
            return failed_precondition("unexpected commit size " + std::to_string(sb.st_size) +
                                       ", expected " + std::to_string(size));
        std::string dgst = digest();
        if (!expected.empty() && expected != dgst)
            return failed_precondition("unexpected commit digest " + dgst + ", expected " +
                                       std::string(expected));
        GANTRY_ASSIGN_OR_RETURN(std::string target, store_.blob_path(dgst));
        std::string target_dir = target.substr(0, target.rfind('/'));
        GANTRY_TRY(fs::mkdir_all(target_dir, 0755));
        struct stat tb {};
        if (::stat(target.c_str(), &tb) == 0) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
            return already_exists("content " + dgst);
        }
        // Read-only before it becomes visible, so no one ever sees a writable blob.
        if (::fchmod(fd.get(), 0444) != 0) return from_errno(errno, "chmod ingest data");
        struct timespec times[2];
        clock_gettime(CLOCK_REALTIME, &times[0]);
        times[1] = times[0];
        (void)::futimens(fd.get(), times);
        fd.reset();
        std::string data = dir_ + "/data";
        if (::rename(data.c_str(), target.c_str()) != 0)
            return from_errno(errno, "rename ingest to " + target);
        GANTRY_TRY(fsync_dir(target_dir));
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        return {};
    }

private:
    LocalStore& store_;
    std::string bref_;
    std::string dir_;
    UniqueFd fd_;
    std::int64_t offset_;
    std::int64_t total_;
    Timestamp started_;
    Timestamp updated_;
    std::unique_ptr<Hasher> hash_;
};

// Reads the ingest's recorded status (not its hash).
Result<IngestStatus> read_status(const std::string& dir) {
    struct stat sb {};
    if (::stat((dir + "/data").c_str(), &sb) != 0) return from_errno(errno, "stat ingest data");
    auto ref = fs::read_file(dir + "/ref", 64 * 1024);
    if (!ref.ok()) return std::move(ref).error();
    IngestStatus st;
    st.ref = std::move(*ref);
    st.offset = sb.st_size;
    GANTRY_ASSIGN_OR_RETURN(st.total, read_total(dir));
    auto started = fs::read_file(dir + "/startedat", 128);
    if (!started.ok()) return Error(Errc::Unknown, "could not read startedat");
    auto updated = fs::read_file(dir + "/updatedat", 128);
    if (!updated.ok()) return Error(Errc::Unknown, "could not read updatedat");
    GANTRY_ASSIGN_OR_RETURN(st.started_at, parse_rfc3339(*started));
    GANTRY_ASSIGN_OR_RETURN(st.updated_at, parse_rfc3339(*updated));
    Timestamp m = from_timespec(sb.st_mtim);
    if (m > st.updated_at) st.updated_at = m;
    return st;
}

} // namespace

Result<std::shared_ptr<LocalStore>> LocalStore::open(const std::string& root) {
    GANTRY_TRY(fs::mkdir_all(root + "/blobs", 0755));
    GANTRY_TRY(fs::mkdir_all(root + "/ingest", 0755));
    return std::shared_ptr<LocalStore>(new LocalStore(root));
}

Result<std::string> LocalStore::blob_path(std::string_view digest) const {
    if (auto st = metadata::validate_digest(digest); !st.ok())
        return invalid_argument("cannot calculate blob path from invalid digest: " +
                                st.error().message());
    auto colon = digest.find(':');
    return root_ + "/blobs/" + std::string(digest.substr(0, colon)) + "/" +
           std::string(digest.substr(colon + 1));
}

std::string LocalStore::ingest_path(std::string_view bref) const {
    return root_ + "/ingest/" + sha256_hex(bref);
}

Status LocalStore::lock(const std::string& bref) {
    std::mt19937 rng(std::random_device{}());
    std::string last;
    for (unsigned count = 0; count < 10; ++count) {
        {
            std::lock_guard g(locks_mu_);
            auto now = std::chrono::system_clock::now();
            auto it = locks_.find(bref);
            if (it == locks_.end()) {
                locks_.emplace(bref, now);
                return {};
            }
            last = "ref " + bref + " locked for " + format_duration(now - it->second) + " (since " +
                   format_rfc3339(metadata::to_timestamp(it->second)) + ")";
        }
        std::uniform_int_distribution<int> d(0, (1 << count) - 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(d(rng)));
    }
    return unavailable(last);
}

void LocalStore::unlock(const std::string& bref) {
    std::lock_guard g(locks_mu_);
    locks_.erase(bref);
}

Result<Info> LocalStore::info(std::string_view digest) {
    GANTRY_ASSIGN_OR_RETURN(std::string p, blob_path(digest));
    struct stat sb {};
    if (::stat(p.c_str(), &sb) != 0) {
        if (errno == ENOENT) return not_found("content " + std::string(digest));
        return from_errno(errno, "stat " + p);
    }
    Info i;
    i.digest = std::string(digest);
    i.size = sb.st_size;
    i.created_at = from_timespec(sb.st_mtim);
    i.updated_at = from_timespec(sb.st_atim);
    return i;
}

Result<std::unique_ptr<ReaderAt>> LocalStore::reader(std::string_view digest) {
    GANTRY_ASSIGN_OR_RETURN(std::string p, blob_path(digest));
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return not_found("blob " + std::string(digest) + " expected at " + p);
        return from_errno(errno, "open " + p);
    }
    struct stat sb {};
    if (::fstat(fd.get(), &sb) != 0) return from_errno(errno, "stat " + p);
    return std::unique_ptr<ReaderAt>(std::make_unique<FileReader>(std::move(fd), sb.st_size));
}

Result<std::unique_ptr<Writer>> LocalStore::writer(std::string_view bref_view, std::int64_t total,
                                                   std::string_view expected) {
    std::string bref(bref_view);
    if (bref.empty()) return invalid_argument("ref must not be empty");
    GANTRY_TRY(lock(bref));
    // From here the lock is ours; the writer releases it, and every early return must too.
    struct Unlocker {
        LocalStore* s;
        std::string* ref;
        ~Unlocker() {
            if (s) s->unlock(*ref);
        }
    } unlocker{this, &bref};

    if (!expected.empty()) {
        GANTRY_ASSIGN_OR_RETURN(std::string p, blob_path(expected));
        struct stat sb {};
        if (::stat(p.c_str(), &sb) == 0) return already_exists("content " + std::string(expected));
    }

    std::string dir = ingest_path(bref);
    std::string data = dir + "/data";
    Timestamp started, updated;
    std::int64_t offset = 0;
    bool resumed = false;
    auto hasher = std::make_unique<Hasher>(EVP_sha256());
    UniqueFd fd;

    if (::mkdir(dir.c_str(), 0755) != 0) {
        if (errno != EEXIST) return from_errno(errno, "mkdir " + dir);
        // Resume: the recorded status must be readable and ours, and the data is re-hashed.
        auto st = read_status(dir);
        if (st.ok() && st->ref == bref && !(total > 0 && st->total > 0 && total != st->total)) {
            fd.reset(::open(data.c_str(), O_RDWR | O_CLOEXEC));
            if (fd) {
                std::vector<char> buf(kCopyBuffer);
                std::int64_t n_total = 0;
                bool ok = true;
                for (;;) {
                    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
                    if (n < 0 && errno == EINTR) continue;
                    if (n < 0) {
                        ok = false;
                        break;
                    }
                    if (n == 0) break;
                    hasher->update(buf.data(), static_cast<std::size_t>(n));
                    n_total += n;
                }
                if (ok) {
                    resumed = true;
                    offset = n_total;
                    started = st->started_at;
                    updated = st->updated_at;
                    total = st->total > 0 && total <= 0 ? st->total : total;
                } else {
                    fd.reset();
                    hasher->reset();
                }
            }
        } else if (st.ok() && st->ref != bref) {
            return unknown_error("ref key does not match: " + bref + " != " + st->ref);
        }
    }

    if (!resumed) {
        // A new ingest, or one too damaged to resume: (re)create it from nothing.
        started = updated = now_ts();
        GANTRY_TRY(write_small_file(dir + "/ref", bref));
        GANTRY_TRY(write_small_file(dir + "/startedat", format_rfc3339(started)));
        GANTRY_TRY(write_small_file(dir + "/updatedat", format_rfc3339(started)));
        if (total > 0) {
            GANTRY_TRY(write_small_file(dir + "/total", std::to_string(total)));
        } else {
            ::unlink((dir + "/total").c_str());
        }
        fd.reset(::open(data.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd) return from_errno(errno, "failed to open data file");
    } else if (total > 0) {
        struct stat sb {};
        if (::stat((dir + "/total").c_str(), &sb) != 0)
            GANTRY_TRY(write_small_file(dir + "/total", std::to_string(total)));
    }

    auto w = std::make_unique<LocalWriter>(*this, bref, dir, std::move(fd), offset, total, started,
                                           updated, std::move(hasher));
    unlocker.s = nullptr; // the writer owns the lock now
    return std::unique_ptr<Writer>(std::move(w));
}

Result<IngestStatus> LocalStore::status(std::string_view bref) {
    std::string dir = ingest_path(bref);
    auto st = read_status(dir);
    if (!st.ok()) {
        if (st.error().is(Errc::NotFound))
            return not_found("ingest ref \"" + std::string(bref) + "\"");
        return std::move(st).error();
    }
    return st;
}

Status LocalStore::abort(std::string_view bref) {
    std::string dir = ingest_path(bref);
    struct stat sb {};
    if (::stat(dir.c_str(), &sb) != 0) return not_found("ingest ref \"" + std::string(bref) + "\"");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) return unknown_error("remove " + dir + ": " + ec.message());
    return {};
}

Result<std::vector<std::string>> LocalStore::list_blobs() {
    std::vector<std::string> out;
    for (const char* alg : {"sha256", "sha384", "sha512"}) {
        std::string dir = root_ + "/blobs/" + alg;
        DIR* d = ::opendir(dir.c_str());
        if (!d) continue;
        while (auto* e = ::readdir(d)) {
            std::string name = e->d_name;
            std::string dg = std::string(alg) + ":" + name;
            if (metadata::validate_digest(dg).ok()) out.push_back(std::move(dg));
        }
        ::closedir(d);
    }
    return out;
}

Status LocalStore::delete_blob(const std::string& digest) {
    GANTRY_ASSIGN_OR_RETURN(std::string p, blob_path(digest));
    if (::unlink(p.c_str()) != 0) {
        if (errno == ENOENT) return not_found("content " + digest);
        return from_errno(errno, "remove " + p);
    }
    return {};
}

Result<std::vector<std::string>> LocalStore::list_ingests() {
    std::vector<std::string> out;
    std::string dir = root_ + "/ingest";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return from_errno(errno, "open " + dir);
    while (auto* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        auto ref = fs::read_file(dir + "/" + name + "/ref", 64 * 1024);
        if (ref.ok()) out.push_back(std::move(*ref));
    }
    ::closedir(d);
    return out;
}

Status LocalStore::abort_ingest(const std::string& backend_ref) {
    return abort(backend_ref);
}

} // namespace gantry::content
