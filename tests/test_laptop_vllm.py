"""The shipped laptop model loads in vLLM (CPU or GPU) like any model folder, and budget forcing runs on it."""
import pytest

pytestmark = pytest.mark.vllm


@pytest.fixture(scope="module")
def llm():
    from s1_nb.core import laptop_folder
    from s1_nb.vllm_forcing import load_vllm
    return load_vllm(laptop_folder("base"))


def test_shipped_heads_are_wide_enough_for_vllm():
    import json
    from s1_nb.core import laptop_folder
    cfg = json.loads((laptop_folder("base") / "config.json").read_text())
    assert cfg["hidden_size"] // cfg["num_attention_heads"] >= 32, cfg  # vLLM's CPU attention: head size >= 32


def test_shipped_checkpoint_generates_and_forces_in_vllm(llm):
    from s1_nb.core import inference_prompt
    from s1_nb.forcing import generate
    from s1_nb.laptop import laptop_answer, laptop_question
    tok = llm.get_tokenizer()
    prompt = inference_prompt(laptop_question("How many S in Mississippi?"), tok)
    plain, waited = (generate([prompt], llm, engine="vllm", num_waits=w, max_thinking_tokens=256, max_answer_tokens=12)[0]
                     for w in (0, 2))
    assert plain.text.startswith("\nQuick:") or plain.thinking.lstrip().startswith("Quick:"), plain.text
    assert waited.waits == 2 and waited.thinking_tokens > plain.thinking_tokens
    assert laptop_answer(waited) is not None
