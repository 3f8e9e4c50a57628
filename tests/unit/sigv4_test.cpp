// SigV4 against AWS's published examples: the S3 API reference "Examples: Signature Calculations"
// (AKIAIOSFODNN7EXAMPLE, 20130524) and the aws-sig-v4-test-suite's get-vanilla / get-vanilla-query-order.
#include "common/s3/sigv4.hpp"

#include <gtest/gtest.h>

#include "common/codec/base64.hpp"

using namespace sp::sigv4;
using sp::codec::base64;

namespace {
const Credentials kS3Docs{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
}  // namespace

TEST(Sigv4, DigestsOfKnownStrings) {
  EXPECT_EQ(sha256_hex(""), kEmptySha256);
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(base64(md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  // RFC 4231 test case 2
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Sigv4, S3DocsGetObjectWithRange) {
  Request r{"GET", "/test.txt", {},
            {{"Host", "examplebucket.s3.amazonaws.com"},
             {"Range", "bytes=0-9"},
             {"x-amz-content-sha256", kEmptySha256},
             {"x-amz-date", "20130524T000000Z"}},
            kEmptySha256};
  auto s = sign(r, kS3Docs, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(Sigv4, S3DocsPutObject) {
  std::string body = "Welcome to Amazon S3.";
  std::string hash = sha256_hex(body);
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Request r{"PUT", "/test%24file.text", {},
            {{"Host", "examplebucket.s3.amazonaws.com"},
             {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
             {"x-amz-date", "20130524T000000Z"},
             {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
             {"x-amz-content-sha256", hash}},
            hash};
  auto s = sign(r, kS3Docs, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(Sigv4, S3DocsGetBucketLifecycle) {
  Request r{"GET", "/", {{"lifecycle", ""}},
            {{"Host", "examplebucket.s3.amazonaws.com"},
             {"x-amz-date", "20130524T000000Z"},
             {"x-amz-content-sha256", kEmptySha256}},
            kEmptySha256};
  auto s = sign(r, kS3Docs, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(Sigv4, S3DocsListObjectsQuerySorted) {
  // given out of order: the canonical query sorts by name
  Request r{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
            {{"Host", "examplebucket.s3.amazonaws.com"},
             {"x-amz-date", "20130524T000000Z"},
             {"x-amz-content-sha256", kEmptySha256}},
            kEmptySha256};
  auto s = sign(r, kS3Docs, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_NE(s.canonical_request.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(Sigv4, TestSuiteGetVanilla) {
  Request r{"GET", "/", {}, {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}, kEmptySha256};
  auto s = sign(r, kSuite, "us-east-1", "service", "20150830T123600Z");
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(Sigv4, TestSuiteGetVanillaQueryOrderKey) {
  Request r{"GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}},
            {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}, kEmptySha256};
  auto s = sign(r, kSuite, "us-east-1", "service", "20150830T123600Z");
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(Sigv4, QueryEncodingAndHeaderWhitespace) {
  EXPECT_EQ(canonical_query({{"prefix", "a b/ü"}, {"list-type", "2"}}), "list-type=2&prefix=a%20b%2F%C3%BC");
  Request r{"GET", "/", {}, {{"Host", "h"}, {"X-Custom", "  a   b  "}, {"x-amz-date", "20150830T123600Z"}}, kEmptySha256};
  auto s = sign(r, kSuite, "us-east-1", "s3", "20150830T123600Z");
  EXPECT_NE(s.canonical_request.find("\nx-custom:a b\n"), std::string::npos);
}

TEST(Sigv4, AmzDate) { EXPECT_EQ(amz_date(1369353600), "20130524T000000Z"); }
