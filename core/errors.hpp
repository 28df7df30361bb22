// Errors carry one of containerd's error classes so that every layer (plugins, services, CLI)
// reports the same class for the same failure, and services/ can map it 1:1 to a gRPC code.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gantry {

// containerd's errdefs classes. The numeric values are the gRPC codes they map to, so the mapping
// cannot drift: a class is its code.
enum class Errc : int {
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    NotImplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Canceled = 1,
};

// The suffix containerd appends to messages of this class ("...: not found").
std::string_view errc_suffix(Errc c) noexcept;
// A short human name for logs and the CLI ("NotFound").
std::string_view errc_name(Errc c) noexcept;

class [[nodiscard]] Error {
public:
    Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

    Errc code() const noexcept { return code_; }
    const std::string& message() const noexcept { return message_; }
    bool is(Errc c) const noexcept { return code_ == c; }

    // Prefixes context, containerd-style: wrap("image \"x\"") -> "image \"x\": <message>".
    Error wrap(std::string_view context) const&;
    Error wrap(std::string_view context) &&;

    // The message as containerd sends it on the wire: "<message>: <suffix>" (suffix omitted for
    // Unknown, or when already present).
    std::string wire_message() const;

private:
    Errc code_;
    std::string message_;
};

// Convenience constructors, one per class used in the code base.
inline Error not_found(std::string m) {
    return {Errc::NotFound, std::move(m)};
}
inline Error already_exists(std::string m) {
    return {Errc::AlreadyExists, std::move(m)};
}
inline Error invalid_argument(std::string m) {
    return {Errc::InvalidArgument, std::move(m)};
}
inline Error failed_precondition(std::string m) {
    return {Errc::FailedPrecondition, std::move(m)};
}
inline Error unavailable(std::string m) {
    return {Errc::Unavailable, std::move(m)};
}
inline Error not_implemented(std::string m) {
    return {Errc::NotImplemented, std::move(m)};
}
inline Error unknown_error(std::string m) {
    return {Errc::Unknown, std::move(m)};
}
inline Error internal_error(std::string m) {
    return {Errc::Internal, std::move(m)};
}
// From an errno value: maps ENOENT/EEXIST/EINVAL/... onto the nearest class.
Error from_errno(int err, std::string_view context);

// A must-check value-or-error. Small on purpose: std::expected is C++23 and g++ 12 lacks it.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const& {
        assert(!ok());
        return std::get<1>(v_);
    }
    Error&& error() && {
        assert(!ok());
        return std::get<1>(std::move(v_));
    }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : e_(std::move(error)) {}

    bool ok() const noexcept { return !e_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    const Error& error() const& {
        assert(!ok());
        return *e_;
    }
    Error&& error() && {
        assert(!ok());
        return std::move(*e_);
    }

private:
    std::optional<Error> e_;
};

using Status = Result<void>;
inline Status ok_status() {
    return {};
}

} // namespace gantry

// Early return on error: `GANTRY_TRY(do_thing());` or `GANTRY_ASSIGN_OR_RETURN(auto v, get());`
// Temporaries get __COUNTER__-unique names so that nested uses never shadow each other.
#define GANTRY_CONCAT_INNER(a, b) a##b
#define GANTRY_CONCAT(a, b) GANTRY_CONCAT_INNER(a, b)

#define GANTRY_TRY_IMPL(expr, var)                                                                 \
    do {                                                                                           \
        if (auto var = (expr); !var.ok()) return std::move(var).error();                           \
    } while (0)
#define GANTRY_TRY(expr) GANTRY_TRY_IMPL(expr, GANTRY_CONCAT(gantry_try_r_, __COUNTER__))

#define GANTRY_ASSIGN_OR_RETURN_IMPL(lhs, expr, var)                                               \
    auto var = (expr);                                                                             \
    if (!var.ok()) return std::move(var).error();                                                  \
    lhs = std::move(var).value()
#define GANTRY_ASSIGN_OR_RETURN(lhs, expr)                                                         \
    GANTRY_ASSIGN_OR_RETURN_IMPL(lhs, expr, GANTRY_CONCAT(gantry_r_, __COUNTER__))
