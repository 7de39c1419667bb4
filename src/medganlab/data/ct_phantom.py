"""The kidney CT phantom under its first name: see :mod:`medganlab.data.ct`.

Kept so that ``from medganlab.data import ct_phantom`` keeps working; new code imports
:mod:`medganlab.data.ct`.
"""

from medganlab.data.ct import *  # noqa: F403
from medganlab.data.ct import __all__  # noqa: F401
