// Helpers shared by the content store tests: a temp directory and sha256 of a string.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <openssl/evp.h>
#include <string>

namespace gantry::content::testing {

class TempDir {
public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "gantry-content-XXXXXX").string();
        path_ = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        // Blobs are read-only files; their directories are not, so remove_all works.
        std::filesystem::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

inline std::string sha256(const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s = "sha256:";
    for (unsigned int i = 0; i < len; ++i) {
        s.push_back(kHex[out[i] >> 4]);
        s.push_back(kHex[out[i] & 15]);
    }
    return s;
}

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace gantry::content::testing
