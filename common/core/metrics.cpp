#include "common/core/metrics.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"

namespace sp {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lk(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}
std::vector<uint64_t> Histogram::counts() const {
  std::lock_guard<std::mutex> lk(mu_);
  return counts_;
}
double Histogram::sum() const {
  std::lock_guard<std::mutex> lk(mu_);
  return sum_;
}
uint64_t Histogram::count() const {
  std::lock_guard<std::mutex> lk(mu_);
  return count_;
}

Metrics& metrics() {
  static Metrics m;
  return m;
}

Metrics::Family& Metrics::family(const std::string& name, const std::string& help, const char* type) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.help = help;
    f.type = type;
  }
  return f;
}

Counter& Metrics::counter(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard<std::mutex> lk(mu_);
  auto& slot = family(name, help, "counter").counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}
Gauge& Metrics::gauge(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard<std::mutex> lk(mu_);
  auto& slot = family(name, help, "gauge").gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}
Histogram& Metrics::histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                              const std::string& labels) {
  std::lock_guard<std::mutex> lk(mu_);
  auto& slot = family(name, help, "histogram").histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

void Metrics::clear() {
  std::lock_guard<std::mutex> lk(mu_);
  families_.clear();
}

namespace {
std::string num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string with_labels(const std::string& name, const std::string& labels, const std::string& extra = "") {
  std::string l = labels;
  if (!extra.empty()) l = l.empty() ? extra : l + "," + extra;
  return l.empty() ? name : name + "{" + l + "}";
}
}  // namespace

std::string Metrics::render() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::ostringstream os;
  for (const auto& [raw, f] : families_) {
    std::string name = "sensor_" + raw;
    os << "# HELP " << name << " " << f.help << "\n# TYPE " << name << " " << f.type << "\n";
    for (const auto& [labels, c] : f.counters) os << with_labels(name, labels) << " " << num(c->value()) << "\n";
    for (const auto& [labels, g] : f.gauges) os << with_labels(name, labels) << " " << num(g->value()) << "\n";
    for (const auto& [labels, h] : f.histograms) {
      auto counts = h->counts();
      auto bounds = h->bounds();
      uint64_t cum = 0;
      for (size_t i = 0; i < counts.size(); ++i) {
        cum += counts[i];
        std::string le = i < bounds.size() ? num(bounds[i]) : "+Inf";
        os << with_labels(name + "_bucket", labels, "le=\"" + le + "\"") << " " << cum << "\n";
      }
      os << with_labels(name + "_sum", labels) << " " << num(h->sum()) << "\n";
      os << with_labels(name + "_count", labels) << " " << h->count() << "\n";
    }
  }
  return os.str();
}

std::string label(const std::string& name, const std::string& value) {
  std::string out = name + "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

void write_file_atomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw IoError("cannot write " + tmp + ": " + errno_text(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw IoError("cannot write " + path + ": " + errno_text(err));
  }
}

MetricsExporter::MetricsExporter(std::string file, const std::string& listen) : file_(std::move(file)) {
  if (!listen.empty()) {
    std::string host = "127.0.0.1", port = listen;
    if (auto colon = listen.rfind(':'); colon != std::string::npos) {
      host = listen.substr(0, colon);
      port = listen.substr(colon + 1);
    }
    if (host.empty() || host == "localhost") host = "127.0.0.1";
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end || p < 0 || p > 65535 || inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
      throw UsageError("--metrics-listen wants HOST:PORT with an IPv4 address, got '" + listen + "'");
    addr.sin_port = htons(static_cast<uint16_t>(p));
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
      int err = errno;
      if (listen_fd_ >= 0) ::close(listen_fd_);
      listen_fd_ = -1;
      throw IoError("cannot listen on " + listen + " for /metrics: " + errno_text(err));
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    log::info("serving metrics on http://", host, ":", port_, "/metrics");
    http_thread_ = start_thread("metrics listener", [this] { http_loop(); });
  }
  if (!file_.empty()) file_thread_ = start_thread("metrics file", [this] { file_loop(); });
}

MetricsExporter::~MetricsExporter() {
  stop_ = true;
  if (file_thread_.joinable()) file_thread_.join();
  if (http_thread_.joinable()) http_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void MetricsExporter::finish() {
  stop_ = true;
  if (file_thread_.joinable()) file_thread_.join();
  if (!file_.empty()) write_file_atomic(file_, metrics().render());
}

void MetricsExporter::file_loop() {
  auto next = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::chrono::steady_clock::now() < next) continue;
    next += std::chrono::seconds(5);
    try {
      write_file_atomic(file_, metrics().render());
    } catch (const std::exception& e) {
      log::warn(e.what());
    }
  }
}

void MetricsExporter::http_loop() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    // Read the request head (bounded), answer, close: scrapers send one small GET.
    std::string req;
    char buf[2048];
    for (int i = 0; i < 8 && req.find("\r\n\r\n") == std::string::npos && req.size() < 16384; ++i) {
      pollfd cp{c, POLLIN, 0};
      if (::poll(&cp, 1, 1000) <= 0) break;
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string status = "200 OK", body;
    if (req.starts_with("GET /metrics") || req.starts_with("GET / ")) {
      body = metrics().render();
    } else {
      status = "404 Not Found";
      body = "only GET /metrics is served here\n";
    }
    std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    size_t off = 0;
    while (off < resp.size()) {
      ssize_t n = ::send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(c);
  }
}

}  // namespace sp
