"""Build a tiny Kimi-K2.5-shaped model folder (run with vLLM `load_format="dummy"`, no weights).

DeepSeek-V3 MoE text stack + MoonViT vision tower at toy sizes, a small BPE tokenizer
with the Kimi special tokens, a Kimi-style chat template and a `media_proc_cfg`.
Random weights never close tool-call JSON: this model is for plumbing, not behaviour.
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = [
    "[BOS]", "[EOS]", "[PAD]", "[UNK]", "<|im_end|>", "<|im_user|>", "<|im_assistant|>",
    "<|im_system|>", "<|im_middle|>", "<|media_begin|>", "<|media_content|>", "<|media_end|>",
    "<|media_pad|>", "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>",
    "<|tool_call_begin|>", "<|tool_call_argument_begin|>", "<|tool_call_end|>", "<think>", "</think>",
]  # fmt: skip

CHAT_TEMPLATE = (Path(__file__).parent / "kimi_tiny.jinja").read_text()

MEDIA_PROC_CFG: dict[str, Any] = {
    "in_patch_limit": 256,
    "patch_size": 14,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "merge_kernel_size": 2,
    "fixed_output_tokens": None,
    "patch_limit_on_one_side": 64,
    "in_patch_limit_each_frame": 256,
    "in_patch_limit_video": None,
    "sample_fps": 2.0,
    "max_num_frames_each_video": None,
    "temporal_merge_kernel_size": 4,
    "timestamp_mode": "hh:mm:ss.fff",
}


def _tokenizer(out: Path) -> dict[str, int]:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))[:60]
    tok.train(corpus, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="[BOS]", eos_token="<|im_end|>", pad_token="[PAD]",
        unk_token="[UNK]",
    )  # fmt: skip
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    return {t: int(fast.convert_tokens_to_ids(t)) for t in SPECIAL_TOKENS}


def _text_config(ids: dict[str, int]) -> dict[str, Any]:
    # kv_lora_rank + qk_rope_head_dim must be one of 320/512/576 for vLLM's MLA backends.
    return dict(
        model_type="deepseek_v3", vocab_size=1024, hidden_size=128, intermediate_size=256,
        moe_intermediate_size=64, num_hidden_layers=2, first_k_dense_replace=1,
        n_routed_experts=8, num_experts_per_tok=2, n_shared_experts=1, n_group=1, topk_group=1,
        routed_scaling_factor=2.5, topk_method="noaux_tc", scoring_func="sigmoid",
        norm_topk_prob=True, num_attention_heads=2, num_key_value_heads=2, q_lora_rank=None,
        kv_lora_rank=512, qk_rope_head_dim=64, qk_nope_head_dim=64, v_head_dim=64,
        max_position_embeddings=4096, rope_scaling=None, rope_theta=50000.0,
        num_nextn_predict_layers=0, bos_token_id=ids["[BOS]"], eos_token_id=ids["<|im_end|>"],
        tie_word_embeddings=False, torch_dtype="bfloat16", hidden_act="silu", rms_norm_eps=1e-5,
    )  # fmt: skip


def _vision_config() -> dict[str, Any]:
    return dict(
        model_type="kimi_k25_vision", patch_size=14, init_pos_emb_height=64,
        init_pos_emb_width=64, init_pos_emb_time=4, pos_emb_type="divided_fixed",
        num_attention_heads=2, num_hidden_layers=1, hidden_size=64, intermediate_size=128,
        merge_kernel_size=[2, 2], video_attn_type="spatial_temporal", merge_type="sd2_tpool",
        mm_projector_type="patchmerger", projector_hidden_act="gelu", projector_ln_eps=1e-5,
        hidden_act="gelu_pytorch_tanh",
    )  # fmt: skip


def build_tiny_kimi(out: Path) -> Path:
    """Write the model folder into `out` and return it."""
    out.mkdir(parents=True, exist_ok=True)
    ids = _tokenizer(out)
    config = dict(
        architectures=["KimiK25ForConditionalGeneration"], model_type="kimi_k25",
        text_config=_text_config(ids), vision_config=_vision_config(),
        projection_hidden_size=64, image_token_id=ids["<|media_pad|>"],
        video_token_id=ids["<|media_pad|>"], vision_start_token_id=ids["<|media_begin|>"],
        vision_end_token_id=ids["<|media_end|>"], bos_token_id=ids["[BOS]"],
        eos_token_id=ids["<|im_end|>"], pad_token_id=ids["[PAD]"], tie_word_embeddings=False,
        torch_dtype="bfloat16", use_unified_vision_chunk=True,
        video_placeholder="<|kimi_k25_video_placeholder|>",
    )  # fmt: skip
    (out / "config.json").write_text(json.dumps(config, indent=2))
    gen = {"bos_token_id": ids["[BOS]"], "eos_token_id": ids["<|im_end|>"]}
    (out / "generation_config.json").write_text(json.dumps(gen))
    pre = {"media_proc_cfg": MEDIA_PROC_CFG, "image_processor_type": "KimiK25FusedVisionProcessor"}
    (out / "preprocessor_config.json").write_text(json.dumps(pre, indent=2))
    return out
