// gantry content: list, read, write, label and remove blobs, and list active ingests, with ctr's
// verbs, flags and columns (ctr content ls/get/ingest/label/rm/active).
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/labels.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/table.hpp"
#include "services/content/v1/content.grpc.pb.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <span>
#include <unistd.h>
#include <vector>

namespace gantry::cli {
namespace {

namespace cv1 = containerd::services::content::v1;

constexpr std::size_t kChunk = 1 << 20; // what ctr sends per WRITE

// go-units HumanSize: decimal units, 4 significant digits ("1.049MB", "512B").
std::string human_size(double size) {
    static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    std::size_t i = 0;
    while (size >= 1000.0 && i < std::size(kUnits) - 1) {
        size /= 1000.0;
        ++i;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g%s", size, kUnits[i]);
    return buf;
}

// go-units HumanDuration ("Less than a second", "5 minutes", "About an hour", "3 days").
std::string human_duration(std::chrono::nanoseconds d) {
    using std::to_string;
    const double secs = std::chrono::duration<double>(d).count();
    const long s = static_cast<long>(secs);
    if (s < 1) return "Less than a second";
    if (s == 1) return "1 second";
    if (s < 60) return to_string(s) + " seconds";
    const long minutes = static_cast<long>(secs / 60);
    if (minutes == 1) return "About a minute";
    if (minutes < 60) return to_string(minutes) + " minutes";
    const long hours = static_cast<long>(secs / 3600 + 0.5);
    if (hours == 1) return "About an hour";
    if (hours < 48) return to_string(hours) + " hours";
    if (hours < 24 * 7 * 2) return to_string(hours / 24) + " days";
    if (hours < 24 * 30 * 2) return to_string(hours / 24 / 7) + " weeks";
    if (hours < 24 * 365 * 2) return to_string(hours / 24 / 30) + " months";
    return to_string(static_cast<long>(secs / 3600) / 24 / 365) + " years";
}

std::string age(const google::protobuf::Timestamp& t) {
    auto then = std::chrono::system_clock::time_point(std::chrono::seconds(t.seconds()) +
                                                      std::chrono::nanoseconds(t.nanos()));
    return human_duration(std::chrono::system_clock::now() - then);
}

struct ListOptions {
    bool quiet = false;
    std::vector<std::string> filters;
};

Status list_content(const Globals& g, const ListOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = cv1::Content::NewStub(client.channel());
    cv1::ListContentRequest req;
    for (const auto& f : o.filters)
        req.add_filters(f);
    grpc::ClientContext ctx;
    client.prepare(ctx);
    auto reader = stub->List(&ctx, req);
    cv1::ListContentResponse resp;
    Table table({"DIGEST", "SIZE", "AGE", "LABELS"}, kNarrowLayout);
    while (reader->Read(&resp)) {
        for (const auto& info : resp.info()) {
            if (o.quiet) {
                std::cout << info.digest() << "\n";
                continue;
            }
            table.add_row({info.digest(), human_size(static_cast<double>(info.size())),
                           age(info.created_at()), format_labels(info.labels(), "-")});
        }
    }
    GANTRY_TRY(client.check(reader->Finish()));
    if (o.quiet) return ok_status();
    print_listing(table, "blobs", client.ns());
    return ok_status();
}

Status get_content(const Globals& g, std::span<const std::string> digests) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = cv1::Content::NewStub(client.channel());
    for (const auto& d : digests) {
        cv1::ReadContentRequest req;
        req.set_digest(d);
        grpc::ClientContext ctx;
        client.prepare(ctx);
        auto reader = stub->Read(&ctx, req);
        cv1::ReadContentResponse resp;
        while (reader->Read(&resp))
            std::cout.write(resp.data().data(), static_cast<std::streamsize>(resp.data().size()));
        GANTRY_TRY(client.check(reader->Finish()));
    }
    std::cout << std::flush;
    return ok_status();
}

struct IngestOptions {
    std::string ref;
    std::int64_t expected_size = 0;
    std::string expected_digest;
};

// Reads up to n bytes from stdin; fewer only at end of input.
Result<std::string> read_stdin(std::size_t n) {
    std::string buf(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(STDIN_FILENO, buf.data() + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return from_errno(errno, "read stdin");
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
    }
    buf.resize(got);
    return buf;
}

// ctr's content.WriteBlob: STAT to open (AlreadyExists means done), skip what a resumed ingest
// already holds, WRITE 1 MiB chunks, COMMIT with the expected size and digest.
Status ingest_content(const Globals& g, const IngestOptions& o) {
    if (o.ref.empty()) return invalid_argument("must specify a transaction reference");
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = cv1::Content::NewStub(client.channel());
    grpc::ClientContext ctx;
    client.prepare(ctx);
    auto stream = stub->Write(&ctx);
    auto finish = [&]() -> Status {
        stream->WritesDone();
        auto st = client.check(stream->Finish());
        if (!st.ok() && st.error().is(Errc::AlreadyExists)) return ok_status();
        return st;
    };
    cv1::WriteContentRequest req;
    cv1::WriteContentResponse resp;
    req.set_action(cv1::STAT);
    req.set_ref(o.ref);
    req.set_total(o.expected_size);
    req.set_expected(o.expected_digest);
    if (!stream->Write(req) || !stream->Read(&resp)) return finish();
    std::int64_t offset = resp.offset();
    // A resumed ingest already has `offset` bytes: skip them on stdin, as ctr does.
    for (std::int64_t left = offset; left > 0;) {
        GANTRY_ASSIGN_OR_RETURN(std::string skipped,
                                read_stdin(static_cast<std::size_t>(std::min<std::int64_t>(
                                    left, static_cast<std::int64_t>(kChunk)))));
        if (skipped.empty()) break;
        left -= static_cast<std::int64_t>(skipped.size());
    }
    for (;;) {
        GANTRY_ASSIGN_OR_RETURN(std::string data, read_stdin(kChunk));
        if (data.empty()) break;
        req.Clear();
        req.set_action(cv1::WRITE);
        req.set_offset(offset);
        req.set_data(std::move(data));
        if (!stream->Write(req) || !stream->Read(&resp)) return finish();
        offset = resp.offset();
    }
    req.Clear();
    req.set_action(cv1::COMMIT);
    req.set_offset(offset);
    req.set_total(o.expected_size);
    req.set_expected(o.expected_digest);
    if (!stream->Write(req) || !stream->Read(&resp)) return finish();
    return finish();
}

struct LabelOptions {
    std::string digest;
    std::vector<std::string> labels;
};

// All pairs in one Update with one `labels.<key>` path each; an empty value removes the label.
// Prints the blob's labels afterwards, as ctr.
Status label_content(const Globals& g, const LabelOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = cv1::Content::NewStub(client.channel());
    cv1::Info info;
    auto labels = parse_label_args(o.labels);
    if (labels.empty()) {
        cv1::InfoRequest req;
        req.set_digest(o.digest);
        cv1::InfoResponse resp;
        GANTRY_TRY(client.call([&](grpc::ClientContext* c) { return stub->Info(c, req, &resp); }));
        info = resp.info();
    } else {
        cv1::UpdateRequest req;
        req.mutable_info()->set_digest(o.digest);
        for (const auto& [k, v] : labels) {
            if (!v.empty()) (*req.mutable_info()->mutable_labels())[k] = v;
            req.mutable_update_mask()->add_paths("labels." + k);
        }
        cv1::UpdateResponse resp;
        GANTRY_TRY(
            client.call([&](grpc::ClientContext* c) { return stub->Update(c, req, &resp); }));
        info = resp.info();
    }
    std::cout << format_labels(info.labels()) << std::endl;
    return ok_status();
}

// Like ctr: every digest is tried; removed ones are printed; one that is not there is skipped
// silently; other failures are reported one line each and make the exit code 1.
int remove_content(const Globals& g, std::span<const std::string> digests) {
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto stub = cv1::Content::NewStub(client->channel());
    int exit_code = 0;
    for (const auto& d : digests) {
        cv1::DeleteContentRequest req;
        req.set_digest(d);
        google::protobuf::Empty resp;
        auto st = client->call([&](grpc::ClientContext* c) { return stub->Delete(c, req, &resp); });
        if (!st.ok()) {
            if (!st.error().is(Errc::NotFound))
                exit_code = print_error(st.error().wrap("could not delete " + d));
            continue;
        }
        std::cout << d << std::endl;
    }
    return exit_code;
}

Status list_active(const Globals& g, const std::string& match) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = cv1::Content::NewStub(client.channel());
    cv1::ListStatusesRequest req;
    if (!match.empty()) req.add_filters(match);
    cv1::ListStatusesResponse resp;
    GANTRY_TRY(
        client.call([&](grpc::ClientContext* c) { return stub->ListStatuses(c, req, &resp); }));
    Table table({"REF", "SIZE", "AGE"}, kNarrowLayout);
    for (const auto& st : resp.statuses())
        table.add_row(
            {st.ref(), human_size(static_cast<double>(st.offset())), age(st.started_at())});
    print_listing(table, "active ingests", client.ns());
    return ok_status();
}

} // namespace

void register_content(CLI::App& app, Globals& g) {
    auto* group = add_group(app, g, "content", "Manage content (blobs) in the content store");

    auto list_opts = std::make_shared<ListOptions>();
    auto* list = group->add_subcommand("list", "List all blobs in the store");
    list->alias("ls");
    list->add_flag("-q,--quiet", list_opts->quiet, "Print only the blob digests");
    list->add_option(
            "filters", list_opts->filters,
            "Filters, OR-ed (e.g. 'labels.\"containerd.io/gc.root\"', 'digest==sha256:...')")
        ->type_name("FILTER");
    set_action(*list, g, [&g, list_opts] { return finish(list_content(g, *list_opts)); });

    auto get_digests = std::make_shared<std::vector<std::string>>();
    auto* get = group->add_subcommand("get", "Write the data of blobs to stdout");
    get->add_option("digests", *get_digests, "Digests of the blobs")
        ->required()
        ->type_name("DIGEST");
    set_action(*get, g, [&g, get_digests] { return finish(get_content(g, *get_digests)); });

    auto ingest_opts = std::make_shared<IngestOptions>();
    auto* ingest = group->add_subcommand(
        "ingest", "Write stdin into the store under transaction reference REF and commit it");
    ingest->add_option("ref", ingest_opts->ref, "Transaction reference of the write")
        ->required()
        ->type_name("REF");
    ingest->add_option("--expected-size", ingest_opts->expected_size,
                       "Fail the commit unless the data has exactly this many bytes");
    ingest->add_option("--expected-digest", ingest_opts->expected_digest,
                       "Fail the commit unless the data has this digest (sha256:<hex>); if the "
                       "blob is already stored, nothing is written");
    set_action(*ingest, g, [&g, ingest_opts] { return finish(ingest_content(g, *ingest_opts)); });

    auto label_opts = std::make_shared<LabelOptions>();
    auto* label =
        group->add_subcommand("label", "Set or clear labels of a blob and print its labels");
    label->add_option("digest", label_opts->digest, "Digest of the blob")
        ->required()
        ->type_name("DIGEST");
    label
        ->add_option("labels", label_opts->labels,
                     "Labels as KEY=VALUE to set; KEY= (empty value) clears KEY; a bare KEY means "
                     "KEY=true; none prints the current labels")
        ->type_name("KEY=VALUE");
    set_action(*label, g, [&g, label_opts] { return finish(label_content(g, *label_opts)); });

    auto rm_digests = std::make_shared<std::vector<std::string>>();
    auto* remove = group->add_subcommand(
        "delete", "Delete blobs from the namespace and print each deleted digest; the data goes "
                  "with the next garbage collection");
    remove->alias("del")->alias("remove")->alias("rm");
    remove->add_option("digests", *rm_digests, "Digests of the blobs")
        ->required()
        ->type_name("DIGEST");
    set_action(*remove, g, [&g, rm_digests] { return remove_content(g, *rm_digests); });

    auto match = std::make_shared<std::string>();
    auto* active = group->add_subcommand("active", "Display active ingests (REF SIZE AGE)");
    active->add_option("filter", *match, "A filter on the ingest ref, e.g. 'ref~=layer'")
        ->type_name("FILTER");
    set_action(*active, g, [&g, match] { return finish(list_active(g, *match)); });
}

} // namespace gantry::cli
