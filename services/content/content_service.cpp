#include "services/content/content_service.hpp"

#include "core/content/store.hpp"
#include "core/events/publisher.hpp"
#include "core/filters/filter.hpp"
#include "core/gc/collector.hpp"
#include "core/metadata/identifiers.hpp"
#include "events/content.pb.h"
#include "services/grpc_status.hpp"
#include "services/request_context.hpp"

#include <vector>

namespace gantry::services {

namespace cv1 = containerd::services::content::v1;

namespace {

// Read replies carry at most this much data, as containerd's 1 MiB copy buffer.
constexpr std::size_t kReadChunk = 1 << 20;
// List replies carry at most this many Info.
constexpr int kListBatch = 100;
// Go's zero time.Time, which containerd sends for an unset non-nullable timestamp.
constexpr std::int64_t kGoZeroSeconds = -62135596800;

void set_ts(google::protobuf::Timestamp* out, content::Timestamp t) {
    out->set_seconds(t.seconds);
    out->set_nanos(t.nanos);
}
void set_zero(google::protobuf::Timestamp* out) {
    out->set_seconds(kGoZeroSeconds);
    out->set_nanos(0);
}

void to_proto(const content::Info& in, cv1::Info* out) {
    out->set_digest(in.digest);
    out->set_size(in.size);
    set_ts(out->mutable_created_at(), in.created_at);
    set_ts(out->mutable_updated_at(), in.updated_at);
    out->mutable_labels()->insert(in.labels.begin(), in.labels.end());
}

void to_proto(const content::IngestStatus& in, cv1::Status* out) {
    set_ts(out->mutable_started_at(), in.started_at);
    set_ts(out->mutable_updated_at(), in.updated_at);
    out->set_ref(in.ref);
    out->set_offset(in.offset);
    out->set_total(in.total);
    out->set_expected(in.expected);
}

grpc::Status bad_digest(const std::string& digest) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "\"" + digest + "\" failed validation"};
}

} // namespace

ContentService::ContentService(std::shared_ptr<content::Store> store,
                               std::shared_ptr<events::Publisher> events,
                               std::shared_ptr<gc::Collector> collector)
    : store_(std::move(store)), events_(std::move(events)), collector_(std::move(collector)) {}

grpc::Status ContentService::Info(grpc::ServerContext* ctx, const cv1::InfoRequest* req,
                                  cv1::InfoResponse* resp) {
    if (!metadata::validate_digest(req->digest()).ok()) return bad_digest(req->digest());
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto info = store_->info(*ns, req->digest());
    if (!info.ok()) return to_grpc(info.error());
    to_proto(*info, resp->mutable_info());
    return grpc::Status::OK;
}

grpc::Status ContentService::Update(grpc::ServerContext* ctx, const cv1::UpdateRequest* req,
                                    cv1::UpdateResponse* resp) {
    const auto& in = req->info();
    if (!metadata::validate_digest(in.digest()).ok()) return bad_digest(in.digest());
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    content::Info info;
    info.digest = in.digest();
    info.labels = content::Labels(in.labels().begin(), in.labels().end());
    std::vector<std::string> paths(req->update_mask().paths().begin(),
                                   req->update_mask().paths().end());
    auto updated = store_->update(*ns, info, paths);
    if (!updated.ok()) return to_grpc(updated.error());
    to_proto(*updated, resp->mutable_info());
    return grpc::Status::OK;
}

grpc::Status ContentService::List(grpc::ServerContext* ctx, const cv1::ListContentRequest* req,
                                  grpc::ServerWriter<cv1::ListContentResponse>* writer) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto filter = filters::parse_range(req->filters());
    if (!filter.ok()) return to_grpc(filter.error());
    cv1::ListContentResponse batch;
    bool send_failed = false;
    auto flush = [&]() -> gantry::Status {
        if (!writer->Write(batch)) {
            send_failed = true;
            return Error(Errc::Canceled, "client went away");
        }
        batch.Clear();
        return {};
    };
    auto st = store_->walk(*ns, *filter, [&](const content::Info& info) -> gantry::Status {
        // As containerd: digest, size, created_at and labels; updated_at stays Go's zero time.
        auto* out = batch.add_info();
        out->set_digest(info.digest);
        out->set_size(info.size);
        set_ts(out->mutable_created_at(), info.created_at);
        set_zero(out->mutable_updated_at());
        out->mutable_labels()->insert(info.labels.begin(), info.labels.end());
        if (batch.info_size() >= kListBatch) return flush();
        return {};
    });
    if (send_failed) return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
    if (!st.ok()) return to_grpc(st);
    if (batch.info_size() > 0 && !writer->Write(batch))
        return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
    return grpc::Status::OK;
}

grpc::Status ContentService::Delete(grpc::ServerContext* ctx, const cv1::DeleteContentRequest* req,
                                    google::protobuf::Empty*) {
    if (auto v = metadata::validate_digest(req->digest()); !v.ok())
        return {grpc::StatusCode::INVALID_ARGUMENT, v.error().message()};
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    if (auto st = store_->remove(*ns, req->digest()); !st.ok()) return to_grpc(st);
    if (collector_) collector_->mark_dirty();
    if (events_) {
        containerd::events::ContentDelete ev;
        ev.set_digest(req->digest());
        (void)events_->publish(*ns, "/content/delete", ev);
    }
    return grpc::Status::OK;
}

grpc::Status ContentService::Read(grpc::ServerContext* ctx, const cv1::ReadContentRequest* req,
                                  grpc::ServerWriter<cv1::ReadContentResponse>* writer) {
    if (auto v = metadata::validate_digest(req->digest()); !v.ok())
        return {grpc::StatusCode::INVALID_ARGUMENT, req->digest() + ": " + v.error().message()};
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto info = store_->info(*ns, req->digest());
    if (!info.ok()) return to_grpc(info.error());
    auto reader = store_->reader(*ns, req->digest());
    if (!reader.ok()) return to_grpc(reader.error());
    std::int64_t total = (*reader)->size();
    std::int64_t offset = req->offset() < 0 ? 0 : req->offset();
    if (offset > total)
        return {grpc::StatusCode::OUT_OF_RANGE,
                "read past object length " + std::to_string(total) + " bytes"};
    std::int64_t size = req->size();
    if (size <= 0 || size > total - offset) size = total - offset;
    const std::int64_t end = offset + size;
    // One chunk buffer for the whole stream: memory stays bounded whatever the blob's size.
    std::vector<char> buf(kReadChunk);
    cv1::ReadContentResponse msg;
    while (offset < end) {
        if (ctx->IsCancelled()) return {grpc::StatusCode::CANCELLED, "context canceled"};
        std::size_t want =
            static_cast<std::size_t>(std::min<std::int64_t>(end - offset, kReadChunk));
        auto n = (*reader)->read_at(offset, std::span<char>(buf.data(), want));
        if (!n.ok()) return to_grpc(n.error());
        if (*n == 0) break; // the file is shorter than it was: send what there is
        msg.set_offset(offset);
        msg.set_data(buf.data(), *n);
        if (!writer->Write(msg)) return {grpc::StatusCode::CANCELLED, "context canceled"};
        offset += static_cast<std::int64_t>(*n);
    }
    return grpc::Status::OK;
}

grpc::Status ContentService::Status(grpc::ServerContext* ctx, const cv1::StatusRequest* req,
                                    cv1::StatusResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto st = store_->status(*ns, req->ref());
    if (!st.ok())
        return to_grpc(st.error().wrap("could not get status for ref \"" + req->ref() + "\""));
    to_proto(*st, resp->mutable_status());
    return grpc::Status::OK;
}

grpc::Status ContentService::ListStatuses(grpc::ServerContext* ctx,
                                          const cv1::ListStatusesRequest* req,
                                          cv1::ListStatusesResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto filter = filters::parse_range(req->filters());
    if (!filter.ok()) return to_grpc(filter.error());
    auto list = store_->list_statuses(*ns, *filter);
    if (!list.ok()) return to_grpc(list.error());
    for (const auto& st : *list)
        to_proto(st, resp->add_statuses());
    return grpc::Status::OK;
}

grpc::Status ContentService::Abort(grpc::ServerContext* ctx, const cv1::AbortRequest* req,
                                   google::protobuf::Empty*) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    return to_grpc(store_->abort(*ns, req->ref(), optional_lease(*ctx)));
}

grpc::Status ContentService::Write(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<cv1::WriteContentResponse, cv1::WriteContentRequest>* stream) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    const std::string lease = optional_lease(*ctx);

    cv1::WriteContentRequest req;
    if (!stream->Read(&req)) return grpc::Status::OK; // closed before saying anything
    const std::string ref = req.ref();
    if (ref.empty())
        return {grpc::StatusCode::INVALID_ARGUMENT, "first message must have a reference"};
    std::int64_t total = req.total();
    std::string expected = req.expected();

    auto opened = store_->writer(*ns, lease, ref, total, expected);
    if (!opened.ok()) return to_grpc(opened.error());
    std::unique_ptr<content::Writer> w = std::move(opened).value();

    // One reply object for the whole stream, as containerd: fields set by an earlier reply (a
    // STAT's total and times) are sent again with later ones.
    cv1::WriteContentResponse msg;
    set_zero(msg.mutable_started_at());
    set_zero(msg.mutable_updated_at());
    for (;;) {
        msg.set_action(req.action());
        auto ws = w->status();
        if (!ws.ok()) return to_grpc(ws.error());
        msg.set_offset(ws->offset);

        if (!req.expected().empty()) {
            expected = req.expected();
            if (store_->info(*ns, expected).ok()) {
                w.reset(); // release the ref before aborting it
                (void)store_->abort(*ns, ref, lease);
                return {grpc::StatusCode::ALREADY_EXISTS,
                        "blob with expected digest " + expected + " exists"};
            }
        }
        if (req.total() > 0) total = req.total();

        switch (req.action()) {
        case cv1::STAT:
            msg.set_digest(w->digest());
            set_ts(msg.mutable_started_at(), ws->started_at);
            set_ts(msg.mutable_updated_at(), ws->updated_at);
            msg.set_total(total);
            break;
        case cv1::WRITE:
        case cv1::COMMIT: {
            if (req.offset() < 0)
                return {grpc::StatusCode::OUT_OF_RANGE, "write @" + std::to_string(req.offset()) +
                                                            " must occur at current offset " +
                                                            std::to_string(ws->offset)};
            if (req.offset() > 0 && req.offset() != ws->offset)
                return {grpc::StatusCode::OUT_OF_RANGE, "write @" + std::to_string(req.offset()) +
                                                            " must occur at current offset " +
                                                            std::to_string(ws->offset)};
            if (req.offset() == 0 && ws->offset > 0) {
                if (auto t = w->truncate(0); !t.ok())
                    return to_grpc(t.error().wrap("truncate failed"));
                msg.set_offset(0);
            }
            if (!req.data().empty()) {
                if (auto wr = w->write(req.data()); !wr.ok()) return to_grpc(wr.error());
                msg.set_offset(msg.offset() + static_cast<std::int64_t>(req.data().size()));
            }
            if (req.action() == cv1::COMMIT) {
                content::Labels labels(req.labels().begin(), req.labels().end());
                if (auto c = w->commit(total, expected, labels); !c.ok()) return to_grpc(c.error());
            }
            msg.set_digest(w->digest());
            break;
        }
        default:
            return {grpc::StatusCode::INVALID_ARGUMENT,
                    "unknown write action " + std::to_string(req.action())};
        }

        if (!stream->Write(msg)) return {grpc::StatusCode::CANCELLED, "context canceled"};
        if (req.action() == cv1::COMMIT) return grpc::Status::OK;
        if (!stream->Read(&req)) return grpc::Status::OK; // client closed: the ingest stays
    }
}

} // namespace gantry::services
