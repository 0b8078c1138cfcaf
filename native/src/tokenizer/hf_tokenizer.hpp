// Hugging Face tokenizers in the core: a tokenizer.json (and optionally its tokenizer_config.json) read into a
// Tokenizer of kind "hf" that encodes and decodes as the `tokenizers` library does.
//
// API (for the checkpoint loader):
//   std::unique_ptr<HfTokenizer> load_hf_tokenizer(const std::string& tokenizer_json,
//                                                  const std::string& tokenizer_config_json = "");
//     The two files' text as read (tokenizer_config_json may be empty). Throws tinylm::Error naming the file, the
//     field and the problem for anything malformed, oversized or unsupported; never crashes on any input.
//   HfTokenizer is a Tokenizer (encode, decode, token_bytes, vocab_size, eos_id, to_json) and adds:
//     encode(text, add_special_tokens)   add_special_tokens=false skips the post-processor (no Llama <s>)
//     decode(ids, skip_special_tokens)   the tokenizers library's decode
//     token_id("<|im_end|>")            an added or vocabulary token's id, −1 when absent
//     bos_token(), eos_token(), chat_template(), bos_id()   from tokenizer_config.json ("" / −1 when unset)
//   to_json() stores both files' original text, so a tinylm model file converted from a Hugging Face folder
//   carries its tokenizer: {"kind": "hf", "version": 1, "tokenizer_json": "...", "tokenizer_config_json": "..."};
//   tokenizer_from_json() rebuilds it.
//
// What is read: the BPE model (byte-level like GPT-2 and SmolLM2, or SentencePiece-style with byte fallback like
// Llama 2 and TinyStories-Llama), the normalizers, pre-tokenizers and decoders those files use (hf_normalizer.hpp,
// hf_pre_tokenizer.hpp, hf_decoder.hpp), added tokens (hf_added_tokens.hpp) and the post-processors ByteLevel,
// TemplateProcessing, RobertaProcessing, BertProcessing and Sequence (single-sequence form). "truncation" and
// "padding" are ignored (they shape batches, not text).
//
// Encoding, in the library's order: added tokens found in the raw text; the rest normalized; added tokens with
// normalized=true found in it; the rest pre-tokenized; each piece through BPE; the post-processor's tokens around
// the whole. Input must be text: invalid UTF-8 is first replaced, each maximal invalid subsequence by U+FFFD (as
// TextDecoder and Rust's from_utf8_lossy do), so encode(bytes) == encode(TextDecoder().decode(bytes)). A piece
// seen before in the same call reuses its ids.
//
// Decoding: decode() applies the decoder to the whole sequence, special tokens included (their content) unless
// skip_special_tokens. token_bytes(id) is the text a token adds mid-stream (hf_decoder.hpp: raw bytes for byte-level
// and <0xNN> tokens, "▁" as " ", no text-start rules), so the two can differ at the start (Llama's decoder drops
// the text's first space). Ids outside [0, vocab_size()) throw Error; an id inside that no token has decodes to
// nothing, as tokenizers skips it.
//
// tokenizer_config.json: bos_token / eos_token (strings or {"content": ...}); when absent, the special added token
// "<s>" or "<|endoftext|>" (bos) and "</s>" or "<|endoftext|>" (eos), the defaults of transformers' Llama and GPT-2
// tokenizers. chat_template: a string, or the one named "default" of a list. For tokenizer_class LlamaTokenizer /
// LlamaTokenizerFast, add_bos_token (default true) and add_eos_token (default false) decide the <s> and </s> around
// the text, as transformers rebuilds that post-processor.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tinylm/tokenizer.hpp"
#include "tokenizer/hf_added_tokens.hpp"
#include "tokenizer/hf_bpe.hpp"
#include "tokenizer/hf_decoder.hpp"
#include "tokenizer/hf_normalizer.hpp"
#include "tokenizer/hf_pre_tokenizer.hpp"

namespace tinylm {

class HfTokenizer : public Tokenizer {
 public:
  HfTokenizer(const std::string& tokenizer_json, const std::string& tokenizer_config_json);

  std::string kind() const override { return "hf"; }
  int vocab_size() const override { return vocab_size_; }
  std::vector<int32_t> encode(std::string_view text) const override { return encode(text, true); }
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const;
  std::string token_bytes(int32_t id) const override;
  std::string separator() const override { return separator_; }
  std::string decode(const std::vector<int32_t>& ids) const override { return decode(ids, false); }
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;
  int unk_id() const override { return model_.unk_id(); }  // −1 when the model has no unk_token (byte-level)
  int eos_id() const override { return token_id(eos_token_); }
  nlohmann::json to_json() const override;

  int32_t token_id(const std::string& token) const;
  bool is_special(int32_t id) const;
  int bos_id() const { return token_id(bos_token_); }
  const std::string& bos_token() const { return bos_token_; }
  const std::string& eos_token() const { return eos_token_; }
  const std::string& chat_template() const { return chat_template_; }

 private:
  void read_added_tokens(const hf::Field& list);
  void read_post_processor(const hf::Field& field, int depth);
  void read_config(const nlohmann::json& config);
  const std::string* token_string(int32_t id) const;  // the string the decoder sees; nullptr for an unused id

  std::string tokenizer_json_, tokenizer_config_json_;  // the original files, for to_json()
  hf::Normalizer normalizer_;
  hf::PreTokenizer pre_tokenizer_;
  hf::BpeModel model_;
  hf::Decoder decoder_;
  std::vector<hf::AddedToken> added_tokens_;
  std::vector<std::string> added_decoded_;      // per added token: the string decode sees (normalized form)
  std::unordered_map<int32_t, size_t> added_by_id_;    // id → index in added_tokens_
  std::unordered_map<std::string, int32_t> added_ids_;  // content → id
  hf::AddedTokenMatcher raw_matcher_, normalized_matcher_;
  std::vector<int32_t> prefix_ids_, suffix_ids_;  // the post-processor's tokens before and after the text
  std::string bos_token_, eos_token_, chat_template_, separator_;
  int vocab_size_ = 0;
};

std::unique_ptr<HfTokenizer> load_hf_tokenizer(const std::string& tokenizer_json,
                                               const std::string& tokenizer_config_json = "");

}  // namespace tinylm
