#include "core/ttrpc/frame.hpp"

#include <algorithm>

namespace gantry::ttrpc {

namespace {

void put_u32(char* p, std::uint32_t v) noexcept {
    p[0] = static_cast<char>(v >> 24);
    p[1] = static_cast<char>(v >> 16);
    p[2] = static_cast<char>(v >> 8);
    p[3] = static_cast<char>(v);
}

std::uint32_t get_u32(const char* p) noexcept {
    auto b = [p](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])); };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

} // namespace

std::array<char, kHeaderSize> encode_header(const FrameHeader& h) noexcept {
    std::array<char, kHeaderSize> out{};
    put_u32(out.data(), h.length);
    put_u32(out.data() + 4, h.stream_id);
    out[8] = static_cast<char>(h.type);
    out[9] = static_cast<char>(h.flags);
    return out;
}

FrameHeader decode_header(const char* p) noexcept {
    FrameHeader h;
    h.length = get_u32(p);
    h.stream_id = get_u32(p + 4);
    h.type = static_cast<std::uint8_t>(p[8]);
    h.flags = static_cast<std::uint8_t>(p[9]);
    return h;
}

std::string encode_frame(std::uint32_t stream_id, MessageType type, std::string_view body) {
    FrameHeader h{static_cast<std::uint32_t>(body.size()), stream_id,
                  static_cast<std::uint8_t>(type), 0};
    auto hdr = encode_header(h);
    std::string out;
    out.reserve(kHeaderSize + body.size());
    out.append(hdr.data(), hdr.size());
    out.append(body);
    return out;
}

std::string oversized_message(std::uint32_t length) {
    return "message length " + std::to_string(length) + " exceed maximum message size of " +
           std::to_string(kMaxMessageSize);
}

void FrameDecoder::feed(const char* data, std::size_t n) {
    // Bytes of an oversized body are dropped on arrival instead of being buffered.
    if (discard_ > 0 && buffered() == 0) {
        auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(discard_, n));
        discard_ -= skip;
        data += skip;
        n -= skip;
    }
    if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > (1u << 20) && pos_ > buf_.size() / 2) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    buf_.append(data, n);
}

std::optional<Frame> FrameDecoder::next() {
    for (;;) {
        if (discard_ > 0) {
            auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(discard_, buffered()));
            pos_ += skip;
            discard_ -= skip;
            if (discard_ > 0) return std::nullopt;
        }
        if (oversized_) {
            Frame f{*oversized_, {}, true};
            oversized_.reset();
            return f;
        }
        if (buffered() < kHeaderSize) return std::nullopt;
        FrameHeader h = decode_header(buf_.data() + pos_);
        if (h.length > kMaxMessageSize) {
            pos_ += kHeaderSize;
            discard_ = h.length;
            oversized_ = h;
            continue;
        }
        if (buffered() < kHeaderSize + h.length) return std::nullopt;
        Frame f{h, buf_.substr(pos_ + kHeaderSize, h.length), false};
        pos_ += kHeaderSize + h.length;
        return f;
    }
}

} // namespace gantry::ttrpc
