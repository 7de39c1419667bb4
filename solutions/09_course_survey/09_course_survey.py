# %% [markdown]
# # Tell us how the course went, and check what you know
#
# Answer an anonymous end-of-course survey and a 10-question knowledge check on notebooks
# 00–08. Nothing here is graded, and nothing you save names you.
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{ colab_url }})
# [![View the repository](https://img.shields.io/badge/GitHub-medganlab-blue?logo=github)]({{ repository_url }})

# %% [markdown]
# **What you'll do** (about 25 minutes)
#
# | Section | Teaching | Exercises |
# |---|---|---|
# | Set up and keep your pairing code | 3 min | — |
# | Answer the survey | — | 10 min |
# | Take the knowledge check | — | 8 min |
# | Check and save your answers | 2 min | — |
# | Read your knowledge-check result | — | 2 min |
#
# **What you'll learn**
#
# - where you stand on ten ideas of the course, before and after it;
# - how a course survey can stay anonymous: no name, the day instead of the time, a random
#   response id, and a report that hides any answer fewer than five people gave.
#
# **What you'll need**: about 25 minutes and no GPU. Take the knowledge check once before
# notebook 00 (phase `"pre"`) and everything after notebook 08 (phase `"post"`).

# %% [markdown]
# ## Setup
#
# On Colab, the next cell installs the course package (Colab already has TensorFlow).
# Everywhere else it does nothing: `make setup` installed everything.

# %%
import sys

if "google.colab" in sys.modules:
    # %pip install --quiet "medganlab @ git+{{ repository_url }}@{{ course_ref }}"
    pass

# %% [markdown]
# Import the survey tools. This notebook trains nothing, so it skips `medganlab.setup()`
# and never imports TensorFlow.

# %%
import numpy as np
from IPython.display import display

from medganlab import survey
from medganlab.survey.example import example_response
from medganlab.survey.form import SurveyForm, save

# %% [markdown]
# ## Configuration
#
# The profile decides only where your answers go: in the `smoke` profile (automated
# checks) the form is filled with an example and saved into a throw-away folder; otherwise
# your answers go to the course's survey inbox, or become a file for you to upload.

# %%
cfg = survey.profile_for("09_course_survey")
cfg

# %% [markdown]
# ## Set up and keep your pairing code
#
# Choose the phase: `"pre"` before the course starts (knowledge check only), `"post"` at
# the end (survey and knowledge check).

# %%
form = SurveyForm(phase="post")  # "pre" before notebook 00

# %% [markdown]
# Your *pairing code* links your knowledge check before the course to the one after it, so
# the instructor can measure what changed without knowing who you are. It is random and is
# stored nowhere but in your answers: **write it down** when you take the `"pre"` check, and
# type it into the box below when you take the `"post"` one (or clear the box to stay
# unpaired).

# %%
print(f"Your pairing code: {form.code.value}")

# %% [markdown]
# ## Answer the survey
#
# Open each section and click your answers. Items marked `*` are required; skip the
# notebooks you did not do. Then open the knowledge check: choose "I don't know yet" rather
# than guessing — a guess blurs what the course changed.

# %%
display(form.widget())

# %% [markdown]
# Automated runs of this notebook (the `smoke` profile) fill in an example here, so that
# the cells below run end to end; yours stays as you clicked it.

# %%
if cfg.example_answers:
    form.fill(example_response(np.random.default_rng(cfg.seed), form.phase))

# %% [markdown]
# ## Check and save your answers
#
# Run the next cell when you are done. It checks your answers first: a missing required
# item, or an answer outside 1–5, gives a message that says what to fix, and nothing is
# saved until they are fixed. Running it again after a change replaces your earlier file.
# Here is what such messages look like, for an empty response with one answer of 7:

# %%
empty = survey.new_response("post")
empty["likert"]["satisfaction"] = 7
print("\n".join(survey.validate_response(empty)[:4]))

# %% [markdown]
# Now check and save yours. On the hub the file goes to the course's survey inbox; on
# Colab your browser downloads it, to upload through the course's *anonymous* survey link
# (never through the graded-assignment upload, which records your name).

# %%
saved = save(form, cfg.inbox())

# %% [markdown]
# This is everything the file holds — no name, no notebook metadata, the day but not the
# time, and a random id:

# %%
print(saved.read_text() if saved else "Nothing saved yet: fix the messages above.")

# %% [markdown]
# ## Read your knowledge-check result
#
# The check is not graded. After the course, compare your answers with the key; before it,
# see only your score, so the check after the course still measures something.

# %%
answers = form.response()["knowledge"]
print(f"{survey.score_knowledge(answers)} of {len(survey.KNOWLEDGE)} correct")

# %%
for question in survey.KNOWLEDGE if form.phase == "post" else []:
    if answers[question.id] != question.answer:
        key = dict(question.options)[question.answer]
        print(f"{question.id} ({question.assignment}): {question.text} → {key}")

# %% [markdown]
# ## What happens to your answers
#
# The instructor runs `medganlab survey aggregate <folder>` on all responses. It writes
# one report with a bar per item, medians and quartiles, the satisfaction figure as the
# VGG-16 case study defined it (the mean answer divided by 5: three 5s and two 4s give
# 92 %), and the knowledge-check change with a paired test. Any item fewer than five
# people answered shows "suppressed", free text appears only once ten people wrote some,
# and no answer is ever broken down by another one.

# %% [markdown]
# ## Key points
#
# - A survey is anonymous only if nothing in it, or around it, names you: no account, no
#   metadata, no exact time, and no report cell small enough to point at one person.
# - "92 % satisfaction" can mean very different cohorts: always read the distribution.
# - A before/after check measures learning only when the same people are paired and
#   guesses are discouraged.
#
# ## Further reading
#
# - Lee et al. (2021), the VGG-16 education case study that closes with the 1–5 survey.
# - Heiberger, R. M., & Robbins, N. B. (2014). [Design of diverging stacked bar charts for
#   Likert scales](https://doi.org/10.18637/jss.v057.i05). *J Stat Softw* 57(5).
# - [UK Office for National Statistics: statistical disclosure control](https://www.ons.gov.uk/methodology/methodologytopicsandstatisticalconcepts/disclosurecontrol)
#   — why small cells are suppressed.
# - [The course syllabus]({{ repository_url }}/blob/{{ course_ref }}/course/syllabus.md) and its
#   [learning objectives]({{ repository_url }}/blob/{{ course_ref }}/course/learning_objectives.md).
