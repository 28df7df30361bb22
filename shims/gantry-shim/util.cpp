#include "shims/gantry-shim/util.hpp"

#include "shims/gantry-shim/fd.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gantry::shim {

std::optional<std::string> readFile(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
        } else if (n == 0) {
            return out;
        } else if (errno != EINTR) {
            return std::nullopt;
        }
    }
}

static bool writeAll(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

bool writeFile(const std::string& path, std::string_view data) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    return fd && writeAll(fd.get(), data);
}

bool writeFileAtomic(const std::string& path, std::string_view data, unsigned mode) {
    auto slash = path.rfind('/');
    std::string tmp = slash == std::string::npos
                          ? "." + path
                          : path.substr(0, slash + 1) + "." + path.substr(slash + 1);
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (!fd || !writeAll(fd.get(), data)) return false;
    }
    return ::rename(tmp.c_str(), path.c_str()) == 0;
}

timespec wallNow() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

pb::Writer timestamp(const timespec& ts) {
    pb::Writer w;
    w.i64(1, ts.tv_sec);
    w.i64(2, ts.tv_nsec);
    return w;
}

pb::Writer any(std::string_view typeUrl, std::string_view value) {
    pb::Writer w;
    w.str(1, typeUrl);
    w.str(2, value);
    return w;
}

void logLine(std::string_view level, std::string_view msg) {
    timespec ts = wallNow();
    tm t{};
    ::gmtime_r(&ts.tv_sec, &t);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", t.tm_year + 1900,
                  t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000);
    std::string line = "time=\"";
    line += stamp;
    line += "\" level=";
    line += level;
    line += " msg=";
    line += jsonQuote(msg);
    line += " runtime=io.containerd.gantry.v2\n";
    writeAll(2, line);
}

std::string jsonQuote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
    return out;
}

std::optional<std::string> jsonString(std::string_view json, std::string_view key) {
    std::string needle = jsonQuote(key);
    for (size_t at = json.find(needle); at != std::string_view::npos;
         at = json.find(needle, at + 1)) {
        size_t i = at + needle.size();
        while (i < json.size() && (json[i] == ' ' || json[i] == '\t'))
            ++i;
        if (i >= json.size() || json[i] != ':') continue;
        ++i;
        while (i < json.size() && (json[i] == ' ' || json[i] == '\t'))
            ++i;
        if (i >= json.size() || json[i] != '"') continue;
        std::string out;
        for (++i; i < json.size() && json[i] != '"'; ++i) {
            if (json[i] != '\\' || i + 1 >= json.size()) {
                out += json[i];
                continue;
            }
            char e = json[++i];
            switch (e) {
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            case 'u':
                // Only ASCII escapes occur in these logs; others are kept verbatim.
                if (i + 4 < json.size()) {
                    std::string hex(json.substr(i + 1, 4));
                    auto v = std::strtoul(hex.c_str(), nullptr, 16);
                    if (v < 0x80) {
                        out += static_cast<char>(v);
                    } else {
                        out += "\\u";
                        out += json.substr(i + 1, 4);
                    }
                    i += 4;
                }
                break;
            default:
                out += e;
            }
        }
        return out;
    }
    return std::nullopt;
}

std::string lastRuntimeError(const std::string& logPath, size_t from) {
    auto text = readFile(logPath);
    if (!text || text->size() <= from) return {};
    std::string last;
    std::string_view rest = std::string_view(*text).substr(from);
    // One JSON object per entry; runc ends each with a newline, runsc with nothing at all.
    while (!rest.empty()) {
        size_t end = 0;
        int depth = 0;
        bool inString = false;
        for (; end < rest.size(); ++end) {
            char c = rest[end];
            if (inString) {
                if (c == '\\')
                    ++end;
                else if (c == '"')
                    inString = false;
            } else if (c == '"') {
                inString = true;
            } else if (c == '{') {
                ++depth;
            } else if (c == '}' && --depth == 0) {
                break;
            }
        }
        std::string_view line = rest.substr(0, end + 1);
        rest = end + 1 >= rest.size() ? std::string_view{} : rest.substr(end + 1);
        auto level = jsonString(line, "level");
        if (level && (*level == "error" || *level == "fatal")) {
            if (auto msg = jsonString(line, "msg")) last = *msg;
        }
    }
    return last;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

} // namespace gantry::shim
