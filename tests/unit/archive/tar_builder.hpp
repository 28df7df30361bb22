// Builds layer tars in memory for the tests: libarchive's writer for well-formed entries (any
// name, even hostile ones, since the writer does not sanitise), and raw ustar headers for the
// malformed ones the writer refuses to produce. Plus gzip/zstd compression and sha256.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <openssl/evp.h>
#include <random>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <utility>
#include <vector>
#include <zlib.h>
#include <zstd.h>

namespace gantry::archive::testing {

struct Entry {
    std::string name;
    unsigned type = AE_IFREG; // AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO, AE_IFCHR, AE_IFBLK
    std::string data;         // file contents
    std::string link;         // symlink target
    std::string hardlink;     // hard link target (type ignored)
    unsigned mode = 0644;
    std::int64_t uid = 0, gid = 0;
    std::int64_t mtime = 1'600'000'000, mtime_nsec = 0;
    unsigned rdev_major = 0, rdev_minor = 0;
    std::map<std::string, std::string> xattrs;
    std::int64_t size = -1; // header size when it must differ from data (>= 0)
    // Sparse map (offset, length) of data regions; `data` then holds the full logical file.
    std::vector<std::pair<std::int64_t, std::int64_t>> sparse;
};

inline Entry dir(std::string name, unsigned mode = 0755) {
    Entry e;
    e.name = std::move(name);
    e.type = AE_IFDIR;
    e.mode = mode;
    return e;
}
inline Entry file(std::string name, std::string data, unsigned mode = 0644) {
    Entry e;
    e.name = std::move(name);
    e.data = std::move(data);
    e.mode = mode;
    return e;
}
inline Entry symlink(std::string name, std::string target) {
    Entry e;
    e.name = std::move(name);
    e.type = AE_IFLNK;
    e.link = std::move(target);
    e.mode = 0777;
    return e;
}
inline Entry hardlink(std::string name, std::string target) {
    Entry e;
    e.name = std::move(name);
    e.hardlink = std::move(target);
    return e;
}
inline Entry node(std::string name, unsigned type, unsigned major = 0, unsigned minor = 0) {
    Entry e;
    e.name = std::move(name);
    e.type = type;
    e.rdev_major = major;
    e.rdev_minor = minor;
    return e;
}

class TarBuilder {
public:
    TarBuilder() {
        a_ = archive_write_new();
        archive_write_set_format_pax(a_);         // sub-second times, xattrs
        archive_write_set_bytes_per_block(a_, 0); // unblocked: out_ is always current
        archive_write_set_bytes_in_last_block(a_, 1);
        archive_write_open(a_, this, nullptr, &TarBuilder::write_cb, nullptr);
    }
    ~TarBuilder() {
        if (a_) archive_write_free(a_);
    }

    TarBuilder& add(const Entry& x) {
        archive_entry* e = archive_entry_new();
        archive_entry_copy_pathname(e, x.name.c_str());
        if (!x.hardlink.empty()) {
            archive_entry_copy_hardlink(e, x.hardlink.c_str());
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_filetype(e, x.type);
            archive_entry_set_size(e, x.type == AE_IFREG ? std::int64_t(x.data.size()) : 0);
        }
        if (x.size >= 0) archive_entry_set_size(e, x.size);
        if (x.type == AE_IFLNK) archive_entry_copy_symlink(e, x.link.c_str());
        archive_entry_set_perm(e, x.mode);
        archive_entry_set_uid(e, x.uid);
        archive_entry_set_gid(e, x.gid);
        archive_entry_set_mtime(e, x.mtime, x.mtime_nsec);
        archive_entry_set_rdevmajor(e, x.rdev_major);
        archive_entry_set_rdevminor(e, x.rdev_minor);
        for (auto& [k, v] : x.xattrs)
            archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
        for (auto& [off, len] : x.sparse)
            archive_entry_sparse_add_entry(e, off, len);
        if (archive_write_header(a_, e) < ARCHIVE_WARN)
            throw std::runtime_error(std::string("write header: ") + archive_error_string(a_));
        if (x.hardlink.empty() && x.type == AE_IFREG && !x.data.empty()) {
            // With a sparse map the writer takes the whole logical file and skips the holes.
            archive_write_data(a_, x.data.data(), x.data.size());
        }
        archive_entry_free(e);
        return *this;
    }
    // Appends bytes as they are (raw headers, garbage) before finish().
    TarBuilder& raw(const std::string& bytes) {
        archive_write_finish_entry(a_);
        out_ += bytes;
        return *this;
    }
    std::string finish() {
        archive_write_close(a_);
        archive_write_free(a_);
        a_ = nullptr;
        return out_;
    }
    // The bytes written so far (no end-of-archive marker): a truncated stream.
    std::string partial() {
        archive_write_finish_entry(a_);
        return out_;
    }

private:
    static la_ssize_t write_cb(struct archive*, void* self, const void* buf, size_t n) {
        static_cast<TarBuilder*>(self)->out_.append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
    }
    struct archive* a_ = nullptr;
    std::string out_;
};

inline std::string tar_of(std::initializer_list<Entry> entries) {
    TarBuilder b;
    for (auto& e : entries)
        b.add(e);
    return b.finish();
}

// One 512-byte ustar header written by hand, with a valid checksum. `size_field` is put in
// the 12-byte size field as given (octal text or base-256 bytes).
inline std::string raw_header(const std::string& name, char type, const std::string& size_field,
                              const std::string& linkname = "") {
    std::string h(512, '\0');
    std::memcpy(&h[0], name.data(), std::min<std::size_t>(name.size(), 100));
    std::memcpy(&h[100], "0000644", 7);
    std::memcpy(&h[108], "0000000", 7);
    std::memcpy(&h[116], "0000000", 7);
    std::memcpy(&h[124], size_field.data(), std::min<std::size_t>(size_field.size(), 12));
    std::memcpy(&h[136], "14000000000", 11);
    h[156] = type;
    std::memcpy(&h[157], linkname.data(), std::min<std::size_t>(linkname.size(), 100));
    std::memcpy(&h[257],
                "ustar\0"
                "00",
                8);
    std::memset(&h[148], ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h)
        sum += c;
    char chk[8];
    std::snprintf(chk, sizeof chk, "%06o", sum);
    std::memcpy(&h[148], chk, 7);
    return h;
}

inline std::string gzip(const std::string& in, int members = 1) {
    std::string out;
    std::size_t per = (in.size() + members - 1) / std::max(members, 1);
    for (int m = 0; m < members; ++m) {
        std::size_t off = std::min(in.size(), per * m);
        std::size_t len = std::min(per, in.size() - off);
        z_stream z{};
        deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        std::string buf(deflateBound(&z, len) + 64, '\0');
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + off));
        z.avail_in = static_cast<uInt>(len);
        z.next_out = reinterpret_cast<Bytef*>(buf.data());
        z.avail_out = static_cast<uInt>(buf.size());
        deflate(&z, Z_FINISH);
        buf.resize(buf.size() - z.avail_out);
        deflateEnd(&z);
        out += buf;
    }
    return out;
}

inline std::string zstd(const std::string& in) {
    std::string out(ZSTD_compressBound(in.size()), '\0');
    out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
    return out;
}

inline std::string sha256(const std::string& in) {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(in.data(), in.size(), md, &len, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string s = "sha256:";
    for (unsigned i = 0; i < len; ++i)
        (s += hex[md[i] >> 4]) += hex[md[i] & 15];
    return s;
}

inline std::string random_bytes(std::size_t n, unsigned seed = 1) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(rng());
    return s;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::filesystem::path& p, const std::string& data) {
    std::ofstream f(p, std::ios::binary);
    f << data;
}

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/gantry-archive-XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

} // namespace gantry::archive::testing
