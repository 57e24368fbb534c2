"""Edge cases of chapter 04's request settings (moved out of the chapter: they pin behaviour, they do not teach)."""
from fastcore import test as fc

from s1_nb.vllm_forcing import check_room, parse_forcing_args


def test_a_request_without_s1_settings_is_left_alone():
    fc.test_eq(parse_forcing_args({"other": 1}), None)


def test_room_enough_or_nothing_to_check_passes():
    check_room(100, 32, 200); check_room("auto", 32, 200); check_room(100, 0, None)


def test_bad_values_name_their_s1_key():
    fc.test_fail(lambda: parse_forcing_args({"s1_num_waits": "2"}), contains="s1_num_waits")
    fc.test_fail(lambda: parse_forcing_args({"s1_num_waits": -1}), contains=">= 0")
    fc.test_fail(lambda: parse_forcing_args({"s1_max_thinking_tokens": 0}), contains="positive")
    fc.test_fail(lambda: parse_forcing_args({"s1_max_thinking_tokens": "lots"}), contains="'auto'")
