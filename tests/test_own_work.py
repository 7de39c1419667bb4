"""check_own_work: an exercise answered by calling the package's own version fails, with a
message that says so; the student's own NumPy (and their own helpers) pass."""

from __future__ import annotations

import numpy as np
import pytest

from medganlab.evaluation import segmentation as seg
from medganlab.testing import check_own_work

FORBIDDEN = (seg.slice_scores, seg.mean_score)


def own_mean(scores):
    kept = np.asarray(scores, float)
    return float(np.nanmean(kept))


def _helper(scores):
    return seg.mean_score(scores)


def calls_helper(scores):
    return _helper(scores)


def wraps(scores):
    return seg.mean_score(scores)


def imports_inside(scores):
    from medganlab.evaluation.segmentation import mean_score as average

    return average(scores)


average = seg.mean_score  # an alias under another name, bound at module level


def uses_alias(scores):
    return average(scores)


def in_a_lambda(scores):
    pick = lambda s: seg.slice_scores(s, s, "kidney")["iou"]  # noqa: E731
    return pick(scores)


def mean_score(scores):  # the student's own helper, named like the package's
    return float(np.nanmean(np.asarray(scores, float)))


def uses_own_helper_of_the_same_name(scores):
    return mean_score(scores)


def test_own_numpy_passes():
    check_own_work(own_mean, forbidden=FORBIDDEN)


def test_an_own_helper_named_like_the_package_function_passes():
    check_own_work(uses_own_helper_of_the_same_name, forbidden=FORBIDDEN)


@pytest.mark.parametrize("fn", [wraps, imports_inside, uses_alias, in_a_lambda, calls_helper])
def test_calling_the_package_fails_with_a_teaching_message(fn):
    with pytest.raises(AssertionError, match=f"expected your own implementation of {fn.__name__}"):
        check_own_work(fn, forbidden=FORBIDDEN)


def test_the_package_function_itself_fails():
    with pytest.raises(AssertionError, match="expected your own implementation"):
        check_own_work(seg.mean_score, forbidden=FORBIDDEN)
