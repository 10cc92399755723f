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
        data: models.map((id) => ({
          id,
          object: "model",
          created,
          owned_by: "llamacpp",
          meta: { vocab_type: 2, n_vocab: 151936, n_ctx_train: N_CTX_TRAIN, n_embd: 2048, n_params: 34660610688, size: 21172469760 },
        })),
      });
    case "ollama":
      return json({ object: "list", data: models.map((id) => ({ id, object: "model", created, owned_by: "library" })) });
    case "lmstudio":
      return json({ data: models.map((id) => ({ id, object: "model", owned_by: "organization_owner" })), object: "list" });
  }
}

/** llama.cpp `/props`: the real context window of the loaded model. */
export function llamacppProps(profile: FlavourProfile, models: readonly string[]): PlainReply {
  const model = models[0] ?? "model";
  return json({
    default_generation_settings: {
      id: 0,
      n_ctx: profile.maxModelLen,
      speculative: false,
      is_processing: false,
      params: { n_predict: -1, temperature: 0.8, top_k: 40, top_p: 0.95, min_p: 0.05 },
    },
    total_slots: 1,
    model_alias: model,
    model_path: `/models/${model}.gguf`,
    modalities: { vision: false, audio: false },
    chat_template: "{%- for message in messages %}...{%- endfor %}",
    bos_token: "<|endoftext|>",
    eos_token: "<|im_end|>",
    build_info: profile.systemFingerprint ?? profile.version,
  });
}

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
