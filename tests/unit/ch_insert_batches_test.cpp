// ch-insert's last batch cut into pieces sent at once (cut_last, sender.hpp): the rows stay whole and
// in order, each piece's row offsets point into its own data, marks go with the last piece and rows
// stored nowhere with the first.
#include <gtest/gtest.h>

#include <string>

#include "sender.hpp"

using sp::chi::Batch;
using sp::chi::RowMeta;

TEST(ChInsertBatches, LastBatchCutIntoPiecesInOrder) {
  auto b = std::make_unique<Batch>();
  b->seq = 7;
  b->topics = {"t"};
  for (int i = 0; i < 10; ++i) {
    std::string row = "row" + std::to_string(i) + "\n";
    b->rows.push_back(RowMeta{b->data.size(), static_cast<uint64_t>(i + 1), 100 + i, i % 2, 0});
    b->data += row;
  }
  b->marks.push_back({0, 1, 200});
  b->lost.push_back({0, 0, 150, false});
  auto pieces = sp::chi::cut_last(std::move(b), 3, [] { return std::make_unique<Batch>(); });
  ASSERT_EQ(pieces.size(), 3u);
  std::string all;
  size_t rows = 0;
  for (const auto& p : pieces) {
    ASSERT_FALSE(p->rows.empty());
    EXPECT_EQ(p->rows.front().start, 0u);
    EXPECT_EQ(p->topics, std::vector<std::string>{"t"});
    for (size_t i = 0; i < p->rows.size(); ++i) {
      EXPECT_EQ(p->row(i), "row" + std::to_string(rows) + "\n");
      EXPECT_EQ(p->rows[i].offset, static_cast<int64_t>(100 + rows));
      ++rows;
    }
    all += p->data;
  }
  EXPECT_EQ(rows, 10u);
  EXPECT_EQ(pieces[0]->rows.size(), 3u);  // rows [0, 10/3), [10/3, 20/3), [20/3, 10)
  EXPECT_EQ(pieces[1]->rows.size(), 3u);
  EXPECT_EQ(pieces[2]->rows.size(), 4u);
  EXPECT_EQ(pieces[0]->seq, 7u);
  EXPECT_TRUE(pieces[0]->marks.empty());
  ASSERT_EQ(pieces[2]->marks.size(), 1u);
  EXPECT_EQ(pieces[2]->marks[0].offset, 200);
  ASSERT_EQ(pieces[0]->lost.size(), 1u);
  EXPECT_TRUE(pieces[1]->lost.empty() && pieces[2]->lost.empty());
  EXPECT_EQ(all.substr(0, 5), "row0\n");
}

TEST(ChInsertBatches, OnePieceIsTheBatchItself) {
  auto b = std::make_unique<Batch>();
  b->rows.push_back(RowMeta{0, 1, 0, 0, -1});
  b->data = "x\n";
  b->marks.push_back({0, 0, 1});
  Batch* raw = b.get();
  auto pieces = sp::chi::cut_last(std::move(b), 1, [] { return std::make_unique<Batch>(); });
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].get(), raw);
  EXPECT_EQ(pieces[0]->marks.size(), 1u);
}
