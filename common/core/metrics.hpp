// Prometheus metrics: a process-wide registry of counters, gauges and histograms, rendered in the
// text exposition format, written to a node_exporter textfile atomically and/or served over HTTP.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sp {

class Counter {
 public:
  void inc(double v = 1) { v_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double v) { v_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // bucket counts are cumulative in the rendering
  std::vector<double> bounds() const { return bounds_; }
  std::vector<uint64_t> counts() const;
  double sum() const;
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  // Names get the "sensor_" prefix when rendered. `labels` is Prometheus label text: topic="t",partition="1".
  // The returned references stay valid for the process lifetime.
  Counter& counter(const std::string& name, const std::string& help, const std::string& labels = "");
  Gauge& gauge(const std::string& name, const std::string& help, const std::string& labels = "");
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                       const std::string& labels = "");
  std::string render() const;
  void clear();  // tests

 private:
  struct Family {
    std::string help, type;
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, const std::string& help, const char* type);
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

Metrics& metrics();

// Label text with values escaped: label("topic", t) + "," + label("partition", "3").
std::string label(const std::string& name, const std::string& value);

// Writes text to path via a temp file in the same directory + rename (node_exporter never sees half a file).
void write_file_atomic(const std::string& path, const std::string& text);

// Owns the --metrics-file / --metrics-listen outputs for a tool run: the file is rewritten every
// 5 s and at finish(); the HTTP server answers GET /metrics until destruction.
class MetricsExporter {
 public:
  MetricsExporter(std::string file, const std::string& listen);
  ~MetricsExporter();
  void finish();  // final textfile write (errors are reported)
  int port() const { return port_; }

 private:
  void file_loop();
  void http_loop();
  std::string file_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread file_thread_, http_thread_;
  std::mutex mu_;
};

}  // namespace sp
