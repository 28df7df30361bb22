// ttrpc framing (protocol-facts §9.1): a 10-byte header — body length, stream id (both uint32
// big-endian), type, flags — then a protobuf body of at most 4 MiB.
//
// FrameDecoder is byte-oriented so that both the non-blocking server and the client's blocking
// reader thread feed it whatever read() returned. A body over the limit is skipped without being
// buffered and reported as an oversized frame, so the receiver can answer on that stream with
// ResourceExhausted the way ttrpc does and keep the connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::ttrpc {

inline constexpr std::size_t kHeaderSize = 10;
inline constexpr std::uint32_t kMaxMessageSize = 4u << 20;

enum class MessageType : std::uint8_t { Request = 1, Response = 2 };

struct FrameHeader {
    std::uint32_t length = 0;
    std::uint32_t stream_id = 0;
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
};

std::array<char, kHeaderSize> encode_header(const FrameHeader& h) noexcept;
FrameHeader decode_header(const char* p) noexcept;

// Header and body as one buffer, ready for a single write.
std::string encode_frame(std::uint32_t stream_id, MessageType type, std::string_view body);

// "message length N exceed maximum message size of 4194304", ttrpc's text.
std::string oversized_message(std::uint32_t length);

struct Frame {
    FrameHeader header;
    std::string body;
    bool oversized = false; // body was discarded; header.length tells how big it was
};

class FrameDecoder {
public:
    void feed(const char* data, std::size_t n);
    // The next complete frame, or nullopt when more bytes are needed.
    std::optional<Frame> next();
    // Bytes held that do not yet form a frame (for tests and back-pressure).
    std::size_t buffered() const noexcept { return buf_.size() - pos_; }

private:
    std::string buf_;
    std::size_t pos_ = 0;
    std::uint64_t discard_ = 0;
    std::optional<FrameHeader> oversized_;
};

} // namespace gantry::ttrpc
