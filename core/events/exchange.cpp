#include "core/events/exchange.hpp"

#include "core/metadata/identifiers.hpp"
#include "core/metadata/value_encoding.hpp"

#include <algorithm>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>

namespace gantry::events {

namespace detail {

struct SubscriberState {
    filters::Filter filter;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Envelope> queue;
    bool closed = false;   // close() or exchange gone: Canceled
    bool overflow = false; // fell behind: FailedPrecondition
};

} // namespace detail

namespace {

namespace pb = google::protobuf;

// Go's zero time.Time as a protobuf Timestamp (protocol-facts §1.5).
constexpr std::int64_t kGoZeroSeconds = -62135596800;

// event.<path> by reflection. Owns the decoded message for the duration of one match.
class MessageAdaptor final : public filters::Adaptor {
public:
    explicit MessageAdaptor(const pb::Message* msg) : msg_(msg) {}

    std::optional<std::string_view> field(std::span<const std::string> path) const override {
        return lookup(*msg_, path);
    }

private:
    std::optional<std::string_view> lookup(const pb::Message& m,
                                           std::span<const std::string> path) const {
        if (path.empty()) return std::nullopt;
        const auto* desc = m.GetDescriptor();
        const auto* fd = desc->FindFieldByName(path.front());
        if (fd == nullptr) return std::nullopt;
        const auto* refl = m.GetReflection();
        const auto rest = path.subspan(1);
        if (fd->is_map()) {
            const auto* entry = fd->message_type();
            const auto* kf = entry->map_key();
            const auto* vf = entry->map_value();
            if (kf->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING ||
                vf->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING || rest.empty())
                return std::nullopt;
            std::string key;
            for (std::size_t i = 0; i < rest.size(); ++i) {
                if (i) key.push_back('.');
                key += rest[i];
            }
            const int n = refl->FieldSize(m, fd);
            for (int i = 0; i < n; ++i) {
                const auto& e = refl->GetRepeatedMessage(m, fd, i);
                if (e.GetReflection()->GetString(e, kf) == key) {
                    buf_ = e.GetReflection()->GetString(e, vf);
                    return std::string_view(buf_);
                }
            }
            return std::nullopt;
        }
        if (fd->is_repeated()) return std::nullopt;
        switch (fd->cpp_type()) {
        case pb::FieldDescriptor::CPPTYPE_STRING:
            buf_ = refl->GetString(m, fd);
            if (buf_.empty()) return std::nullopt;
            return std::string_view(buf_);
        case pb::FieldDescriptor::CPPTYPE_BOOL:
            return refl->GetBool(m, fd) ? std::string_view("true") : std::string_view("false");
        case pb::FieldDescriptor::CPPTYPE_MESSAGE:
            if (!refl->HasField(m, fd)) return std::nullopt;
            return lookup(refl->GetMessage(m, fd), rest);
        default:
            // containerd's generated adaptors expose strings, bools and nested messages only.
            return std::nullopt;
        }
    }

    const pb::Message* msg_;
    mutable std::string buf_;
};

// The envelope's fields; decodes the event on first use of an event.<...> path.
class EnvelopeAdaptor final : public filters::Adaptor {
public:
    explicit EnvelopeAdaptor(const Envelope& env) : env_(env) {}

    std::optional<std::string_view> field(std::span<const std::string> path) const override {
        const auto& head = path.front();
        if (head == "namespace") {
            if (env_.namespace_().empty()) return std::nullopt;
            return std::string_view(env_.namespace_());
        }
        if (head == "topic") {
            if (env_.topic().empty()) return std::nullopt;
            return std::string_view(env_.topic());
        }
        if (head == "event") {
            const pb::Message* msg = decoded();
            if (msg == nullptr) return std::nullopt;
            const MessageAdaptor inner(msg);
            auto v = inner.field(path.subspan(1));
            if (!v) return std::nullopt;
            buf_ = *v; // `inner` and its buffer die at the end of this scope
            return std::string_view(buf_);
        }
        return std::nullopt;
    }

private:
    const pb::Message* decoded() const {
        if (tried_) return msg_.get();
        tried_ = true;
        if (!env_.has_event()) return nullptr;
        const auto* desc =
            pb::DescriptorPool::generated_pool()->FindMessageTypeByName(env_.event().type_url());
        if (desc == nullptr) return nullptr;
        const pb::Message* proto = pb::MessageFactory::generated_factory()->GetPrototype(desc);
        if (proto == nullptr) return nullptr;
        msg_.reset(proto->New());
        if (!msg_->ParseFromString(env_.event().value())) msg_.reset();
        return msg_.get();
    }

    const Envelope& env_;
    mutable bool tried_ = false;
    mutable std::unique_ptr<pb::Message> msg_;
    mutable std::string buf_;
};

} // namespace

Status validate_topic(std::string_view topic) {
    const auto fail = [&](std::string why) {
        return invalid_argument("envelope topic \"" + std::string(topic) + "\": " + why);
    };
    if (topic.empty()) return fail("must not be empty");
    if (topic.front() != '/') return fail("must start with '/'");
    if (topic.size() == 1) return fail("must have at least one component");
    std::string_view rest = topic.substr(1);
    while (true) {
        const auto slash = rest.find('/');
        const auto component = rest.substr(0, slash);
        if (auto st = metadata::validate_identifier(component); !st.ok())
            return fail("failed validation on component \"" + std::string(component) +
                        "\": " + st.error().message());
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
    return ok_status();
}

bool envelope_matches(const filters::Filter& filter, const Envelope& envelope) {
    if (filter.matches_everything()) return true;
    return filter.match(EnvelopeAdaptor(envelope));
}

// ---- Subscription ----

Subscription& Subscription::operator=(Subscription&& other) noexcept {
    if (this != &other) {
        release();
        exchange_ = std::move(other.exchange_);
        state_ = std::move(other.state_);
    }
    return *this;
}

Subscription::~Subscription() {
    release();
}

void Subscription::release() {
    if (!state_) return;
    if (auto ex = exchange_.lock()) ex->remove(state_.get());
    state_.reset();
}

void Subscription::close() {
    if (!state_) return;
    std::lock_guard lock(state_->mu);
    state_->closed = true;
    state_->cv.notify_all();
}

Result<std::optional<Envelope>> Subscription::next(std::chrono::milliseconds timeout) {
    if (!state_) return Error(Errc::Canceled, "subscription closed");
    auto& s = *state_;
    std::unique_lock lock(s.mu);
    s.cv.wait_for(lock, timeout, [&] { return s.closed || s.overflow || !s.queue.empty(); });
    if (s.overflow)
        return failed_precondition("subscriber fell behind: more than the exchange's queue "
                                   "limit of events were waiting; subscribe again");
    if (!s.queue.empty()) {
        Envelope e = std::move(s.queue.front());
        s.queue.pop_front();
        return std::optional<Envelope>(std::move(e));
    }
    if (s.closed) return Error(Errc::Canceled, "subscription closed");
    return std::optional<Envelope>();
}

// ---- Exchange ----

std::shared_ptr<Exchange> Exchange::create(Options options) {
    return std::make_shared<Exchange>(options);
}

Status Exchange::publish(std::string_view ns, std::string_view topic,
                         const google::protobuf::Message& event) {
    if (auto st = metadata::validate_identifier(ns); !st.ok())
        return std::move(st).error().wrap("failed publishing event");
    GANTRY_TRY(validate_topic(topic));
    Envelope env;
    const auto now = metadata::to_timestamp(std::chrono::system_clock::now());
    env.mutable_timestamp()->set_seconds(now.seconds);
    env.mutable_timestamp()->set_nanos(now.nanos);
    env.set_namespace_(std::string(ns));
    env.set_topic(std::string(topic));
    env.mutable_event()->set_type_url(event.GetDescriptor()->full_name());
    if (!event.SerializeToString(env.mutable_event()->mutable_value()))
        return invalid_argument("failed marshaling event " + event.GetDescriptor()->full_name());
    deliver(env);
    return ok_status();
}

Status Exchange::forward(Envelope envelope) {
    if (auto st = metadata::validate_identifier(envelope.namespace_()); !st.ok())
        return std::move(st).error().wrap("event envelope has invalid namespace");
    GANTRY_TRY(validate_topic(envelope.topic()));
    if (!envelope.has_timestamp() ||
        (envelope.timestamp().seconds() == kGoZeroSeconds && envelope.timestamp().nanos() == 0))
        return invalid_argument("timestamp must be set on forwarded event");
    deliver(envelope);
    return ok_status();
}

void Exchange::deliver(const Envelope& envelope) {
    // The exchange lock is held while delivering, so subscribers see envelopes in one global
    // order; per subscriber only a queue append happens, never a wait for a reader.
    // One adaptor for all subscribers: the event is decoded at most once per delivery.
    const EnvelopeAdaptor fields(envelope);
    std::lock_guard lock(mu_);
    for (const auto& s : subscribers_) {
        if (!s->filter.matches_everything() && !s->filter.match(fields)) continue;
        std::lock_guard sl(s->mu);
        if (s->closed || s->overflow) continue;
        if (s->queue.size() >= options_.queue_limit) {
            s->overflow = true;
            s->queue.clear();
        } else {
            s->queue.push_back(envelope);
        }
        s->cv.notify_all();
    }
}

Result<Subscription> Exchange::subscribe(std::span<const std::string> filter_strings) {
    auto f = filters::parse(filter_strings);
    if (!f.ok()) return std::move(f).error().wrap("failed parsing subscription filters");
    return subscribe(std::move(f).value());
}

Subscription Exchange::subscribe(filters::Filter filter) {
    auto s = std::make_shared<detail::SubscriberState>();
    s->filter = std::move(filter);
    {
        std::lock_guard lock(mu_);
        subscribers_.push_back(s);
    }
    return Subscription(weak_from_this(), std::move(s));
}

void Exchange::remove(const detail::SubscriberState* s) {
    std::lock_guard lock(mu_);
    std::erase_if(subscribers_, [&](const auto& p) { return p.get() == s; });
}

void Exchange::close_all() {
    std::vector<std::shared_ptr<detail::SubscriberState>> all;
    {
        std::lock_guard lock(mu_);
        all.swap(subscribers_);
    }
    for (auto& s : all) {
        std::lock_guard sl(s->mu);
        s->closed = true;
        s->cv.notify_all();
    }
}

std::size_t Exchange::subscriber_count() const {
    std::lock_guard lock(mu_);
    return subscribers_.size();
}

} // namespace gantry::events
