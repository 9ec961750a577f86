"""The built-in prompt formats, as documented by each model card (data, not code)."""

from __future__ import annotations

from playground.formats.spec import PromptFormat

CEREBRUM_PREAMBLE = (
    "A chat between a user and a thinking artificial intelligence assistant. The assistant describes "
    "its thought process and gives helpful and detailed answers to the user's questions."
)
VICUNA_SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions."
)
ALPACA_SYSTEM = "Below is an instruction that describes a task. Write a response that appropriately completes the request."

CHATML = dict(
    system="<|im_start|>system\n{content}<|im_end|>\n",
    user="<|im_start|>user\n{content}<|im_end|>\n",
    assistant="<|im_start|>assistant\n{content}<|im_end|>\n",
    generation_prompt="<|im_start|>assistant\n",
    stop_strings=("<|im_end|>", "<|im_start|>"),
)

BUILTIN_FORMATS: tuple[PromptFormat, ...] = (
    PromptFormat(
        id="memphis",
        label="Memphis (### User / ### Assistant)",
        description="Memphis-scribe and Memphis-CoT chat turns, optional ### System block.",
        source="euclaise/Memphis-scribe-3B model card, 'Prompt formats'",
        system="### System:\n{content}\n",
        user="### User:\n{content}\n",
        assistant="### Assistant:\n{content}\n",
        generation_prompt="### Assistant:\n",
        stop_strings=("### User:", "### System:"),
    ),
    PromptFormat(
        id="memphis-cot",
        label="Memphis-CoT (TinyCoT rationale/answer)",
        description="TinyCoT: the model writes a rationale, then '### Answer:' and a direct answer.",
        source="euclaise/Memphis-CoT-3B model card, 'Prompt formats' (TinyCoT)",
        system="### System:\n{content}\n",
        user="### User:\n{content}\n",
        assistant="### Rationale:\n{content}\n",
        generation_prompt="### Rationale:\n",
        stop_strings=("### User:", "### System:"),
        answer_marker="\n### Answer:\n",
        notes=("The card documents no system block for TinyCoT; a system message uses Memphis's '### System:'.",),
    ),
    PromptFormat(
        id="metharme",
        label="Metharme (<|system|> <|user|> <|model|>)",
        description="Pygmalion's Metharme role tokens, chained with no separators.",
        source="Neko-Institute-of-Science/metharme-7b model card, 'Prompting'",
        system="<|system|>{content}",
        user="<|user|>{content}",
        assistant="<|model|>{content}",
        generation_prompt="<|model|>",
        stop_strings=("<|user|>", "<|system|>", "<|model|>"),
        special_tokens=("<|system|>", "<|user|>", "<|model|>"),
        notes=("The LLaMA tokenizer adds the BOS token; the prompt text carries none.",),
    ),
    PromptFormat(
        id="cerebrum",
        label="Cerebrum (thinking assistant preamble)",
        description="Alpaca-style 'User:'/'AI:' turns after Cerebrum's thought-process preamble.",
        source="AetherResearch/Cerebrum-1.0-7b model card, 'Usage'",
        bos="<s>",
        default_system=CEREBRUM_PREAMBLE,
        system="{content}",
        user="\nUser: {content}",
        assistant="\nAI: {content}",
        generation_prompt="\nAI:",
        remove_from_history=("</s>",),
        stop_strings=("\nUser:",),
        special_tokens=("<s>",),
        notes=("A system message replaces the preamble; EOS is removed from earlier answers.",),
    ),
    PromptFormat(
        id="cat-llama3",
        label="Cat-llama3 (ChatML with Llama-3 BOS)",
        description="ChatML turns after Llama-3's <|begin_of_text|>.",
        source="turboderp/Cat-Llama-3-70B-instruct model card, 'Usage'",
        bos="<|begin_of_text|>",
        special_tokens=("<|begin_of_text|>", "<|im_start|>", "<|im_end|>"),
        **CHATML,
    ),
    PromptFormat(
        id="chatml",
        label="ChatML",
        description="Plain ChatML: no BOS, no default system prompt.",
        source="OpenAI ChatML",
        special_tokens=("<|im_start|>", "<|im_end|>"),
        **CHATML,
    ),
    PromptFormat(
        id="llama3",
        label="Llama-3 Instruct",
        description="Meta's Llama-3 Instruct headers; message text is stripped, as Meta's template does.",
        source="meta-llama/Meta-Llama-3-8B-Instruct chat template",
        bos="<|begin_of_text|>",
        system="<|start_header_id|>system<|end_header_id|>\n\n{content}<|eot_id|>",
        user="<|start_header_id|>user<|end_header_id|>\n\n{content}<|eot_id|>",
        assistant="<|start_header_id|>assistant<|end_header_id|>\n\n{content}<|eot_id|>",
        generation_prompt="<|start_header_id|>assistant<|end_header_id|>\n\n",
        strip_content=True,
        stop_strings=("<|eot_id|>", "<|start_header_id|>"),
        special_tokens=("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
    ),
    PromptFormat(
        id="alpaca",
        label="Alpaca",
        description="Stanford Alpaca's instruction/response blocks with its standard preamble.",
        source="tatsu-lab/stanford_alpaca prompt (no-input variant)",
        default_system=ALPACA_SYSTEM,
        system="{content}\n\n",
        user="### Instruction:\n{content}\n\n",
        assistant="### Response:\n{content}\n\n",
        generation_prompt="### Response:\n",
        stop_strings=("### Instruction:",),
    ),
    PromptFormat(
        id="vicuna",
        label="Vicuna v1.1",
        description="FastChat's vicuna_v1.1: 'USER:'/'ASSISTANT:' with the standard system line.",
        source="lm-sys/FastChat conversation template vicuna_v1.1",
        default_system=VICUNA_SYSTEM,
        system="{content} ",
        user="USER: {content} ",
        assistant="ASSISTANT: {content}</s>",
        generation_prompt="ASSISTANT:",
        stop_strings=("USER:",),
        special_tokens=("</s>",),
    ),
    PromptFormat(
        id="mistral",
        label="Mistral Instruct",
        description="Mistral-7B-Instruct's [INST] turns; a system message opens the first user turn.",
        source="mistralai/Mistral-7B-Instruct-v0.1 chat template",
        bos="<s>",
        system_merge="{system}\n\n{content}",
        user="[INST] {content} [/INST]",
        assistant="{content}</s>",
        generation_prompt="",
        alternate=True,
        stop_strings=("[INST]",),
        special_tokens=("<s>", "</s>"),
    ),
    PromptFormat(
        id="tokenizer",
        label="Tokenizer's own chat template",
        description="Whatever chat_template the model's tokenizer ships.",
        source="the model's tokenizer_config.json / chat_template.jinja",
    ),
)
