"""The chest X-ray phantom under its first name: see :mod:`medganlab.data.cxr`.

Kept so that ``from medganlab.data import cxr_phantom`` (notebooks 00–05, the tests) keeps
working; new code imports :mod:`medganlab.data.cxr` and :mod:`medganlab.data.vocabulary`.
"""

from medganlab.data.cxr import *  # noqa: F403
from medganlab.data.cxr import __all__  # noqa: F401
