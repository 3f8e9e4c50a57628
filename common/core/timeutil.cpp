#include "common/core/timeutil.hpp"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace sp {

// Howard Hinnant's civil date algorithms (public domain).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

namespace {
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}
bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
std::optional<int64_t> fail(std::string* why, const char* msg) {
  if (why) *why = msg;
  return std::nullopt;
}
}  // namespace

std::optional<int64_t> parse_iso8601_ms(std::string_view s, std::string* why) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return fail(why, "expected YYYY-MM-DD at the start");
  if (mo < 1 || mo > 12) return fail(why, "month out of range");
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int maxd = mdays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0);
  if (d < 1 || d > maxd) return fail(why, "day out of range");
  size_t p = 10;
  int64_t ms = 0;
  int64_t offset_min = 0;
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return fail(why, "expected 'T' after the date");
    ++p;
    if (!digits(s, p, 2, h) || p + 2 >= s.size() || s[p + 2] != ':' || !digits(s, p + 3, 2, mi))
      return fail(why, "expected hh:mm after the date");
    p += 5;
    if (p < s.size() && s[p] == ':') {
      if (!digits(s, p + 1, 2, sec)) return fail(why, "bad seconds");
      p += 3;
    }
    if (h > 23 || mi > 59 || sec > 60) return fail(why, "time of day out of range");
    if (sec == 60) sec = 59;  // leap second: ClickHouse DateTime has none
    if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
      ++p;
      size_t start = p;
      int64_t frac = 0;
      int nd = 0;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        if (nd < 3) {
          frac = frac * 10 + (s[p] - '0');
          ++nd;
        }
        ++p;
      }
      if (p == start) return fail(why, "empty fraction of a second");
      while (nd < 3) {
        frac *= 10;
        ++nd;
      }
      ms = frac;
    }
    if (p < s.size()) {
      char c = s[p];
      if (c == 'Z' || c == 'z') {
        ++p;
      } else if (c == '+' || c == '-') {
        int oh, om = 0;
        if (!digits(s, p + 1, 2, oh)) return fail(why, "bad UTC offset");
        size_t q = p + 3;
        if (q < s.size() && s[q] == ':') ++q;
        if (q < s.size()) {
          if (!digits(s, q, 2, om)) return fail(why, "bad UTC offset");
          q += 2;
        }
        if (oh > 23 || om > 59) return fail(why, "UTC offset out of range");
        offset_min = (int64_t{oh} * 60 + om) * (c == '-' ? -1 : 1);
        p = q;
      } else {
        return fail(why, "unexpected text after the time");
      }
    }
    if (p != s.size()) return fail(why, "unexpected text after the time zone");
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + int64_t{h} * 3600 + int64_t{mi} * 60 + sec - offset_min * 60;
  return secs * 1000 + ms;
}

void format_datetime(int64_t t, char out[19]) {
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t rem = t - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  unsigned h = static_cast<unsigned>(rem / 3600), mi = static_cast<unsigned>(rem / 60 % 60),
           s = static_cast<unsigned>(rem % 60);
  auto two = [](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  unsigned yy = static_cast<unsigned>(y < 0 ? 0 : (y > 9999 ? 9999 : y));
  out[0] = static_cast<char>('0' + yy / 1000);
  out[1] = static_cast<char>('0' + yy / 100 % 10);
  out[2] = static_cast<char>('0' + yy / 10 % 10);
  out[3] = static_cast<char>('0' + yy % 10);
  out[4] = '-';
  two(out + 5, m);
  out[7] = '-';
  two(out + 8, d);
  out[10] = ' ';
  two(out + 11, h);
  out[13] = ':';
  two(out + 14, mi);
  out[16] = ':';
  two(out + 17, s);
}

std::string format_datetime(int64_t t) {
  char buf[19];
  format_datetime(t, buf);
  return std::string(buf, 19);
}

int64_t iso_fraction_ns(std::string_view v) {
  // The fraction follows the seconds or minutes; offsets hold no '.' or ','.
  size_t dot = v.size() > 11 ? v.find_first_of(".,", 11) : std::string_view::npos;
  int64_t ns = 0;
  if (dot == std::string_view::npos) return 0;
  int64_t scale = 100000000;
  for (size_t k = dot + 1; k < v.size() && v[k] >= '0' && v[k] <= '9' && scale > 0; ++k, scale /= 10)
    ns += (v[k] - '0') * scale;
  return ns;
}

size_t format_epoch_fraction(int64_t secs, int64_t ns, int precision, char* out) {
  char* p = out;
  for (int64_t k = 1000000000; k > 0; k /= 10) *p++ = static_cast<char>('0' + secs / k % 10);
  if (precision > 0) {
    *p++ = '.';
    int64_t scale = 100000000;
    for (int k = 0; k < precision; ++k, scale /= 10) *p++ = static_cast<char>('0' + ns / scale % 10);
  }
  return static_cast<size_t>(p - out);
}

std::string format_iso_ms(int64_t ms) {
  int64_t secs = floor_seconds(ms);
  int64_t frac = ms - secs * 1000;
  std::string s = format_datetime(secs);
  s[10] = 'T';
  char buf[8];
  std::snprintf(buf, sizeof buf, ".%03dZ", static_cast<int>(frac));
  return s + buf;
}

std::string strftime_utc(const std::string& fmt, int64_t epoch_seconds) {
  time_t t = static_cast<time_t>(epoch_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[1024];
  size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
  return std::string(buf, n);
}

void DateTimeWriter::write(int64_t epoch_seconds, char out[19], char sep) {
  if (epoch_seconds < 0) {
    format_datetime(epoch_seconds, out);
  } else {
    int64_t day = epoch_seconds / 86400, rem = epoch_seconds % 86400;
    if (day != day_) {
      char full[19];
      format_datetime(epoch_seconds, full);
      std::memcpy(date_, full, 10);
      day_ = day;
    }
    auto two = [](char* at, int64_t v) {
      at[0] = static_cast<char>('0' + v / 10);
      at[1] = static_cast<char>('0' + v % 10);
    };
    std::memcpy(out, date_, 10);
    two(out + 11, rem / 3600);
    out[13] = ':';
    two(out + 14, rem / 60 % 60);
    out[16] = ':';
    two(out + 17, rem % 60);
  }
  out[10] = sep;
}

}  // namespace sp
