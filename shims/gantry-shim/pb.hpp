// A minimal protobuf wire codec for the shim: varints, fixed widths and length-delimited fields.
// The shim speaks only a few dozen small messages, so a hand-written codec costs a few KiB of code
// where libprotobuf would map and touch MiBs (see ../README.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gantry::shim::pb {

enum WireType : uint8_t { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 };

// Appends fields in proto3 style: scalar zero values and empty strings are omitted, as Go does.
class Writer {
public:
    void varint(uint64_t v);
    void tag(uint32_t field, WireType wt) { varint((uint64_t{field} << 3) | wt); }

    void u64(uint32_t field, uint64_t v) {
        if (v != 0) uint64Always(field, v);
    }
    void uint64Always(uint32_t field, uint64_t v) {
        tag(field, Varint);
        varint(v);
    }
    void i64(uint32_t field, int64_t v) { u64(field, static_cast<uint64_t>(v)); }
    void boolean(uint32_t field, bool v) { u64(field, v ? 1 : 0); }
    void str(uint32_t field, std::string_view s) {
        if (!s.empty()) bytesAlways(field, s);
    }
    // A sub-message or bytes field that is present even when empty (e.g. a set Timestamp of 0).
    void bytesAlways(uint32_t field, std::string_view s);
    void msg(uint32_t field, const Writer& w) { bytesAlways(field, w.data()); }

    const std::string& data() const { return buf_; }
    std::string take() { return std::move(buf_); }

private:
    std::string buf_;
};

struct Field {
    uint32_t number = 0;
    WireType type = Varint;
    uint64_t value = 0;     // Varint, Fixed64, Fixed32
    std::string_view bytes; // Bytes
};

// Iterates over the fields of one message. Unknown fields are skipped by the caller simply by not
// matching them; a malformed buffer makes next() return false with ok() false.
class Reader {
public:
    explicit Reader(std::string_view data) : data_(data) {}
    bool next(Field& f);
    bool ok() const { return ok_; }

private:
    bool readVarint(uint64_t& v);
    std::string_view data_;
    size_t pos_ = 0;
    bool ok_ = true;
};

} // namespace gantry::shim::pb

#include <vector>

namespace gantry::shim::pb {

// A decoded message as a flat field list; accessors take the last occurrence like proto3 does.
// Views point into the buffer given to parse(), which must outlive this object.
class Message {
public:
    bool parse(std::string_view data);
    std::string_view str(uint32_t field) const;
    uint64_t u64(uint32_t field) const;
    bool boolean(uint32_t field) const { return u64(field) != 0; }
    bool has(uint32_t field) const;
    std::vector<std::string_view> repeated(uint32_t field) const;

private:
    std::vector<Field> fields_;
};

} // namespace gantry::shim::pb
