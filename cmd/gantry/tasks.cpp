// gantry tasks: list, inspect and control the running processes of containers, with ctr's verbs,
// flags and output (ls, ps, kill, pause, resume, rm, metrics). start, exec and attach, which own
// the stdio FIFOs of a process, are in tasks_process.cpp.
#include "cgroups/v1/metrics.pb.h"
#include "cgroups/v2/metrics.pb.h"
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/go_json.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/tabwriter.hpp"
#include "cmd/gantry/tasks_process.hpp"
#include "runtime/runc/options.pb.h"
#include "services/tasks/v1/tasks.grpc.pb.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <google/protobuf/util/json_util.h>
#include <iostream>
#include <memory>
#include <sstream>

namespace gantry::cli {
namespace {

namespace tv1 = containerd::services::tasks::v1;

std::string status_name(int s) {
    switch (s) {
    case containerd::v1::types::CREATED:
        return "CREATED";
    case containerd::v1::types::RUNNING:
        return "RUNNING";
    case containerd::v1::types::STOPPED:
        return "STOPPED";
    case containerd::v1::types::PAUSED:
        return "PAUSED";
    case containerd::v1::types::PAUSING:
        return "PAUSING";
    default:
        return "UNKNOWN";
    }
}

// "SIGKILL", "KILL" or "9", as ctr's signal flag accepts.
Result<int> parse_signal(std::string s) {
    if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
        try {
            const int n = std::stoi(s);
            if (n > 0 && n < NSIG) return n;
        } catch (const std::exception&) {
        }
        return invalid_argument("invalid signal " + s);
    }
    for (auto& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!s.starts_with("SIG")) s = "SIG" + s;
    static const std::pair<const char*, int> kSignals[] = {
        {"SIGHUP", SIGHUP},   {"SIGINT", SIGINT},     {"SIGQUIT", SIGQUIT}, {"SIGKILL", SIGKILL},
        {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2},   {"SIGTERM", SIGTERM}, {"SIGSTOP", SIGSTOP},
        {"SIGCONT", SIGCONT}, {"SIGWINCH", SIGWINCH}, {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM}};
    for (const auto& [name, n] : kSignals)
        if (s == name) return n;
    return invalid_argument("invalid signal " + s);
}

template <typename T>
std::string go_list(const T& values) {
    std::string out = "[";
    for (int i = 0; i < values.size(); ++i)
        out += (i ? " " : "") + std::to_string(values[i]);
    return out + "]";
}

struct ListOptions {
    bool quiet = false;
};

Status list_command(const Globals& g, const ListOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = tv1::Tasks::NewStub(client.channel());
    tv1::ListTasksRequest req;
    tv1::ListTasksResponse resp;
    GANTRY_TRY(client.call([&](grpc::ClientContext* c) { return stub->List(c, req, &resp); }));
    if (o.quiet) {
        for (const auto& t : resp.tasks())
            std::cout << t.id() << "\n";
        std::cout << std::flush;
        return ok_status();
    }
    // ctr's header ends in a tab and its rows do not: the last column is padded only there.
    std::string text = "TASK\tPID\tSTATUS\t\n";
    for (const auto& t : resp.tasks())
        text += t.id() + "\t" + std::to_string(t.pid()) + "\t" + status_name(t.status()) + "\n";
    std::cout << align_tabs(text, kWideLayout) << std::flush;
    return ok_status();
}

struct IdOptions {
    std::string id;
};

Status ps_command(const Globals& g, const IdOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = tv1::Tasks::NewStub(client.channel());
    tv1::ListPidsRequest req;
    req.set_container_id(o.id);
    tv1::ListPidsResponse resp;
    GANTRY_TRY(client.call([&](grpc::ClientContext* c) { return stub->ListPids(c, req, &resp); }));
    std::string text = "PID\tINFO\n";
    for (const auto& p : resp.processes()) {
        std::string info = "-";
        if (p.has_info() && !p.info().value().empty()) {
            containerd::runc::v1::ProcessDetails d;
            info = d.ParseFromString(p.info().value())
                       ? "&ProcessDetails{ExecID:" + d.exec_id() + ",XXX_unrecognized:[],}"
                       : p.info().type_url();
        }
        text += std::to_string(p.pid()) + "\t" + info + "\n";
    }
    std::cout << align_tabs(text, TabLayout{1, 4}) << std::flush;
    return ok_status();
}

struct KillOptions {
    std::string id;
    std::string signal = "SIGTERM";
    std::string exec_id;
    bool all = false;
};

Status kill_command(const Globals& g, const KillOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const int sig, parse_signal(o.signal));
    if (o.all && !o.exec_id.empty()) return invalid_argument("specify an exec-id or all; not both");
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = tv1::Tasks::NewStub(client.channel());
    tv1::KillRequest req;
    req.set_container_id(o.id);
    req.set_exec_id(o.exec_id);
    req.set_signal(static_cast<std::uint32_t>(sig));
    req.set_all(o.all);
    google::protobuf::Empty e;
    return client.call([&](grpc::ClientContext* c) { return stub->Kill(c, req, &e); });
}

Status pause_command(const Globals& g, const IdOptions& o, bool pause) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = tv1::Tasks::NewStub(client.channel());
    google::protobuf::Empty e;
    if (pause) {
        tv1::PauseTaskRequest req;
        req.set_container_id(o.id);
        return client.call([&](grpc::ClientContext* c) { return stub->Pause(c, req, &e); });
    }
    tv1::ResumeTaskRequest req;
    req.set_container_id(o.id);
    return client.call([&](grpc::ClientContext* c) { return stub->Resume(c, req, &e); });
}

struct RemoveOptions {
    std::vector<std::string> ids;
    bool force = false;
};

int remove_command(const Globals& g, const RemoveOptions& o) {
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto stub = tv1::Tasks::NewStub(client->channel());
    int rc = 0;
    for (const auto& id : o.ids) {
        auto one = [&]() -> Status {
            tv1::GetRequest get;
            get.set_container_id(id);
            tv1::GetResponse got;
            GANTRY_TRY(
                client->call([&](grpc::ClientContext* c) { return stub->Get(c, get, &got); }));
            const auto status = got.process().status();
            if (status != containerd::v1::types::STOPPED &&
                status != containerd::v1::types::CREATED) {
                if (!o.force)
                    return failed_precondition("task must be stopped before deletion: " + [&] {
                        std::string s = status_name(status);
                        for (auto& ch : s)
                            ch = static_cast<char>(std::tolower(ch));
                        return s;
                    }());
                tv1::KillRequest kill;
                kill.set_container_id(id);
                kill.set_signal(SIGKILL);
                kill.set_all(true);
                google::protobuf::Empty e;
                GANTRY_TRY(
                    client->call([&](grpc::ClientContext* c) { return stub->Kill(c, kill, &e); }));
                tv1::WaitRequest wait;
                wait.set_container_id(id);
                tv1::WaitResponse waited;
                GANTRY_TRY(client->call(
                    [&](grpc::ClientContext* c) { return stub->Wait(c, wait, &waited); }));
            }
            tv1::DeleteTaskRequest del;
            del.set_container_id(id);
            tv1::DeleteResponse resp;
            GANTRY_TRY(
                client->call([&](grpc::ClientContext* c) { return stub->Delete(c, del, &resp); }));
            if (resp.exit_status() != 0)
                std::cerr << "gantry: task " << id << " exit with non-zero exit code "
                          << resp.exit_status() << "\n";
            return ok_status();
        };
        if (auto st = one(); !st.ok()) rc = print_error(st.error().wrap(id));
    }
    return rc;
}

struct MetricsOptions {
    std::string id;
    std::string format = "table";
};

Status metrics_command(const Globals& g, const MetricsOptions& o) {
    if (o.format != "table" && o.format != "json")
        return invalid_argument("format must be table or json");
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = tv1::Tasks::NewStub(client.channel());
    tv1::MetricsRequest req;
    req.add_filters("id==" + o.id);
    tv1::MetricsResponse resp;
    GANTRY_TRY(client.call([&](grpc::ClientContext* c) { return stub->Metrics(c, req, &resp); }));
    if (resp.metrics_size() == 0) return not_found("no metrics received for " + o.id);
    const auto& m = resp.metrics(0);
    io::containerd::cgroups::v1::Metrics v1;
    io::containerd::cgroups::v2::Metrics v2;
    const bool is_v1 = m.data().type_url().ends_with("io.containerd.cgroups.v1.Metrics");
    const bool is_v2 = m.data().type_url().ends_with("io.containerd.cgroups.v2.Metrics");
    if ((!is_v1 || !v1.ParseFromString(m.data().value())) &&
        (!is_v2 || !v2.ParseFromString(m.data().value())))
        return invalid_argument("cannot convert metric data of type " + m.data().type_url() +
                                " to cgroups metrics");
    if (o.format == "json") {
        std::string out;
        google::protobuf::util::JsonPrintOptions jo;
        jo.add_whitespace = true;
        jo.preserve_proto_field_names = true;
        (void)google::protobuf::util::MessageToJsonString(
            is_v1 ? static_cast<const google::protobuf::Message&>(v1) : v2, &out, jo);
        std::cout << out << std::flush;
        return ok_status();
    }
    std::ostringstream t;
    t << "ID\tTIMESTAMP\t\n"
      << m.id() << "\t" << go_time_string(m.timestamp().seconds(), m.timestamp().nanos())
      << "\t\n\n";
    t << "METRIC\tVALUE\t\n";
    if (is_v1) {
        if (v1.has_memory()) {
            t << "memory.usage_in_bytes\t" << v1.memory().usage().usage() << "\t\n";
            t << "memory.limit_in_bytes\t" << v1.memory().usage().limit() << "\t\n";
            t << "memory.stat.cache\t" << v1.memory().total_cache() << "\t\n";
        }
        if (v1.has_cpu()) {
            t << "cpuacct.usage\t" << v1.cpu().usage().total() << "\t\n";
            t << "cpuacct.usage_percpu\t" << go_list(v1.cpu().usage().per_cpu()) << "\t\n";
        }
        if (v1.has_pids()) {
            t << "pids.current\t" << v1.pids().current() << "\t\n";
            t << "pids.limit\t" << v1.pids().limit() << "\t\n";
        }
    } else {
        if (v2.has_pids()) {
            t << "pids.current\t" << v2.pids().current() << "\t\n";
            t << "pids.limit\t" << v2.pids().limit() << "\t\n";
        }
        if (v2.has_cpu()) {
            t << "cpu.usage_usec\t" << v2.cpu().usage_usec() << "\t\n";
            t << "cpu.user_usec\t" << v2.cpu().user_usec() << "\t\n";
            t << "cpu.system_usec\t" << v2.cpu().system_usec() << "\t\n";
            t << "cpu.nr_periods\t" << v2.cpu().nr_periods() << "\t\n";
            t << "cpu.nr_throttled\t" << v2.cpu().nr_throttled() << "\t\n";
            t << "cpu.throttled_usec\t" << v2.cpu().throttled_usec() << "\t\n";
        }
        if (v2.has_memory()) {
            t << "memory.usage\t" << v2.memory().usage() << "\t\n";
            t << "memory.usage_limit\t" << v2.memory().usage_limit() << "\t\n";
            t << "memory.swap_usage\t" << v2.memory().swap_usage() << "\t\n";
            t << "memory.swap_limit\t" << v2.memory().swap_limit() << "\t\n";
        }
    }
    std::cout << align_tabs(t.str(), TabLayout{1, 4}) << std::flush;
    return ok_status();
}

} // namespace

void register_tasks(CLI::App& app, Globals& g) {
    auto* group = add_group(app, g, "tasks", "Manage tasks (the running processes of containers)");
    group->alias("t")->alias("task");

    auto lo = std::make_shared<ListOptions>();
    auto* ls = group->add_subcommand("list", "List tasks: TASK PID STATUS");
    ls->alias("ls");
    ls->add_flag("-q,--quiet", lo->quiet, "Print only the task ids");
    set_action(*ls, g, [&g, lo] { return finish(list_command(g, *lo)); });

    auto po = std::make_shared<IdOptions>();
    auto* ps = group->add_subcommand("ps", "List the processes of a task: PID INFO");
    ps->add_option("id", po->id, "Container id")->required()->type_name("CONTAINER");
    set_action(*ps, g, [&g, po] { return finish(ps_command(g, *po)); });

    auto ko = std::make_shared<KillOptions>();
    auto* kill = group->add_subcommand("kill", "Signal a task (SIGTERM unless --signal)");
    kill->add_option("id", ko->id, "Container id")->required()->type_name("CONTAINER");
    kill->add_option("-s,--signal", ko->signal, "Signal: a name (SIGKILL, KILL) or a number")
        ->type_name("SIGNAL");
    kill->add_option("--exec-id", ko->exec_id, "Signal this exec process instead of the task")
        ->type_name("ID");
    kill->add_flag("-a,--all", ko->all, "Signal every process of the task");
    set_action(*kill, g, [&g, ko] { return finish(kill_command(g, *ko)); });

    auto pa = std::make_shared<IdOptions>();
    auto* pause = group->add_subcommand("pause", "Pause (freeze) a task");
    pause->add_option("id", pa->id, "Container id")->required()->type_name("CONTAINER");
    set_action(*pause, g, [&g, pa] { return finish(pause_command(g, *pa, true)); });
    auto re = std::make_shared<IdOptions>();
    auto* resume = group->add_subcommand("resume", "Resume a paused task");
    resume->add_option("id", re->id, "Container id")->required()->type_name("CONTAINER");
    set_action(*resume, g, [&g, re] { return finish(pause_command(g, *re, false)); });

    auto ro = std::make_shared<RemoveOptions>();
    auto* rm = group->add_subcommand("delete", "Delete stopped tasks");
    rm->alias("del")->alias("remove")->alias("rm");
    rm->add_option("ids", ro->ids, "Container ids")->required()->type_name("CONTAINER");
    rm->add_flag("-f,--force", ro->force, "Kill a task that is still running, then delete it");
    set_action(*rm, g, [&g, ro] { return remove_command(g, *ro); });

    auto mo = std::make_shared<MetricsOptions>();
    auto* metrics = group->add_subcommand("metrics", "Show a task's cgroup metrics");
    metrics->alias("metric");
    metrics->add_option("id", mo->id, "Container id")->required()->type_name("CONTAINER");
    metrics->add_option("--format", mo->format, "table or json")->type_name("FORMAT");
    set_action(*metrics, g, [&g, mo] { return finish(metrics_command(g, *mo)); });

    register_task_processes(*group, g);
}

} // namespace gantry::cli
