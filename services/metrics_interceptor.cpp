#include "services/metrics_interceptor.hpp"

#include "core/metrics/registry.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace gantry::services {

namespace {

using grpc::experimental::InterceptionHookPoints;

std::string code_name(grpc::StatusCode c) {
    static const char* names[] = {
        "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
        "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
        "DataLoss", "Unauthenticated"};
    auto i = static_cast<unsigned>(c);
    return i < std::size(names) ? names[i] : "Unknown";
}

// "/pkg.Service/Method" -> {"pkg.Service", "Method"}
std::pair<std::string, std::string> split_method(const char* full) {
    std::string m = full != nullptr ? full : "";
    if (!m.empty() && m.front() == '/') m.erase(0, 1);
    auto slash = m.find('/');
    if (slash == std::string::npos) return {"unknown", m};
    return {m.substr(0, slash), m.substr(slash + 1)};
}

class Metrics {
public:
    Metrics()
        : started_(prometheus::BuildCounter()
                       .Name("grpc_server_started_total")
                       .Help("Total number of RPCs started on the server.")
                       .Register(*metrics::registry())),
          handled_(prometheus::BuildCounter()
                       .Name("grpc_server_handled_total")
                       .Help("Total number of RPCs completed on the server, regardless of success.")
                       .Register(*metrics::registry())),
          seconds_(
              prometheus::BuildHistogram()
                  .Name("grpc_server_handling_seconds")
                  .Help("Histogram of response latency (seconds) of gRPC handled by the server.")
                  .Register(*metrics::registry())) {}

    void start(const std::string& svc, const std::string& method) {
        started_.Add({{"grpc_service", svc}, {"grpc_method", method}}).Increment();
    }
    void done(const std::string& svc, const std::string& method, grpc::StatusCode code,
              double secs) {
        handled_
            .Add({{"grpc_service", svc}, {"grpc_method", method}, {"grpc_code", code_name(code)}})
            .Increment();
        std::lock_guard lk(mu_);
        auto key = svc + "/" + method;
        auto it = hist_.find(key);
        if (it == hist_.end()) {
            static const prometheus::Histogram::BucketBoundaries kBuckets{
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
            it = hist_
                     .emplace(key, &seconds_.Add({{"grpc_service", svc}, {"grpc_method", method}},
                                                 kBuckets))
                     .first;
        }
        it->second->Observe(secs);
    }

private:
    prometheus::Family<prometheus::Counter>& started_;
    prometheus::Family<prometheus::Counter>& handled_;
    prometheus::Family<prometheus::Histogram>& seconds_;
    std::mutex mu_;
    std::map<std::string, prometheus::Histogram*> hist_;
};

class MetricsInterceptor final : public grpc::experimental::Interceptor {
public:
    MetricsInterceptor(grpc::experimental::ServerRpcInfo* info, Metrics& m)
        : m_(m), start_(std::chrono::steady_clock::now()) {
        std::tie(svc_, method_) = split_method(info->method());
        m_.start(svc_, method_);
    }

    void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
        if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
            auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_);
            m_.done(svc_, method_, methods->GetSendStatus().error_code(), secs.count());
        }
        methods->Proceed();
    }

private:
    Metrics& m_;
    std::chrono::steady_clock::time_point start_;
    std::string svc_, method_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
public:
    grpc::experimental::Interceptor*
    CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
        return new MetricsInterceptor(info, metrics_);
    }

private:
    Metrics metrics_;
};

} // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> make_metrics_interceptor() {
    return std::make_unique<Factory>();
}

} // namespace gantry::services
