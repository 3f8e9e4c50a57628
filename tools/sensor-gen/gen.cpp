#include "gen.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/core/errors.hpp"
#include "common/core/timeutil.hpp"
#include "common/rows/envelope.hpp"

namespace sp::gen {

const char* const kBadKinds[] = {"truncated JSON",  "missing field",
                                 "wrong type",      "out of range",
                                 "bad timestamp",   "not JSON",
                                 "empty sensor_id", "NaN value",
                                 "invalid UTF-8",   "empty line",
                                 "Infinity value",  "number too large (1e400)",
                                 "deep nesting",    "array instead of object"};
const int kBadKindCount = 14;

namespace {
// splitmix64: tiny, fast, and the same sequence everywhere (std distributions are not portable).
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
};

std::string iso(int64_t ms) {
  std::string s = format_datetime(ms / 1000);
  s[10] = 'T';
  if (ms % 1000) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(ms % 1000));
    s += buf;
  }
  return s + "Z";
}
}  // namespace

namespace {
// One message's values; each sensor has its own base climate, values drift with time and carry noise.
struct Reading {
  uint64_t id;
  uint32_t sensor;
  int64_t ms;
  double temp;
  int hum, pres;
};

// The random draws come in a fixed order (the output is the same bytes for a seed everywhere).
Reading next_reading(Rng& rng, const Options& opt, uint64_t i) {
  uint32_t sensors = opt.sensors ? opt.sensors : 1;
  Reading r{};
  r.id = opt.first_id + i;
  r.sensor = static_cast<uint32_t>(rng.next() % sensors);
  r.ms = opt.start_ms + static_cast<int64_t>(i) * opt.interval_ms;
  double base_t = 5.0 + (r.sensor % 30);
  double phase = static_cast<double>(r.ms % 86400000) / 86400000.0 * 6.283185307;
  r.temp = std::round((base_t + 4.0 * std::sin(phase) + (rng.unit() - 0.5) * 2.0) * 10) / 10;
  r.hum = static_cast<int>(30 + (r.sensor * 7) % 50 + rng.next() % 10);
  r.pres = static_cast<int>(990 + (r.sensor * 3) % 40 + rng.next() % 5);
  return r;
}

std::string sensor_name(uint32_t sensor) {
  char tmp[32];
  return "sensor-" + std::string(tmp, static_cast<size_t>(std::snprintf(tmp, sizeof tmp, "%03u", sensor)));
}

// A CSV row; a bad one is cut in half (too few fields).
std::string csv_line(const Reading& r, bool bad) {
  char tmp[256];
  std::snprintf(tmp, sizeof tmp, "msg-%llu,%s,sensor-%03u,%.1f,%d,%d", static_cast<unsigned long long>(r.id),
                iso(r.ms).c_str(), r.sensor, r.temp, r.hum, r.pres);
  std::string line = tmp;
  if (bad) line = line.substr(0, line.size() / 2);
  return line;
}

// A seed-format JSON message; kind >= 0 makes it the malformed kind kBadKinds[kind].
std::string json_line(const Reading& r, int kind) {
  std::string ts = kind == 4 ? "2025-13-45T99:00:00Z" : iso(r.ms);
  std::string sensor_id = kind == 6 ? "" : sensor_name(r.sensor);
  char tbuf[32];
  std::snprintf(tbuf, sizeof tbuf, "%.1f", r.temp);
  std::string tval = tbuf;
  if (kind == 3) tval = "9999.0";
  if (kind == 7) tval = "NaN";
  if (kind == 2) tval = "\"warm\"";
  char tmp[256];
  std::snprintf(tmp, sizeof tmp,
                "{\"id\":\"msg-%llu\",\"timestamp\":\"%s\",\"value\":{\"sensor_id\":\"%s\",\"temperature\":%s,"
                "\"humidity\":%d,\"pressure\":%d}}",
                static_cast<unsigned long long>(r.id), ts.c_str(), sensor_id.c_str(), tval.c_str(), r.hum, r.pres);
  std::string line = tmp;
  if (kind == 0) line = line.substr(0, line.size() - 7);
  if (kind == 1) {
    auto p = line.find(",\"humidity\"");
    auto e = line.find(',', p + 1);
    line.erase(p, e - p);
  }
  if (kind == 5) line = "sensor " + std::to_string(r.sensor) + " says hello";
  if (kind == 8) line.replace(line.find("msg-") + 3, 1, "\xff");
  if (kind == 9) line.clear();
  if (kind == 10) line.replace(line.find(tval), tval.size(), "Infinity");
  if (kind == 11) line.replace(line.find(tval), tval.size(), "1e400");
  if (kind == 12) line.insert(1, "\"deep\":" + std::string(2000, '[') + std::string(2000, ']') + ",");
  if (kind == 13) line = "[" + line + "]";
  return line;
}

// The message as kafka-cat-sensor --envelope writes it (the envelope module's head): the value
// embedded as JSON, or as a JSON string when the Kafka value is not JSON. The value is written
// here, not by append_envelope: kind 8's stray byte must stay raw (append_envelope would base64 it).
std::string envelope_line(const std::string& line, const Reading& r, int kind, uint32_t partitions,
                          std::vector<uint64_t>& offsets) {
  bool json_value = !(kind == 0 || kind == 5 || kind == 7 || kind == 8 || kind == 9 || kind == 10);
  uint32_t parts = partitions ? partitions : 1;
  uint32_t part = r.sensor % parts;
  if (offsets.size() < parts) offsets.resize(parts, 0);
  std::string key = sensor_name(r.sensor);
  envelope::MessageView m;
  m.topic = "sensor_metrics";
  m.partition = static_cast<int32_t>(part);
  m.offset = static_cast<int64_t>(offsets[part]++);
  m.timestamp_ms = r.ms;
  m.key = envelope::bytes(key);
  std::string env;
  envelope::append_head(env, m);
  env += "\"value\":";
  if (json_value) {
    env += line;
  } else {
    env += '"';
    // kind 8's stray 0xff byte stays raw: the whole line is then not UTF-8
    for (char c : line) {
      if (c == '"' || c == '\\') env += '\\';
      env += c;
    }
    env += '"';
  }
  return env + "}";
}
}  // namespace

double parse_rate(const std::string& text) {
  size_t used = 0;
  double n = 0;
  try {
    n = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = used ? text.substr(used) : "";
  double per = unit.empty() || unit == "/s" ? 1 : unit == "/m" ? 60 : unit == "/h" ? 3600 : 0;
  if (!used || per == 0 || !std::isfinite(n) || n <= 0)
    throw UsageError("--rate: '" + text + "' is not a rate: give messages per second, minute or hour (100, 100/s, 600/m, 3600/h)");
  return n / per;
}

namespace {
// With a rate: flushes what is buffered and sleeps until line i is due (in slices, so a stop request is
// seen within 100 ms); false when stopped.
bool pace(const Options& opt, uint64_t i, std::chrono::steady_clock::time_point start, std::string& buf,
          std::ostream& out) {
  auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(static_cast<double>(i) / opt.rate));
  if (std::chrono::steady_clock::now() >= due) return true;
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  out.flush();
  buf.clear();
  if (!out) return false;  // the reader is gone (`sensor-gen -c 0 --rate 10/s | head`)
  for (auto now = std::chrono::steady_clock::now(); now < due; now = std::chrono::steady_clock::now()) {
    if (opt.stop && opt.stop()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(due - now, std::chrono::milliseconds(100)));
  }
  return true;
}
}  // namespace

Stats generate(const Options& opt, std::ostream& out) {
  Rng rng{opt.seed};
  // which lines are malformed: a stream of its own, so that the readings (and so the good lines) of a
  // seed do not depend on --bad-fraction
  Rng bad_rng{opt.seed ^ 0x6261646c696e6573ULL};
  auto start = std::chrono::steady_clock::now();
  Stats st;
  std::string buf;
  buf.reserve(1 << 16);
  if (opt.csv) buf += "id,timestamp,sensor_id,temperature,humidity,pressure\n";
  std::vector<uint64_t> offsets;  // next offset per partition (--envelope)
  for (uint64_t i = 0; opt.count == 0 || i < opt.count; ++i) {
    if ((opt.stop && (opt.rate > 0 || i % 4096 == 0) && opt.stop()) || (opt.rate > 0 && !pace(opt, i, start, buf, out))) {
      st.stopped = true;
      break;
    }
    Reading r = next_reading(rng, opt, i);
    bool bad = bad_rng.unit() < opt.bad_fraction;
    if (opt.csv) {
      buf += csv_line(r, bad);
    } else {
      int kind = bad ? static_cast<int>(st.bad % kBadKindCount) : -1;
      std::string line = json_line(r, kind);
      buf += opt.envelope ? envelope_line(line, r, kind, opt.partitions, offsets) : line;
    }
    ++(bad ? st.bad : st.good);
    buf += '\n';
    if (buf.size() > (1 << 16) - 512) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
      if (!out) break;  // without an end (-c 0) nothing else would stop it
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  return st;
}

}  // namespace sp::gen
