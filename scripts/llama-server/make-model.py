#!/usr/bin/env python3
"""Writes a tiny random-weight Qwen2 GGUF model with llama.cpp's own gguf-py.

  make-model.py GGUF_PY_DIR VOCAB_GGUF OUT_GGUF CHAT_TEMPLATE_FILE [--layers N]

The model is not meant to be smart: it makes llama-server's real template, streaming,
tool-call and reasoning-parser code run. Deterministic: a fixed seed, a fixed key order,
so the same inputs give the same bytes (the caller caches the file by a hash of them).
The vocabulary (tokens, merges, special ids, pre-tokenizer) is copied from the vocab-only
GGUF that llama.cpp ships (models/ggml-vocab-qwen2.gguf).
"""
import argparse
import sys

import numpy as np

SEED = 20261201
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 2
N_FF = 128
N_CTX_TRAIN = 32768


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf_py")
    ap.add_argument("vocab")
    ap.add_argument("out")
    ap.add_argument("template")
    ap.add_argument("--layers", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, args.gguf_py)
    import gguf  # noqa: E402  (from the pinned llama.cpp source, not from PyPI)

    vocab = gguf.GGUFReader(args.vocab)
    tokens = vocab.fields["tokenizer.ggml.tokens"].contents()
    n_vocab = len(tokens)
    with open(args.template, encoding="utf-8") as f:
        template = f.read()

    w = gguf.GGUFWriter(args.out, "qwen2")
    w.add_name("cto-harness tiny random qwen2")
    w.add_context_length(N_CTX_TRAIN)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(args.layers)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    copy_tokenizer(w, vocab, gguf)
    w.add_chat_template(template)

    rng = np.random.RandomState(SEED)
    head_dim = N_EMBD // N_HEAD
    kv = N_HEAD_KV * head_dim

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    ones = lambda n: np.ones((n,), dtype=np.float32)  # noqa: E731
    w.add_tensor("token_embd.weight", rand(n_vocab, N_EMBD))
    w.add_tensor("output_norm.weight", ones(N_EMBD))
    for i in range(args.layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", ones(N_EMBD))
        w.add_tensor(p + "attn_q.weight", rand(N_EMBD, N_EMBD))
        w.add_tensor(p + "attn_q.bias", rand(N_EMBD))
        w.add_tensor(p + "attn_k.weight", rand(kv, N_EMBD))
        w.add_tensor(p + "attn_k.bias", rand(kv))
        w.add_tensor(p + "attn_v.weight", rand(kv, N_EMBD))
        w.add_tensor(p + "attn_v.bias", rand(kv))
        w.add_tensor(p + "attn_output.weight", rand(N_EMBD, N_EMBD))
        w.add_tensor(p + "ffn_norm.weight", ones(N_EMBD))
        w.add_tensor(p + "ffn_gate.weight", rand(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_up.weight", rand(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_down.weight", rand(N_EMBD, N_FF))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def copy_tokenizer(w, vocab, gguf) -> None:
    """Every tokenizer.ggml.* key of the vocab file, with its own type (not the template)."""
    f = vocab.fields
    w.add_tokenizer_model(f["tokenizer.ggml.model"].contents())
    w.add_tokenizer_pre(f["tokenizer.ggml.pre"].contents())
    w.add_token_list(f["tokenizer.ggml.tokens"].contents())
    w.add_token_types(f["tokenizer.ggml.token_type"].contents())
    w.add_token_merges(f["tokenizer.ggml.merges"].contents())
    for key, add in (
        ("tokenizer.ggml.eos_token_id", w.add_eos_token_id),
        ("tokenizer.ggml.padding_token_id", w.add_pad_token_id),
        ("tokenizer.ggml.bos_token_id", w.add_bos_token_id),
    ):
        if key in f:
            add(int(f[key].contents()))
    if "tokenizer.ggml.add_bos_token" in f:
        w.add_add_bos_token(bool(f["tokenizer.ggml.add_bos_token"].contents()))


if __name__ == "__main__":
    main()
