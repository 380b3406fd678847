// python_random.hpp: the first draw of Python's random.Random(text).random(), in C++, so that
// a C++ stock groutine draws what its Python twin draws from the same seed text (faults: the
// same seed fails the same calls in stock:faults and stock:cpp/faults).
//
// Python seeds a Random from a str (seed version 2) with the integer whose big-endian bytes
// are text's UTF-8 bytes followed by their SHA-512 digest; it cuts that integer into 32-bit
// words from the least significant end and seeds its Mersenne Twister (MT19937) with them by
// the reference init_by_array(). random() is then (a >> 5, b >> 6) of the first two 32-bit
// outputs as a 53-bit fraction.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace stock {

namespace detail {

// sha512() is the SHA-512 digest of bytes (FIPS 180-4).
inline std::array<std::uint8_t, 64> sha512(const std::string& bytes) {
  static constexpr std::uint64_t k[80] = {
      0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
      0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
      0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
      0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
      0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
      0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
      0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
      0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
      0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
      0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
      0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
      0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
      0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
      0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
      0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
      0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
      0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
      0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
      0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
      0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817};
  std::uint64_t h[8] = {0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b,
                        0xa54ff53a5f1d36f1, 0x510e527fade682d1, 0x9b05688c2b3e6c1f,
                        0x1f83d9abfb41bd6b, 0x5be0cd19137e2179};
  auto rotr = [](std::uint64_t x, int n) { return (x >> n) | (x << (64 - n)); };
  // The message, padded: 0x80, zeros, and its length in bits as 128 bits, to 128-byte blocks.
  std::vector<std::uint8_t> m(bytes.begin(), bytes.end());
  const std::uint64_t bits = static_cast<std::uint64_t>(bytes.size()) * 8;
  m.push_back(0x80);
  while (m.size() % 128 != 112) m.push_back(0);
  for (int i = 0; i < 8; ++i) m.push_back(0);
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
  for (std::size_t block = 0; block < m.size(); block += 128) {
    std::uint64_t w[80];
    for (int t = 0; t < 16; ++t) {
      w[t] = 0;
      for (int b = 0; b < 8; ++b) w[t] = (w[t] << 8) | m[block + 8 * t + b];
    }
    for (int t = 16; t < 80; ++t) {
      std::uint64_t s0 = rotr(w[t - 15], 1) ^ rotr(w[t - 15], 8) ^ (w[t - 15] >> 7);
      std::uint64_t s1 = rotr(w[t - 2], 19) ^ rotr(w[t - 2], 61) ^ (w[t - 2] >> 6);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint64_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6],
                  hh = h[7];
    for (int t = 0; t < 80; ++t) {
      std::uint64_t t1 = hh + (rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)) + ((e & f) ^ (~e & g)) +
                         k[t] + w[t];
      std::uint64_t t2 = (rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  std::array<std::uint8_t, 64> digest{};
  for (int i = 0; i < 64; ++i)
    digest[i] = static_cast<std::uint8_t>(h[i / 8] >> (56 - 8 * (i % 8)));
  return digest;
}

// MersenneTwister is MT19937 as Python's _random module has it (the reference code).
class MersenneTwister {
 public:
  // MersenneTwister() seeds the generator with key by the reference init_by_array().
  explicit MersenneTwister(const std::vector<std::uint32_t>& key) {
    seed(19650218U);
    std::size_t i = 1, j = 0;
    for (std::size_t k = std::max(kN, key.size()); k; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] +
               static_cast<std::uint32_t>(j);
      if (++i >= kN) mt_[0] = mt_[kN - 1], i = 1;
      if (++j >= key.size()) j = 0;
    }
    for (std::size_t k = kN - 1; k; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) -
               static_cast<std::uint32_t>(i);
      if (++i >= kN) mt_[0] = mt_[kN - 1], i = 1;
    }
    mt_[0] = 0x80000000U;
  }

  // next() is the next 32-bit output.
  std::uint32_t next() {
    if (index_ >= kN) twist();
    std::uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    return y ^ (y >> 18);
  }

 private:
  static constexpr std::size_t kN = 624, kM = 397;

  void seed(std::uint32_t s) {
    mt_[0] = s;
    for (std::size_t i = 1; i < kN; ++i)
      mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
    index_ = kN;
  }

  void twist() {
    for (std::size_t i = 0; i < kN; ++i) {
      std::uint32_t y = (mt_[i] & 0x80000000U) | (mt_[(i + 1) % kN] & 0x7fffffffU);
      mt_[i] = mt_[(i + kM) % kN] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfU : 0U);
    }
    index_ = 0;
  }

  std::array<std::uint32_t, kN> mt_{};
  std::size_t index_ = kN;
};

}  // namespace detail

// python_random() is random.Random(text).random() in Python 3: a number in [0, 1).
inline double python_random(const std::string& text) {
  std::string bytes = text;
  for (std::uint8_t b : detail::sha512(text)) bytes.push_back(static_cast<char>(b));
  // Words from the least significant end of the big-endian integer: the last 4 bytes first.
  // (Python drops leading zero bytes; the top word keeps them as zero bits, the same words.)
  std::size_t leading = 0;
  while (leading < bytes.size() && bytes[leading] == 0) ++leading;
  std::vector<std::uint32_t> key;
  for (std::size_t end = bytes.size(); end > leading;) {
    std::size_t begin = end >= leading + 4 ? end - 4 : leading;
    std::uint32_t word = 0;
    for (std::size_t i = begin; i < end; ++i)
      word = (word << 8) | static_cast<std::uint8_t>(bytes[i]);
    key.push_back(word);
    end = begin;
  }
  if (key.empty()) key.push_back(0);
  detail::MersenneTwister mt(key);
  std::uint32_t a = mt.next() >> 5, b = mt.next() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

}  // namespace stock
