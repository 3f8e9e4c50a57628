// ISO-8601 / RFC 3339 timestamps <-> epoch, without the C library's time zone state (thread-safe, fast).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sp {

// Parses "2025-07-07T22:00:00Z", "2025-07-07 22:00:00", "...T22:00:00.123+02:00", "...+0200",
// and a date alone ("2025-07-07", midnight UTC). No offset means UTC. Returns epoch milliseconds
// (fractions beyond ms are truncated), or nullopt with *why set to a short reason.
std::optional<int64_t> parse_iso8601_ms(std::string_view s, std::string* why = nullptr);

// Whole seconds of an epoch in milliseconds, rounded down (-1 ms is -1 s); defined for every
// int64 (the textbook -((-ms + 999) / 1000) overflows near INT64_MIN).
inline int64_t floor_seconds(int64_t ms) { return ms / 1000 - (ms % 1000 < 0 ? 1 : 0); }

// 2025-07-07 22:00:00 (ClickHouse DateTime text, UTC). Writes 19 chars into out.
void format_datetime(int64_t epoch_seconds, char out[19]);
std::string format_datetime(int64_t epoch_seconds);
// format_datetime for a stream of times that mostly share a day (rows, envelopes): the date is
// formatted once a day, the time of day in place. `sep` goes between them (' ', or 'T' for ISO).
class DateTimeWriter {
 public:
  void write(int64_t epoch_seconds, char out[19], char sep = ' ');

 private:
  int64_t day_ = -1;
  char date_[10] = {};
};
// 2025-07-07T22:00:00.123Z
std::string format_iso_ms(int64_t epoch_ms);

// Nanoseconds of the fraction of a second written in an ISO-8601 text ("...:00.1234Z" -> 123400000;
// digits beyond 9 ignored; 0 without a fraction). parse_iso8601_ms keeps only milliseconds.
int64_t iso_fraction_ns(std::string_view s);
// DateTime64 text as sensor-parse writes it: 10-digit epoch seconds (zero-padded: ClickHouse reads
// a DateTime64 timestamp of exactly 10 digits in every format) and `precision` digits of ns, cut.
// secs must be 0..9999999999; writes at most 20 chars into out and returns the length.
size_t format_epoch_fraction(int64_t secs, int64_t ns, int precision, char* out);

// Days since 1970-01-01 for a civil date (proleptic Gregorian), and back.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d);

// strftime on a UTC time (for S3 key templates).
std::string strftime_utc(const std::string& fmt, int64_t epoch_seconds);

}  // namespace sp
