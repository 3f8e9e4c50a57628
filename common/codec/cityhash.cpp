// CityHash64, version 1.0.2, written here from Google's published algorithm.
//
// Original: CityHash, Copyright (c) 2011 Google, Inc., by Geoff Pike and Jyrki Alakuijala, under the
// MIT license: Permission is hereby granted, free of charge, to any person obtaining a copy of this
// software and associated documentation files (the "Software"), to deal in the Software without
// restriction, including without limitation the rights to use, copy, modify, merge, publish,
// distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
// Software is furnished to do so, subject to the following conditions: The above copyright notice and
// this permission notice shall be included in all copies or substantial portions of the Software.
// THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
//
// Only the 64-bit hash without seed, as ClickHouse's cityHash64(String) uses it; words are read
// little-endian (ClickHouse runs on little-endian machines only, so its values are those).
#include "common/codec/cityhash.hpp"

#include <cstring>
#include <utility>

namespace sp::codec {

namespace {

constexpr uint64_t k0 = 0xc3a5c85c97cb3127ULL;
constexpr uint64_t k1 = 0xb492b66fbe98f273ULL;
constexpr uint64_t k2 = 0x9ae16a3b2f90404fULL;
constexpr uint64_t k3 = 0xc949d7c7509e6557ULL;
constexpr uint64_t kMul = 0x9ddfea08eb382d69ULL;

// One load on a little-endian host (the byte loops were not merged into one by the compiler: 9
// instructions a byte over a batch's body for ch-insert's deduplication token).
uint64_t load64(const char* p) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
#else
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
#endif
}
uint64_t load32(const char* p) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
#else
  uint64_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
#endif
}

uint64_t rotate(uint64_t v, int shift) { return shift == 0 ? v : (v >> shift) | (v << (64 - shift)); }
uint64_t shift_mix(uint64_t v) { return v ^ (v >> 47); }

// v1.0.2's Hash128to64 of the pair (low u, high v).
uint64_t hash16(uint64_t u, uint64_t v) {
  uint64_t a = (u ^ v) * kMul;
  a ^= a >> 47;
  uint64_t b = (v ^ a) * kMul;
  b ^= b >> 47;
  return b * kMul;
}

uint64_t hash_0_to_16(const char* s, size_t len) {
  if (len > 8) {
    uint64_t a = load64(s), b = load64(s + len - 8);
    // len is 9..16 here, so the rotation is by at least 1
    return hash16(a, rotate(b + len, static_cast<int>(len))) ^ b;
  }
  if (len >= 4) {
    uint64_t a = load32(s);
    return hash16(len + (a << 3), load32(s + len - 4));
  }
  if (len > 0) {
    auto a = static_cast<uint8_t>(s[0]), b = static_cast<uint8_t>(s[len >> 1]), c = static_cast<uint8_t>(s[len - 1]);
    uint32_t y = static_cast<uint32_t>(a) + (static_cast<uint32_t>(b) << 8);
    uint32_t z = static_cast<uint32_t>(len) + (static_cast<uint32_t>(c) << 2);
    return shift_mix(y * k2 ^ z * k3) * k2;
  }
  return k2;
}

uint64_t hash_17_to_32(const char* s, size_t len) {
  uint64_t a = load64(s) * k1;
  uint64_t b = load64(s + 8);
  uint64_t c = load64(s + len - 8) * k2;
  uint64_t d = load64(s + len - 16) * k0;
  return hash16(rotate(a - b, 43) + rotate(c, 30) + d, a + rotate(b ^ k3, 20) - c + len);
}

// 32 bytes w, x, y, z mixed into the seeds a, b.
std::pair<uint64_t, uint64_t> weak_hash32(const char* s, uint64_t a, uint64_t b) {
  uint64_t w = load64(s), x = load64(s + 8), y = load64(s + 16), z = load64(s + 24);
  a += w;
  b = rotate(b + a + z, 21);
  uint64_t c = a;
  a += x;
  a += y;
  b += rotate(a, 44);
  return {a + z, b + c};
}

uint64_t hash_33_to_64(const char* s, size_t len) {
  uint64_t z = load64(s + 24);
  uint64_t a = load64(s) + (len + load64(s + len - 16)) * k0;
  uint64_t b = rotate(a + z, 52);
  uint64_t c = rotate(a, 37);
  a += load64(s + 8);
  c += rotate(a, 7);
  a += load64(s + 16);
  uint64_t vf = a + z;
  uint64_t vs = b + rotate(a, 31) + c;
  a = load64(s + 16) + load64(s + len - 32);
  z = load64(s + len - 8);
  b = rotate(a + z, 52);
  c = rotate(a, 37);
  a += load64(s + len - 24);
  c += rotate(a, 7);
  a += load64(s + len - 16);
  uint64_t wf = a + z;
  uint64_t ws = b + rotate(a, 31) + c;
  uint64_t r = shift_mix((vf + ws) * k2 + (wf + vs) * k0);
  return shift_mix(r * k0 + vs) * k2;
}

}  // namespace

uint64_t city_hash64_v102(std::string_view str) {
  const char* s = str.data();
  size_t len = str.size();
  if (len <= 16) return hash_0_to_16(s, len);
  if (len <= 32) return hash_17_to_32(s, len);
  if (len <= 64) return hash_33_to_64(s, len);

  // Over 64 bytes: the last 64 seed the state (v, w, x, y, z), then 64-byte chunks from the start.
  uint64_t x = load64(s);
  uint64_t y = load64(s + len - 16) ^ k1;
  uint64_t z = load64(s + len - 56) ^ k0;
  auto v = weak_hash32(s + len - 64, len, y);
  auto w = weak_hash32(s + len - 32, len * k1, k0);
  z += shift_mix(v.second) * k1;
  x = rotate(z + x, 39) * k1;
  y = rotate(y, 33) * k1;
  len = (len - 1) & ~static_cast<size_t>(63);
  do {
    x = rotate(x + y + v.first + load64(s + 16), 37) * k1;
    y = rotate(y + v.second + load64(s + 48), 42) * k1;
    x ^= w.second;
    y ^= v.first;
    z = rotate(z ^ w.first, 33);
    v = weak_hash32(s, v.second * k1, x + w.first);
    w = weak_hash32(s + 32, z + w.second, y);
    std::swap(z, x);
    s += 64;
    len -= 64;
  } while (len != 0);
  return hash16(hash16(v.first, w.first) + shift_mix(y) * k1 + z, hash16(v.second, w.second) + x);
}

}  // namespace sp::codec
