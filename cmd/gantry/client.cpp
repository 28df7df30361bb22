#include "cmd/gantry/client.hpp"

#include "cmd/gantry/duration.hpp"
#include "core/fs/unique_fd.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

namespace gantry::cli {
namespace {

// ctr waits this long for the daemon when --connect-timeout is not given.
constexpr std::chrono::seconds kDefaultConnectTimeout{10};
// The gRPC message limit containerd uses in both directions.
constexpr int kMaxMessageBytes = 16 << 20;

// "unix:///run/x.sock", "unix:/run/x.sock" and "/run/x.sock" all name the socket /run/x.sock.
std::string socket_path(std::string_view address) {
    for (std::string_view scheme : {"unix://", "unix:"})
        if (address.starts_with(scheme)) return std::string(address.substr(scheme.size()));
    return std::string(address);
}

Error cannot_connect(const std::string& path, std::string_view why) {
    return unavailable("cannot connect to gantryd at " + path + ": " + std::string(why));
}

// A plain connect() before gRPC dials: gRPC would keep retrying a missing or dead socket until
// the timeout, while the kernel says at once what is wrong.
Status probe_socket(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty()) return invalid_argument("the gantryd address is empty");
    if (path.size() >= sizeof(addr.sun_path))
        return cannot_connect(path, "socket path longer than " +
                                        std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
    std::memcpy(addr.sun_path, path.data(), path.size());
    fs::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return from_errno(errno, "socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0)
        return ok_status();
    const int err = errno;
    struct stat st {};
    switch (err) {
    case ENOENT:
        return cannot_connect(path, "no such file (is gantryd running?)");
    case ECONNREFUSED:
        if (::stat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
            return cannot_connect(path, "not a socket");
        return cannot_connect(path, "connection refused (is gantryd running?)");
    case EACCES:
    case EPERM:
        return cannot_connect(path, "permission denied");
    default:
        return cannot_connect(path, std::strerror(err));
    }
}

std::string seconds_text(std::chrono::nanoseconds d) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

} // namespace

Result<Client> Client::connect(const Globals& g) {
    GANTRY_ASSIGN_OR_RETURN(const auto timeout, parse_duration(g.timeout));
    GANTRY_ASSIGN_OR_RETURN(auto connect_timeout, parse_duration(g.connect_timeout));
    if (connect_timeout.count() <= 0) connect_timeout = kDefaultConnectTimeout;
    std::optional<std::chrono::system_clock::time_point> deadline;
    if (timeout.count() > 0) deadline = std::chrono::system_clock::now() + timeout;

    const std::string path = socket_path(g.address);
    GANTRY_TRY(probe_socket(path));

    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    auto channel =
        grpc::CreateCustomChannel("unix:" + path, grpc::InsecureChannelCredentials(), args);
    // --timeout bounds the whole command, the wait for the connection included.
    if (timeout.count() > 0) connect_timeout = std::min(connect_timeout, timeout);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + connect_timeout))
        return cannot_connect(path, "no connection within " + seconds_text(connect_timeout));
    return Client(std::move(channel), g.ns, deadline, g.timeout);
}

void Client::prepare(grpc::ClientContext& ctx) const {
    ctx.AddMetadata("containerd-namespace", ns_);
    if (deadline_) ctx.set_deadline(*deadline_);
}

Status Client::check(const grpc::Status& status) const {
    if (status.ok()) return ok_status();
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && deadline_ &&
        std::chrono::system_clock::now() >= *deadline_)
        return Error(Errc::DeadlineExceeded, "timed out after " + timeout_ + " (--timeout)");
    return from_grpc(status);
}

Error from_grpc(const grpc::Status& status) {
    const int code = status.error_code();
    const Errc errc = code >= 1 && code <= 15 ? static_cast<Errc>(code) : Errc::Unknown;
    std::string message = status.error_message();
    if (message.empty()) {
        message = errc_suffix(errc);
        if (message.empty()) message = "gantryd returned " + std::string(grpc_code_name(code));
    }
    // A transport failure rather than an answer from the daemon: say which it is.
    if (errc == Errc::Unavailable && !message.ends_with(errc_suffix(errc)))
        message = "lost the connection to gantryd: " + message;
    return Error(errc, std::move(message));
}

std::string_view grpc_code_name(int code) {
    static constexpr std::array<std::string_view, 17> kNames{
        "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
        "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
        "DataLoss", "Unauthenticated"};
    if (code >= 0 && static_cast<std::size_t>(code) < kNames.size()) return kNames[code];
    return "Unknown";
}

} // namespace gantry::cli
