// --mock-cluster: librdkafka's in-process Kafka-protocol cluster, reachable over TCP by other
// processes (the tests, the demo, kcat), with a small control channel for fault injection.
#include <librdkafka/rdkafka.h>
// clang-format off: the mock header needs rdkafka.h first
#include <librdkafka/rdkafka_mock.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <sstream>
#include <thread>

#include "common/core/errors.hpp"
#include "common/kafka/kafka.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"
#include "kcs.hpp"

namespace sp::kcs {

namespace {

// One control command: "down ID", "up ID", "rtt ID MS", "topic NAME PARTITIONS".
// Returns an empty string on success, else the reason.
std::string control(rd_kafka_mock_cluster_t* mc, int brokers, const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  auto broker_id = [&](int32_t& id) {
    if (!(in >> id) || id < 1 || id > brokers) return false;
    return true;
  };
  int32_t id = 0;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (cmd == "down") {
    if (!broker_id(id)) return "expected: down BROKER_ID (1.." + std::to_string(brokers) + ")";
    err = rd_kafka_mock_broker_set_down(mc, id);
  } else if (cmd == "up") {
    if (!broker_id(id)) return "expected: up BROKER_ID (1.." + std::to_string(brokers) + ")";
    err = rd_kafka_mock_broker_set_up(mc, id);
  } else if (cmd == "rtt") {
    int ms = 0;
    if (!broker_id(id) || !(in >> ms) || ms < 0) return "expected: rtt BROKER_ID MILLISECONDS";
    err = rd_kafka_mock_broker_set_rtt(mc, id, ms);
  } else if (cmd == "topic") {
    std::string name;
    int parts = 0;
    if (!(in >> name >> parts) || parts < 1) return "expected: topic NAME PARTITIONS";
    err = rd_kafka_mock_topic_create(mc, name.c_str(), parts, brokers < 3 ? brokers : 3);
  } else {
    return "unknown command '" + cmd + "' (down, up, rtt, topic)";
  }
  if (err) return kafka::err_text(err);
  return "";
}

void control_loop(rd_kafka_mock_cluster_t* mc, int brokers, const std::string& path, std::atomic<bool>& stop) {
  struct stat st {};
  bool fifo = ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
  int fd = ::open(path.c_str(), (fifo ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    log::error("--mock-control ", path, ": ", errno_text(errno));
    return;
  }
  std::string pending;
  char buf[4096];
  while (!stop) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 100);
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      if (n == 0 && !fifo) ::usleep(100000);
      continue;
    }
    pending.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.empty()) continue;
      std::string why = control(mc, brokers, line);
      if (why.empty())
        log::info("mock cluster: ", log::printable(line, 200));
      else
        log::warn("--mock-control: '", log::printable(line, 200), "': ", log::printable(why, 300));
    }
  }
  ::close(fd);
}

}  // namespace

int run_mock(const Options& o, int out_fd) {
  if (o.mock_brokers < 1 || o.mock_brokers > 16) throw UsageError("--mock-cluster: 1 to 16 brokers");
  if (o.mock_partitions < 1 || o.mock_partitions > 10000) throw UsageError("--partitions: 1 to 10000");
  // the cluster needs a client handle for its bookkeeping; it never connects anywhere
  auto conf = kafka::make_conf({{"client.id", "kafka-cat-sensor-mock"}}, o.x_props);
  auto rk = kafka::make_handle(RD_KAFKA_PRODUCER, std::move(conf));
  rd_kafka_mock_cluster_t* mc;
  {
    StopSignalsBlocked blocked;  // its thread too leaves the stop signals to this one
    mc = rd_kafka_mock_cluster_new(rk.get(), o.mock_brokers);
  }
  if (!mc) throw UnavailableError("could not start the mock cluster (no free port on 127.0.0.1?)");
  int replicas = o.mock_brokers < 3 ? o.mock_brokers : 3;
  for (const auto& t : o.topics) {
    auto err = rd_kafka_mock_topic_create(mc, t.c_str(), o.mock_partitions, replicas);
    if (err) {
      rd_kafka_mock_cluster_destroy(mc);
      throw UsageError("creating topic '" + t + "': " + kafka::err_text(err));
    }
  }
  std::string line = std::string(rd_kafka_mock_cluster_bootstraps(mc)) + "\n";
  if (::write(out_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    log::warn("could not write the bootstrap servers to stdout");
  log::info("mock cluster with ", o.mock_brokers, " brokers at ", line.substr(0, line.size() - 1), ", topics with ",
            o.mock_partitions, " partitions; stop with SIGTERM or SIGINT");
  std::atomic<bool> stop{false};
  std::thread ctl;
  if (!o.mock_control.empty())
    ctl = start_thread("--mock-control reader", [&] { control_loop(mc, o.mock_brokers, o.mock_control, stop); });
  while (!stop_requested()) ::usleep(100000);
  stop = true;
  if (ctl.joinable()) ctl.join();
  rd_kafka_mock_cluster_destroy(mc);
  return 0;
}

}  // namespace sp::kcs
