// Gloo process groups and c10d stores, adapted to Stoke's KvStore and Status types.
// The only translation unit that includes c10d headers.
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <thread>

#include "engine/communicator.h"
#include "engine/tcp_kv_store.h"

namespace stoke::engine {

namespace {

using Bytes = std::vector<uint8_t>;

std::string ToString(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// c10d::Store over a Stoke KvStore, so Gloo's connection setup rides on the job's rendezvous
// store. Waits are sliced so an abandoned setup (superseded generation) stops within ~100 ms.
// Thread-safe when the KvStore is.
class KvC10dStore final : public c10d::Store {
 public:
  KvC10dStore(elastic::KvStore& store, std::chrono::milliseconds timeout, std::function<bool()> abandon)
      : c10d::Store(timeout), store_(store), abandon_(std::move(abandon)) {}

  void set(const std::string& key, const Bytes& value) override { Check(store_.Set(key, ToString(value))); }

  Bytes get(const std::string& key) override {
    wait({key}, timeout_);
    auto v = store_.Get(key);
    if (!v.has_value()) Check(v.error());
    return ToBytes(*v);
  }

  Bytes compareSet(const std::string& key, const Bytes& expected, const Bytes& desired) override {
    std::optional<std::string> exp;
    if (!expected.empty()) exp = ToString(expected);
    auto swapped = store_.CompareSet(key, exp, ToString(desired));
    if (!swapped.has_value()) Check(swapped.error());
    if (*swapped) return desired;
    auto now = store_.Get(key);
    return now.has_value() ? ToBytes(*now) : expected;
  }

  int64_t add(const std::string& key, int64_t value) override {
    auto v = store_.Add(key, value);
    if (!v.has_value()) Check(v.error());
    return *v;
  }

  bool deleteKey(const std::string& key) override {
    auto v = store_.Delete(key);
    if (!v.has_value()) Check(v.error());
    return *v;
  }

  bool check(const std::vector<std::string>& keys) override {
    for (const auto& k : keys) {
      if (!store_.Get(k).has_value()) return false;
    }
    return true;
  }

  int64_t getNumKeys() override {
    TORCH_CHECK(false, "KvC10dStore cannot count keys");
    return 0;
  }

  void wait(const std::vector<std::string>& keys) override { wait(keys, timeout_); }

  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      TORCH_CHECK(!(abandon_ && abandon_()), "rendezvous abandoned: generation superseded");
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      TORCH_CHECK(left.count() > 0, "rendezvous timed out waiting for peers");
      Status s = store_.Wait(keys, std::min(left, std::chrono::milliseconds(100)));
      if (s.ok()) return;
      if (s.code() != StatusCode::kDeadlineExceeded) Check(s);
    }
  }

 private:
  static void Check(const Status& s) { TORCH_CHECK(s.ok(), "rendezvous store: ", s.ToString()); }

  elastic::KvStore& store_;
  std::function<bool()> abandon_;
};

// Not thread-safe: one training thread issues collectives in the same order on every rank.
class GlooCommunicator final : public Communicator {
 public:
  GlooCommunicator(c10::intrusive_ptr<c10d::ProcessGroupGloo> pg, int rank, int world)
      : pg_(std::move(pg)), rank_(rank), world_(world) {}

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }

  Status AllReduceSum(std::vector<at::Tensor>& tensors) override {
    Status first;
    for (auto& t : tensors) {
      if (Status s = StartAllReduceSum(t); !s.ok()) {
        first = s;
        break;
      }
    }
    Status waited = WaitStarted();
    return first.ok() ? waited : first;
  }

  Status StartAllReduceSum(at::Tensor& tensor) override {
    try {
      std::vector<at::Tensor> one{tensor};
      started_.push_back(pg_->allreduce(one));
    } catch (const std::exception& e) {
      if (start_failure_.ok()) start_failure_ = Status::Unavailable(std::string("allreduce: ") + e.what());
      return start_failure_;
    }
    return Status::Ok();
  }

  Status WaitStarted() override {
    Status first = start_failure_;
    // Wait for every launched bucket, even after a failure, so none is left in flight.
    for (auto& w : started_) {
      try {
        w->wait();
      } catch (const std::exception& e) {
        if (first.ok()) first = Status::Unavailable(std::string("allreduce: ") + e.what());
      }
    }
    started_.clear();
    start_failure_ = Status::Ok();
    return first;
  }

  Status Broadcast(at::Tensor& tensor, int root) override {
    try {
      std::vector<at::Tensor> one{tensor};
      c10d::BroadcastOptions opts;
      opts.rootRank = root;
      pg_->broadcast(one, opts)->wait();
    } catch (const std::exception& e) {
      return Status::Unavailable(std::string("broadcast: ") + e.what());
    }
    return Status::Ok();
  }

 private:
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  std::vector<c10::intrusive_ptr<c10d::Work>> started_;  // launched, not yet waited for
  Status start_failure_;
  int rank_, world_;
};

}  // namespace

Result<std::unique_ptr<Communicator>> CreateGlooCommunicator(elastic::KvStore& store, int rank, int world_size,
                                                             const GlooOptions& options) {
  if (world_size == 1) return std::unique_ptr<Communicator>(std::make_unique<LocalCommunicator>());
  try {
    auto c10d_store = c10::make_intrusive<KvC10dStore>(store, options.timeout, options.abandon);
    auto opts = c10d::ProcessGroupGloo::Options::create(options.timeout);
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(options.hostname));
    opts->threads = options.threads;
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(c10d_store, rank, world_size, opts);
    return std::unique_ptr<Communicator>(std::make_unique<GlooCommunicator>(std::move(pg), rank, world_size));
  } catch (const std::exception& e) {
    return Err(Status::Unavailable(std::string("gloo setup: ") + e.what()));
  }
}

// ---- TcpKvStore ----

// Borrows one client connection; a connection that saw an error is dropped, not pooled.
class TcpKvStore::Lease {
 public:
  explicit Lease(TcpKvStore& owner) : owner_(owner) {}
  ~Lease() {
    if (client_ && healthy_) {
      std::lock_guard lock(owner_.mu_);
      owner_.idle_.push_back(std::move(client_));
    }
  }
  Status Acquire() {
    {
      std::lock_guard lock(owner_.mu_);
      if (!owner_.idle_.empty()) {
        client_ = std::move(owner_.idle_.back());
        owner_.idle_.pop_back();
        return Status::Ok();
      }
    }
    auto c = owner_.Connect();
    if (!c.has_value()) return c.error();
    client_ = std::move(*c);
    return Status::Ok();
  }
  c10d::TCPStore& operator*() { return *client_; }
  c10d::TCPStore* operator->() { return client_.get(); }
  void MarkBroken() { healthy_ = false; }

 private:
  TcpKvStore& owner_;
  std::unique_ptr<c10d::TCPStore> client_;
  bool healthy_ = true;
};

TcpKvStore::TcpKvStore(std::string host, int port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

TcpKvStore::~TcpKvStore() {
  idle_.clear();  // clients before the server they talk to
  server_.reset();
}

Result<std::unique_ptr<TcpKvStore>> TcpKvStore::Open(const std::string& host, int port, bool is_server,
                                                     std::chrono::milliseconds connect_timeout) {
  auto store = std::unique_ptr<TcpKvStore>(new TcpKvStore(host, port, connect_timeout));
  if (is_server) {
    try {
      c10d::TCPStoreOptions o;
      o.port = static_cast<uint16_t>(port);
      o.isServer = true;
      o.waitWorkers = false;
      o.timeout = connect_timeout;
      store->server_ = std::make_unique<c10d::TCPStore>(host, o);
      store->port_ = store->server_->getPort();
    } catch (const std::exception& e) {
      return Err(Status::Unavailable(std::string("tcp store server: ") + e.what()));
    }
  }
  // Connect once now so a wrong address fails here, not at the first use.
  STOKE_ASSIGN_OR_RETURN(auto first, store->Connect());
  store->idle_.push_back(std::move(first));
  return store;
}

Result<std::unique_ptr<c10d::TCPStore>> TcpKvStore::Connect() {
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(port_);
    o.isServer = false;
    o.waitWorkers = false;
    o.timeout = timeout_;
    return std::make_unique<c10d::TCPStore>(host_, o);
  } catch (const std::exception& e) {
    return Err(Status::Unavailable("tcp store " + host_ + ":" + std::to_string(port_) + ": " + e.what()));
  }
}

// Runs the statements (the variadic part, commas and all) with a leased connection.
#define STOKE_TCP_OP(lease, ...)                                         \
  Lease lease(*this);                                                    \
  STOKE_RETURN_IF_ERROR(lease.Acquire());                                \
  try {                                                                  \
    __VA_ARGS__                                                          \
  } catch (const std::exception& e) {                                    \
    lease.MarkBroken();                                                  \
    return Err(Status::Unavailable(std::string("tcp store: ") + e.what())); \
  }

Status TcpKvStore::Set(std::string_view key, std::string_view value) {
  STOKE_TCP_OP(c, {
    c->set(std::string(key), ToBytes(value));
    return Status::Ok();
  })
}

Result<std::string> TcpKvStore::Get(std::string_view key) {
  STOKE_TCP_OP(c, {
    std::string k(key);
    if (!c->check({k})) return Err(Status::NotFound("no key " + k));
    return ToString(c->get(k));
  })
}

Result<int64_t> TcpKvStore::Add(std::string_view key, int64_t delta) {
  STOKE_TCP_OP(c, { return c->add(std::string(key), delta); })
}

Result<bool> TcpKvStore::CompareSet(std::string_view key, std::optional<std::string_view> expected,
                                    std::string_view desired) {
  STOKE_TCP_OP(c, {
    std::string k(key);
    // c10d treats "absent" and "empty" alike; "must be absent" is checked first (small race).
    if (!expected.has_value() && c->check({k})) return false;
    Bytes result = c->compareSet(k, expected ? ToBytes(*expected) : Bytes{}, ToBytes(desired));
    return result == ToBytes(desired);
  })
}

Status TcpKvStore::Wait(std::span<const std::string> keys, std::chrono::milliseconds timeout) {
  Lease c(*this);
  STOKE_RETURN_IF_ERROR(c.Acquire());
  const auto start = std::chrono::steady_clock::now();
  try {
    c->wait(std::vector<std::string>(keys.begin(), keys.end()), timeout);
    return Status::Ok();
  } catch (const std::exception& e) {
    if (std::chrono::steady_clock::now() - start >= timeout - std::chrono::milliseconds(5)) {
      // c10d reports its timeout by throwing; the connection stays usable... but drop it to be safe.
      c.MarkBroken();
      return Status::DeadlineExceeded("timed out waiting for store keys");
    }
    c.MarkBroken();
    return Status::Unavailable(std::string("tcp store: ") + e.what());
  }
}

Result<bool> TcpKvStore::Delete(std::string_view key) {
  STOKE_TCP_OP(c, { return c->deleteKey(std::string(key)); })
}

}  // namespace stoke::engine
