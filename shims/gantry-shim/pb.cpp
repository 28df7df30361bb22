#include "shims/gantry-shim/pb.hpp"

namespace gantry::shim::pb {

void Writer::varint(uint64_t v) {
    while (v >= 0x80) {
        buf_.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    buf_.push_back(static_cast<char>(v));
}

void Writer::bytesAlways(uint32_t field, std::string_view s) {
    tag(field, Bytes);
    varint(s.size());
    buf_.append(s);
}

bool Reader::readVarint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (pos_ >= data_.size()) return false;
        auto b = static_cast<uint8_t>(data_[pos_++]);
        v |= uint64_t{b & 0x7fu} << shift;
        if ((b & 0x80) == 0) return true;
    }
    return false;
}

bool Reader::next(Field& f) {
    if (!ok_ || pos_ >= data_.size()) return false;
    uint64_t key = 0;
    if (!readVarint(key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff) {
        ok_ = false;
        return false;
    }
    f.number = static_cast<uint32_t>(key >> 3);
    f.type = static_cast<WireType>(key & 7);
    f.value = 0;
    f.bytes = {};
    auto fixed = [&](size_t n) {
        if (data_.size() - pos_ < n) return false;
        for (size_t i = 0; i < n; ++i)
            f.value |= uint64_t{static_cast<uint8_t>(data_[pos_ + i])} << (8 * i);
        pos_ += n;
        return true;
    };
    bool good = false;
    switch (f.type) {
    case Varint:
        good = readVarint(f.value);
        break;
    case Fixed64:
        good = fixed(8);
        break;
    case Fixed32:
        good = fixed(4);
        break;
    case Bytes: {
        uint64_t n = 0;
        good = readVarint(n) && n <= data_.size() - pos_;
        if (good) {
            f.bytes = data_.substr(pos_, n);
            pos_ += n;
        }
        break;
    }
    default:
        good = false; // groups (3, 4) never occur in these APIs
    }
    if (!good) ok_ = false;
    return good;
}

} // namespace gantry::shim::pb

namespace gantry::shim::pb {

bool Message::parse(std::string_view data) {
    fields_.clear();
    Reader r(data);
    Field f;
    while (r.next(f))
        fields_.push_back(f);
    return r.ok();
}

std::string_view Message::str(uint32_t field) const {
    for (auto it = fields_.rbegin(); it != fields_.rend(); ++it)
        if (it->number == field && it->type == Bytes) return it->bytes;
    return {};
}

uint64_t Message::u64(uint32_t field) const {
    for (auto it = fields_.rbegin(); it != fields_.rend(); ++it)
        if (it->number == field && it->type != Bytes) return it->value;
    return 0;
}

bool Message::has(uint32_t field) const {
    for (const auto& f : fields_)
        if (f.number == field) return true;
    return false;
}

std::vector<std::string_view> Message::repeated(uint32_t field) const {
    std::vector<std::string_view> out;
    for (const auto& f : fields_)
        if (f.number == field && f.type == Bytes) out.push_back(f.bytes);
    return out;
}

} // namespace gantry::shim::pb
