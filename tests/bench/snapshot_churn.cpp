// snapshot_churn SOCKET NAMESPACE SNAPSHOTTER PARENT ITER
// Prepare + Mounts + Remove of a fresh active snapshot on PARENT, ITER times, over the containerd
// v1 gRPC API, so it runs unchanged against gantryd and containerd. Prints the total seconds.
// Used by tests/bench/unpack.py; a benchmark tool, not a test.
#include "services/leases/v1/leases.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"

#include <chrono>
#include <cstdio>
#include <grpcpp/grpcpp.h>
#include <string>
#include <unistd.h>

namespace snv1 = containerd::services::snapshots::v1;

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: snapshot_churn SOCKET NAMESPACE SNAPSHOTTER PARENT ITER\n");
        return 2;
    }
    auto channel =
        grpc::CreateChannel(std::string("unix://") + argv[1], grpc::InsecureChannelCredentials());
    auto stub = snv1::Snapshots::NewStub(channel);
    const std::string ns = argv[2], sn = argv[3], parent = argv[4];
    const int iter = std::stoi(argv[5]);
    // Under a lease, as every real client works: an active snapshot nothing references is
    // garbage, and a collection may run between Prepare and Mounts.
    auto leases = containerd::services::leases::v1::Leases::NewStub(channel);
    const std::string lease = "churn-" + std::to_string(::getpid());
    {
        grpc::ClientContext c;
        c.AddMetadata("containerd-namespace", ns);
        containerd::services::leases::v1::CreateRequest req;
        req.set_id(lease);
        containerd::services::leases::v1::CreateResponse resp;
        if (auto st = leases->Create(&c, req, &resp); !st.ok()) {
            std::fprintf(stderr, "lease: %s\n", st.error_message().c_str());
            return 1;
        }
    }
    auto ctx = [&](grpc::ClientContext& c) {
        c.AddMetadata("containerd-namespace", ns);
        c.AddMetadata("containerd-lease", lease);
    };
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iter; ++i) {
        const std::string key = "churn-" + std::to_string(i);
        {
            grpc::ClientContext c;
            ctx(c);
            snv1::PrepareSnapshotRequest req;
            req.set_snapshotter(sn);
            req.set_key(key);
            req.set_parent(parent);
            snv1::PrepareSnapshotResponse resp;
            if (auto st = stub->Prepare(&c, req, &resp); !st.ok()) {
                std::fprintf(stderr, "prepare: %s\n", st.error_message().c_str());
                return 1;
            }
        }
        {
            grpc::ClientContext c;
            ctx(c);
            snv1::MountsRequest req;
            req.set_snapshotter(sn);
            req.set_key(key);
            snv1::MountsResponse resp;
            if (auto st = stub->Mounts(&c, req, &resp); !st.ok() || resp.mounts_size() == 0) {
                std::fprintf(stderr, "mounts: %s\n", st.error_message().c_str());
                return 1;
            }
        }
        {
            grpc::ClientContext c;
            ctx(c);
            snv1::RemoveSnapshotRequest req;
            req.set_snapshotter(sn);
            req.set_key(key);
            google::protobuf::Empty resp;
            if (auto st = stub->Remove(&c, req, &resp); !st.ok()) {
                std::fprintf(stderr, "remove: %s\n", st.error_message().c_str());
                return 1;
            }
        }
    }
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    {
        grpc::ClientContext c;
        c.AddMetadata("containerd-namespace", ns);
        containerd::services::leases::v1::DeleteRequest req;
        req.set_id(lease);
        google::protobuf::Empty resp;
        (void)leases->Delete(&c, req, &resp);
    }
    std::printf("%.6f\n", dt.count());
    return 0;
}
