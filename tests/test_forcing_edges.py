"""Edge cases of chapter 03's settings and prompt checks (moved out of the chapter: they pin behaviour, they do not teach)."""
from fastcore import test as fc

from s1_nb.core import THINK_DELIM, inference_prompt
from s1_nb.forcing import ForcingConfig, _check_prompts, _get_engine, make_config, thinking_budget


def test_bad_settings_name_their_argument():
    fc.test_fail(lambda: make_config(max_thinking_tokens=0), contains="max_thinking_tokens")
    fc.test_fail(lambda: make_config(num_waits=-1), contains="num_waits")
    fc.test_fail(lambda: make_config(temperature=-0.5), contains="temperature")
    fc.test_fail(lambda: _get_engine("nope"), contains="unknown engine")


def test_prompts_must_end_in_one_think_delimiter():
    fc.test_fail(lambda: _check_prompts([]), contains="empty")
    fc.test_fail(lambda: _check_prompts(["no delimiter"]), contains="prompts[0]")
    p = inference_prompt("How many r in raspberry?")
    fc.test_eq(_check_prompts(p), [p])
    fc.test_fail(lambda: _check_prompts([p, p + "\n" + THINK_DELIM]), contains="prompts[1]")


def test_a_budget_larger_than_the_context_is_refused():
    fc.test_fail(lambda: thinking_budget(ForcingConfig(9000), 100, 8192, reserve=50), contains="max_thinking_tokens=9000")
