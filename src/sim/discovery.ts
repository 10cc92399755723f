// The non-chat endpoints each server has, with their fingerprints (`owned_by` names the
// server kind; vLLM/SGLang report `max_model_len`, llama.cpp `meta.n_ctx_train`).
import type { FlavourProfile } from "./flavours.ts";

export interface PlainReply {
  status: number;
  contentType: string;
  body: string;
}

function json(body: unknown, status = 200): PlainReply {
  return { status, contentType: "application/json", body: JSON.stringify(body) };
}

/** Context the model was trained with (llama.cpp reports it; the served window is maxModelLen). */
export const N_CTX_TRAIN = 262144;

export function modelList(profile: FlavourProfile, models: readonly string[], created: number): PlainReply {
  switch (profile.kind) {
    case "vllm":
      return json({
        object: "list",
        data: models.map((id) => ({
          id,
          object: "model",
          created,
          owned_by: "vllm",
          root: `/models/${id}`,
          parent: null,
          max_model_len: profile.maxModelLen,
          permission: [
            {
              id: `modelperm-${id.length.toString(16).padStart(8, "0")}`,
              object: "model_permission",
              created,
              allow_create_engine: false,
              allow_sampling: true,
              allow_logprobs: true,
              allow_search_indices: false,
              allow_view: true,
              allow_fine_tuning: false,
              organization: "*",
              group: null,
              is_blocking: false,
            },
          ],
        })),
      });
    case "sglang":
      return json({
        object: "list",
        data: models.map((id) => ({ id, object: "model", created, owned_by: "sglang", root: id, parent: null, max_model_len: profile.maxModelLen })),
      });
    case "llamacpp":
      return json({
        models: models.map((id) => ({
          name: id,
          model: id,
          modified_at: "",
          size: "",
          digest: "",
          type: "model",
          description: "",
          tags: [""],
          capabilities: ["completion"],
          parameters: "",
          details: { parent_model: "", format: "gguf", family: "", families: [""], parameter_size: "", quantization_level: "" },
        })),
        object: "list",
        // Recorded from a real llama-server (test/data/llamacpp-real/models.json): `n_ctx` is the
        // per-slot window actually served, `n_ctx_train` what the model was trained with.
        data: models.map((id) => ({
          id,
          aliases: [id],
          tags: [],
          object: "model",
          created,
          owned_by: "llamacpp",
          meta: {
            vocab_type: true,
            n_vocab: 151936,
            n_ctx: profile.maxModelLen,
            n_ctx_train: N_CTX_TRAIN,
            n_embd: 2048,
            n_params: 34660610688,
            size: 21172469760,
            ftype: "Q4_K - Medium",
          },
        })),
      });
    case "ollama":
      return json({ object: "list", data: models.map((id) => ({ id, object: "model", created, owned_by: "library" })) });
    case "lmstudio":
      return json({ data: models.map((id) => ({ id, object: "model", owned_by: "organization_owner" })), object: "list" });
  }
}

/** llama.cpp `/props` as a real llama-server sends it (test/data/llamacpp-real/props.json). */
export function llamacppProps(profile: FlavourProfile, models: readonly string[]): PlainReply {
  const model = models[0] ?? "model";
  return json({
    default_generation_settings: { params: LLAMACPP_DEFAULT_PARAMS, n_ctx: profile.maxModelLen },
    total_slots: 1,
    model_alias: model,
    model_ftype: "Q4_K - Medium",
    model_path: `/models/${model}.gguf`,
    modalities: { vision: false, video: false, audio: false },
    media_marker: "<__media_simulated__>",
    endpoint_slots: true,
    endpoint_props: false,
    endpoint_metrics: false,
    ui: false,
    ui_settings: {},
    chat_template: "{%- for message in messages %}...{%- endfor %}",
    chat_template_caps: {
      supports_object_arguments: true,
      supports_parallel_tool_calls: true,
      supports_preserve_reasoning: true,
      supports_reasoning_effort: false,
      supports_string_content: true,
      supports_system_role: true,
      supports_tool_calls: true,
      supports_tools: true,
      supports_typed_content: false,
    },
    bos_token: "<|endoftext|>",
    eos_token: "<|im_end|>",
    build_info: profile.systemFingerprint ?? profile.version,
    is_sleeping: false,
    cors_proxy_enabled: false,
  });
}

/** The server's default sampling settings, as `/props` lists them (recorded). */
const LLAMACPP_DEFAULT_PARAMS = {
  seed: 4294967295,
  temperature: 0.8,
  dynatemp_range: 0,
  dynatemp_exponent: 1,
  top_k: 40,
  top_p: 0.95,
  min_p: 0.05,
  top_n_sigma: -1,
  xtc_probability: 0,
  xtc_threshold: 0.1,
  typical_p: 1,
  repeat_last_n: 64,
  repeat_penalty: 1,
  presence_penalty: 0,
  frequency_penalty: 0,
  dry_multiplier: 0,
  dry_base: 1.75,
  dry_allowed_length: 2,
  dry_penalty_last_n: 64,
  mirostat: 0,
  mirostat_tau: 5,
  mirostat_eta: 0.1,
  adaptive_target: -1,
  adaptive_decay: 0.9,
  max_tokens: -1,
  n_predict: -1,
  n_keep: 0,
  n_discard: 0,
  ignore_eos: false,
  stream: false,
  n_probs: 0,
  min_keep: 0,
  chat_format: "peg-native",
  reasoning_format: "deepseek",
  reasoning_in_content: false,
  generation_prompt: "",
  samplers: ["penalties", "dry", "top_n_sigma", "top_k", "typ_p", "top_p", "min_p", "xtc", "temperature"],
  "speculative.types": "none",
  timings_per_token: false,
  post_sampling_probs: false,
  backend_sampling: false,
  lora: [],
};

export function ollamaTags(models: readonly string[]): PlainReply {
  return json({
    models: models.map((name) => ({
      name,
      model: name,
      modified_at: "2025-10-01T00:00:00Z",
      size: 21172469760,
      digest: "0".repeat(64),
      details: { parent_model: "", format: "gguf", family: "qwen3moe", families: ["qwen3moe"], parameter_size: "35B", quantization_level: "Q4_K_M" },
    })),
  });
}

export { json as jsonReply };
