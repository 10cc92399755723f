#!/usr/bin/env python3
"""Writes a tiny random-weight Qwen2 GGUF model with llama.cpp's own gguf-py.

  make-model.py GGUF_PY_DIR VOCAB_GGUF OUT_GGUF CHAT_TEMPLATE_FILE [--layers N] [--script TEXT]

The model is not meant to be smart: it makes llama-server's real template, streaming,
tool-call and reasoning-parser code run. With --script it is a "scripted" model instead: after
a newline it always writes TEXT and then <|im_end|> (attention and MLP are zeroed, so each next
token depends only on the current one; TEXT is cut into tokens that each occur once), which is
how a random-weight model can make a real tool call. Deterministic: a fixed seed, a fixed key order,
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
    ap.add_argument("--script", default=None)
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
    zeros = lambda *shape: np.zeros(shape, dtype=np.float32)  # noqa: E731
    embd = rand(n_vocab, N_EMBD)
    output = None
    if args.script is not None:
        eog = tokens.index("<|im_end|>")
        chain = [tokens.index(byte_text("\n"))] + segment(byte_text(args.script), tokens) + [eog]
        if len(chain) - 1 > N_EMBD:
            sys.exit(f"--script needs {len(chain) - 1} links; at most {N_EMBD}")
        output = rand(n_vocab, N_EMBD)
        for i, (cur, nxt) in enumerate(zip(chain, chain[1:])):
            embd[cur] = 0.0
            embd[cur, i] = 1.0  # after RMS norm: 8 along axis i
            output[nxt] = 0.0
            output[nxt, i] = 10.0  # logit 80 for the next token, ~0 for every other
    w.add_tensor("token_embd.weight", embd)
    w.add_tensor("output_norm.weight", ones(N_EMBD))
    if output is not None:
        w.add_tensor("output.weight", output)
    scripted = args.script is not None
    for i in range(args.layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", ones(N_EMBD))
        w.add_tensor(p + "attn_q.weight", rand(N_EMBD, N_EMBD))
        w.add_tensor(p + "attn_q.bias", rand(N_EMBD))
        w.add_tensor(p + "attn_k.weight", rand(kv, N_EMBD))
        w.add_tensor(p + "attn_k.bias", rand(kv))
        w.add_tensor(p + "attn_v.weight", rand(kv, N_EMBD))
        w.add_tensor(p + "attn_v.bias", rand(kv))
        w.add_tensor(p + "attn_output.weight", zeros(N_EMBD, N_EMBD) if scripted else rand(N_EMBD, N_EMBD))
        w.add_tensor(p + "ffn_norm.weight", ones(N_EMBD))
        w.add_tensor(p + "ffn_gate.weight", rand(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_up.weight", rand(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_down.weight", zeros(N_EMBD, N_FF) if scripted else rand(N_EMBD, N_FF))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def byte_text(text: str) -> str:
    """TEXT in the byte-level BPE alphabet of the vocabulary (GPT-2's bytes_to_unicode)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, (chr(c) for c in cs)))
    return "".join(table[b] for b in text.encode("utf-8"))


def segment(text: str, tokens: list) -> list:
    """Token ids spelling TEXT, each id once and never the newline (the prompt's last token).

    Greedy longest-first from a fixed-seed random choice among the longest fits, restarted
    until a spelling with distinct ids is found (an exhaustive search explodes on repeats).
    """
    index = {t: i for i, t in enumerate(tokens) if not t.startswith("<|") and not t.startswith("[PAD")}
    newline = index.get(byte_text("\n"))
    longest = min(64, max(len(t) for t in index))
    rng = np.random.RandomState(SEED)
    for _ in range(5000):
        at, used, out = 0, set(), []
        while at < len(text):
            fits = [index[text[at : at + n]] for n in range(min(longest, len(text) - at), 0, -1) if text[at : at + n] in index]
            fits = [t for t in fits if t not in used and t != newline]
            if not fits:
                break
            pick = fits[rng.randint(min(3, len(fits)))]
            used.add(pick)
            out.append(pick)
            at += len(tokens[pick])
        if at == len(text):
            return out
    sys.exit("--script: no spelling of the text with distinct tokens")


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
