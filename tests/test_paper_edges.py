"""Edge cases of chapter 07 (`s1_nb.paper`) that the chapter does not need to show: bad selections and bad control values."""
import pytest

from s1_nb.paper import ablation_pool, countdown, instruction, select_rows


@pytest.fixture(scope="module")
def pool():
    return ablation_pool(0, rows=600)


def test_select_rows_names_the_selections_it_knows(pool):
    with pytest.raises(ValueError, match="choose one of random, diverse"):
        select_rows(pool, "best")


def test_select_rows_says_when_the_quality_filtered_pool_is_too_small(pool):
    with pytest.raises(ValueError, match="has only 50 rows"):
        select_rows(pool.head(50), "random", 100)


def test_instruction_wording_and_bad_values():
    assert instruction("scc", 1) == "Think for up to 1 step."
    assert instruction("ccc", "short") == "Think short."
    with pytest.raises(ValueError, match="'short' or 'long'"):
        instruction("ccc", "medium")
    with pytest.raises(ValueError, match="choose one of tcc, scc, ccc"):
        instruction("xcc", 3)
    assert countdown("Quick: 1.") == "1 step left\nQuick: 1."
