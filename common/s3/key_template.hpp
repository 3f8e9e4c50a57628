// The archive's key template, one definition for the writer and the reader: s3-put renders a key
// from it for every object it opens; s3-cat --hour derives from the same template the listing prefix
// that selects the objects opened in one hour. Fields: strftime conversions (UTC, at the time the
// object was opened: the archiving clock, not the data's), {host}, {run}, {seq}, {seq:N}.
#pragma once
#include <cstdint>
#include <ctime>
#include <string>

namespace sp::s3 {

// The values of one key's fields.
struct KeyValues {
  std::time_t time = 0;  // when the object was opened (UTC)
  std::string host;      // {host}
  std::string run;       // {run}
  uint64_t seq = 0;      // {seq}, {seq:N}
};

// Expands the template and appends `ext` unless the key already ends in it. Throws UsageError for
// an unknown field, a bad {seq:N}, an empty or over-long key, and a key holding a control character
// (from %n / %t, or from a value such as a --host-name with a newline): such a key splits log lines
// and `s3-cat --list` output.
std::string render_key(const std::string& tmpl, const KeyValues& v, const std::string& ext = "");

// True when the template has the field ("seq" also matches {seq:N}).
bool has_field(const std::string& tmpl, const std::string& name);

// The listing prefix of the objects whose key time falls in the hour starting at hour_start (UTC):
// the template's start rendered up to the first field the hour does not fix (minutes, seconds,
// {host}, ...). Every conversion in that start must be of fixed width, and it must hold the year,
// the day and the hour (%Y, %m and %d or %j, or %F; %H): otherwise UsageError saying why the
// template cannot select an hour.
std::string hour_prefix(const std::string& tmpl, std::time_t hour_start);

// Parses "2025-07-07T22" (an hour, UTC; a trailing "Z" and ":00" / ":00:00" are accepted) into the
// epoch second it starts; UsageError otherwise.
std::time_t parse_hour(const std::string& text);

// Throws UsageError naming `what` when text holds a control character (shown escaped).
void check_no_control(const std::string& what, const std::string& text);

}  // namespace sp::s3
