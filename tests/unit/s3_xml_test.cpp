// The S3 client's XML readers (common/s3/s3_xml.hpp) on the shapes a hand-written reader got wrong
// (issue 30, item 10): character references, namespace prefixes, attributes, CDATA, an element named
// like a listing's own fields deeper down, bodies that are not S3 XML. Real Swift answers go through
// the same readers in tests/integration/s3_hostile_test.sh (keys with XML's special characters, pages).
#include "common/s3/s3_xml.hpp"

#include <gtest/gtest.h>

using namespace sp::s3;

TEST(S3Xml, ErrorBody) {
  auto e = parse_error(
      "<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
      "signature we calculated does not match the signature you provided. Check your key and signing method."
      "</Message><RequestId>tx123</RequestId></Error>");
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(e.request_id, "tx123");
  EXPECT_NE(e.message.find("does not match"), std::string::npos);
  auto ns = parse_error("<Error xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Code>NoSuchKey</Code>"
                        "<Message>a &#38; b &#x26; c &amp; d</Message></Error>");
  EXPECT_EQ(ns.code, "NoSuchKey");
  EXPECT_EQ(ns.message, "a & b & c & d");
  // a proxy's HTML page, a truncated answer, no body: no S3 code is made up from them
  EXPECT_EQ(parse_error("<html><body><h1>502 Bad Gateway</h1><Code>x</Code></body></html>").code, "");
  EXPECT_EQ(parse_error("<Error><Code>SlowDo").code, "");
  EXPECT_EQ(parse_error("").code, "");
  EXPECT_TRUE(is_error_body("<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>"));
  EXPECT_FALSE(is_error_body("<CompleteMultipartUploadResult><Key>&lt;Error&gt;</Key><ETag>\"e-2\"</ETag>"
                             "</CompleteMultipartUploadResult>"));
  EXPECT_EQ(xml_escape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;");
}

TEST(S3Xml, ListingTextIsDecodedByTheParser) {
  auto page = parse_list_objects(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Contents><Key>a&#38;b</Key><Size>1</Size></Contents>"
      "<Contents><Key>a&#x26;b&#x000000026;c</Key><Size>2</Size></Contents>"
      "<Contents><Key>&#233;&#x263A;&#x1F600; &lt;x&gt; &quot;&apos;</Key><Size>3</Size></Contents>"
      "<Contents><Key><![CDATA[cdata <b> & c]]></Key><Size>4</Size></Contents>"
      "<Contents><Key>   </Key><Size>5</Size><ETag>&quot;0123&quot;</ETag>"
      "<LastModified>2026-12-07T10:00:00.000Z</LastModified></Contents>"
      "<IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_EQ(page.objects.size(), 5u);
  EXPECT_EQ(page.objects[0].key, "a&b");
  EXPECT_EQ(page.objects[1].key, "a&b&c");
  EXPECT_EQ(page.objects[2].key, "\xC3\xA9\xE2\x98\xBA\xF0\x9F\x98\x80 <x> \"'");
  EXPECT_EQ(page.objects[3].key, "cdata <b> & c");
  EXPECT_EQ(page.objects[4].key, "   ");
  EXPECT_EQ(page.objects[4].size, 5u);
  EXPECT_EQ(page.objects[4].etag, "0123");
  EXPECT_EQ(page.objects[4].last_modified, "2026-12-07T10:00:00.000Z");
  EXPECT_FALSE(page.truncated);
}

TEST(S3Xml, PrefixedTagsAndAttributes) {
  auto page = parse_list_objects(
      "<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<s3:Contents><s3:Key>p/1</s3:Key><s3:Size>10</s3:Size></s3:Contents>"
      "<Contents id=\"2\"><Key type=\"plain\">p/2</Key><Size unit='B'>20</Size></Contents>"
      "<s3:IsTruncated>true</s3:IsTruncated><s3:NextContinuationToken>tok</s3:NextContinuationToken>"
      "</s3:ListBucketResult>");
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].key, "p/1");
  EXPECT_EQ(page.objects[0].size, 10u);
  EXPECT_EQ(page.objects[1].key, "p/2");
  EXPECT_EQ(page.objects[1].size, 20u);
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_token, "tok");
}

// IsTruncated and the Next* markers are the root's own: an element of the same name inside an entry
// (an extension, an owner block) or a key with that name must not end the listing after one page.
TEST(S3Xml, IsTruncatedAndMarkersAreTheRootsOwn) {
  auto page = parse_list_objects(
      "<ListBucketResult>"
      "<Contents><Key>IsTruncated</Key><Size>1</Size>"
      "<Owner><IsTruncated>false</IsTruncated><NextContinuationToken>wrong</NextContinuationToken></Owner>"
      "</Contents>"
      "<Contents><Key>&lt;IsTruncated&gt;false&lt;/IsTruncated&gt;</Key><Size>2</Size></Contents>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>right</NextContinuationToken>"
      "</ListBucketResult>");
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].key, "IsTruncated");
  EXPECT_EQ(page.objects[1].key, "<IsTruncated>false</IsTruncated>");
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_token, "right");

  auto parts = parse_list_parts(
      "<ListPartsResult><Key>IsTruncated</Key><Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag><Size>5242880</Size>"
      "<IsTruncated>false</IsTruncated></Part>"
      "<Part><PartNumber>2</PartNumber><ETag>&quot;bb&quot;</ETag><Size>7</Size></Part>"
      "<NextPartNumberMarker>2</NextPartNumberMarker><IsTruncated>true</IsTruncated></ListPartsResult>");
  ASSERT_EQ(parts.parts.size(), 2u);
  EXPECT_EQ(parts.parts[0].number, 1);
  EXPECT_EQ(parts.parts[0].etag, "aa");
  EXPECT_EQ(parts.parts[0].size, 5242880u);
  EXPECT_EQ(parts.parts[1].etag, "bb");
  EXPECT_TRUE(parts.truncated);
  EXPECT_EQ(parts.next_marker, "2");

  auto uploads = parse_list_uploads(
      "<ListMultipartUploadsResult><Upload><Key>k&amp;1</Key><UploadId>u1</UploadId>"
      "<Initiated>2026-12-07T10:00:00Z</Initiated><Owner><NextKeyMarker>wrong</NextKeyMarker></Owner></Upload>"
      "<IsTruncated>true</IsTruncated><NextKeyMarker>k&amp;1</NextKeyMarker>"
      "<NextUploadIdMarker>u1</NextUploadIdMarker></ListMultipartUploadsResult>");
  ASSERT_EQ(uploads.uploads.size(), 1u);
  EXPECT_EQ(uploads.uploads[0].key, "k&1");
  EXPECT_EQ(uploads.uploads[0].upload_id, "u1");
  EXPECT_EQ(uploads.uploads[0].initiated, "2026-12-07T10:00:00Z");
  EXPECT_TRUE(uploads.truncated);
  EXPECT_EQ(uploads.next_key_marker, "k&1");
  EXPECT_EQ(uploads.next_upload_id_marker, "u1");
}

TEST(S3Xml, MultipartAnswers) {
  EXPECT_EQ(parse_upload_id("<?xml version=\"1.0\"?><InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/"
                            "doc/2006-03-01/\"><Bucket>b</Bucket><Key>k</Key><UploadId>VXBs&#x2B;b2Fk</UploadId>"
                            "</InitiateMultipartUploadResult>"),
            "VXBs+b2Fk");
  EXPECT_EQ(parse_complete_etag("<CompleteMultipartUploadResult><Location>http://h/b/k</Location><Bucket>b</Bucket>"
                                "<Key>k</Key><ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>"
                                "</CompleteMultipartUploadResult>"),
            "\"3858f62230ac3c915f300c664312c11f-9\"");
  EXPECT_EQ(parse_upload_id("not xml"), "");
}
