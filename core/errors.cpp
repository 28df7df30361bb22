#include "core/errors.hpp"

#include <cerrno>
#include <cstring>

namespace gantry {

std::string_view errc_suffix(Errc c) noexcept {
    switch (c) {
    case Errc::InvalidArgument:
        return "invalid argument";
    case Errc::NotFound:
        return "not found";
    case Errc::AlreadyExists:
        return "already exists";
    case Errc::FailedPrecondition:
        return "failed precondition";
    case Errc::Unavailable:
        return "unavailable";
    case Errc::NotImplemented:
        return "not implemented";
    case Errc::Canceled:
        return "context canceled";
    case Errc::DeadlineExceeded:
        return "context deadline exceeded";
    default:
        return "";
    }
}

std::string_view errc_name(Errc c) noexcept {
    switch (c) {
    case Errc::Unknown:
        return "Unknown";
    case Errc::InvalidArgument:
        return "InvalidArgument";
    case Errc::DeadlineExceeded:
        return "DeadlineExceeded";
    case Errc::NotFound:
        return "NotFound";
    case Errc::AlreadyExists:
        return "AlreadyExists";
    case Errc::PermissionDenied:
        return "PermissionDenied";
    case Errc::ResourceExhausted:
        return "ResourceExhausted";
    case Errc::FailedPrecondition:
        return "FailedPrecondition";
    case Errc::Aborted:
        return "Aborted";
    case Errc::OutOfRange:
        return "OutOfRange";
    case Errc::NotImplemented:
        return "NotImplemented";
    case Errc::Internal:
        return "Internal";
    case Errc::Unavailable:
        return "Unavailable";
    case Errc::DataLoss:
        return "DataLoss";
    case Errc::Canceled:
        return "Canceled";
    }
    return "Unknown";
}

Error Error::wrap(std::string_view context) const& {
    return Error(code_, std::string(context) + ": " + message_);
}

Error Error::wrap(std::string_view context) && {
    message_.insert(0, std::string(context) + ": ");
    return std::move(*this);
}

std::string Error::wire_message() const {
    std::string_view suffix = errc_suffix(code_);
    if (suffix.empty()) return message_;
    if (message_.size() >= suffix.size() &&
        std::string_view(message_).substr(message_.size() - suffix.size()) == suffix)
        return message_;
    if (message_.empty()) return std::string(suffix);
    return message_ + ": " + std::string(suffix);
}

Error from_errno(int err, std::string_view context) {
    std::string msg = std::string(context) + ": " + std::strerror(err);
    switch (err) {
    case ENOENT:
        return {Errc::NotFound, std::move(msg)};
    case EEXIST:
        return {Errc::AlreadyExists, std::move(msg)};
    case EINVAL:
    case ENAMETOOLONG:
        return {Errc::InvalidArgument, std::move(msg)};
    case EACCES:
    case EPERM:
        return {Errc::PermissionDenied, std::move(msg)};
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
        return {Errc::ResourceExhausted, std::move(msg)};
    case EBUSY:
    case ENOTEMPTY:
    case EWOULDBLOCK:
        return {Errc::FailedPrecondition, std::move(msg)};
    case ENOSYS:
    case EOPNOTSUPP:
        return {Errc::NotImplemented, std::move(msg)};
    case ECONNREFUSED:
        return {Errc::Unavailable, std::move(msg)};
    default:
        return {Errc::Unknown, std::move(msg)};
    }
}

} // namespace gantry
