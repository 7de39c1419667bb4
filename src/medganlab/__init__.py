"""MedGAN Lab: the helper package the course notebooks import.

Infrastructure only (data, profiles, set-up, plotting, grading tools); a graded answer
never lives here. Start a notebook with::

    import medganlab
    info = medganlab.setup()
    cfg = medganlab.profile_for("00_setup_and_data")
"""

import os as _os

# Before anything imports TensorFlow: keep its C++ start-up chatter out of notebooks.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

from medganlab.profiles import PROFILES, active_profile, profile_for  # noqa: E402
from medganlab.runtime import setup  # noqa: E402

__all__ = ["__version__", "PROFILES", "active_profile", "profile_for", "setup"]
