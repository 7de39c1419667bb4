"""The end-of-course survey instrument (assignment 09): what is asked, and how it is scored.

Three kinds of question:

- Likert items on a 1–5 scale: the seed study's satisfaction and comprehension items
  (Lee et al. 2021: "1–5, three students gave 5 and two gave 4 → 92 % satisfaction"), a few
  general items, and per assignment 00–08 its clarity, difficulty and time spent;
- free-text questions (optional);
- a 10-question knowledge check covering 00–08, ungraded, taken before (``pre``) and after
  (``post``) the course; a random *pairing code* links the two without naming anyone.

Changing a question changes :data:`INSTRUMENT_VERSION`; responses record the version they
answered, and the aggregation refuses to mix versions.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "INSTRUMENT_VERSION",
    "SCALE",
    "PHASES",
    "LikertItem",
    "FreeTextQuestion",
    "KnowledgeQuestion",
    "ASSIGNMENTS",
    "LIKERT_ITEMS",
    "FREE_TEXT",
    "KNOWLEDGE",
    "DONT_KNOW",
    "likert_item",
    "score_knowledge",
]

INSTRUMENT_VERSION = "2026.1"
SCALE = (1, 2, 3, 4, 5)
PHASES = ("pre", "post")  # pre: knowledge check only; post: everything
DONT_KNOW = "?"  # the knowledge check's "I don't know yet" option (scores 0)


@dataclass(frozen=True)
class LikertItem:
    """One 1–5 item. ``low``/``high`` label the scale's ends; ``mid`` its centre if bipolar."""

    id: str
    group: str  # "general", "clarity", "difficulty", "time"
    text: str
    low: str
    high: str
    required: bool = False
    mid: str | None = None
    assignment: str | None = None


@dataclass(frozen=True)
class FreeTextQuestion:
    id: str
    text: str


@dataclass(frozen=True)
class KnowledgeQuestion:
    """A multiple-choice question; ``options`` maps a letter to its text."""

    id: str
    assignment: str
    text: str
    options: tuple[tuple[str, str], ...]
    answer: str


# Assignment -> (title, the time budget of its "What you'll do" header in minutes, or None
# while the notebook is planned). tests/test_course_docs.py checks these against the notebooks.
ASSIGNMENTS: dict[str, tuple[str, int | None]] = {
    "00_setup_and_data": ("Set up and read your first CT slice", 100),
    "01_dcgan": ("Train a DCGAN on chest X-rays", 110),
    "02_conditional_gan": ("Generate a chosen finding with a conditional GAN", 100),
    "03_multiscale_attention_gan": ("Multi-scale self-attention conditional GAN", 155),
    "04_evaluating_gans": ("Evaluate GANs with the Fréchet DenseNet Distance", 90),
    "05_vgg16_kernels_activations": ("Compare VGG-16 kernels and activations", 120),
    "06_gan_augmentation": ("Test whether GAN images of rare findings help a classifier", 120),
    "07_pix2pix_ct": ("Translate kidney label maps into CT slices with Pix2Pix", 130),
    "08_kidney_segmentation": ("Segment kidneys and tumours in four augmentation scenarios", 160),
}

AGREE = ("strongly disagree", "strongly agree")

_GENERAL = (
    LikertItem(
        "satisfaction", "general", "Overall, I am satisfied with this course.", *AGREE, True
    ),
    LikertItem(
        "comprehension",
        "general",
        "The course improved my understanding of medical AI.",
        *AGREE,
        True,
    ),
    LikertItem(
        "practical_skills",
        "general",
        "The course improved my practical skills in building medical AI models.",
        *AGREE,
        True,
    ),
    LikertItem(
        "synthetic_data",
        "general",
        "Working on generated (phantom) data instead of patient data was adequate for learning.",
        *AGREE,
    ),
    LikertItem(
        "environment",
        "general",
        "The computing environment (JupyterHub or Colab) worked without getting in my way.",
        *AGREE,
    ),
    LikertItem(
        "tests_helped",
        "general",
        "The visible tests' messages helped me find my mistakes.",
        *AGREE,
    ),
)


def _per_assignment(assignment: str, title: str, minutes: int | None) -> tuple[LikertItem, ...]:
    short = assignment[:2]
    budget = f"the notebook's estimate of {minutes} minutes" if minutes else "its time estimate"
    return (
        LikertItem(
            f"clarity_{short}",
            "clarity",
            f"{short} {title}: the instructions were clear.",
            *AGREE,
            assignment=assignment,
        ),
        LikertItem(
            f"difficulty_{short}",
            "difficulty",
            f"{short} {title}: how difficult was it?",
            "much too easy",
            "much too hard",
            mid="about right",
            assignment=assignment,
        ),
        LikertItem(
            f"time_{short}",
            "time",
            f"{short} {title}: the time you spent, compared with {budget}.",
            "much less",
            "much more",
            mid="about the estimate",
            assignment=assignment,
        ),
    )


LIKERT_ITEMS: tuple[LikertItem, ...] = _GENERAL + tuple(
    item
    for name, (title, minutes) in ASSIGNMENTS.items()
    for item in _per_assignment(name, title, minutes)
)

FREE_TEXT: tuple[FreeTextQuestion, ...] = (
    FreeTextQuestion("helped_most", "What helped you learn most?"),
    FreeTextQuestion("change_first", "What should change first, and in which notebook?"),
    FreeTextQuestion("anything_else", "Anything else you want the instructors to know?"),
)

KNOWLEDGE: tuple[KnowledgeQuestion, ...] = (
    KnowledgeQuestion(
        "k01",
        "00_setup_and_data",
        "A CT slice has RescaleSlope 1 and RescaleIntercept −1024. A stored value of 1024 is",
        (("a", "0 HU (water)"), ("b", "1024 HU"), ("c", "−1024 HU (air)"), ("d", "2048 HU")),
        "a",
    ),
    KnowledgeQuestion(
        "k02",
        "01_dcgan",
        "A GAN suffers *mode collapse* when",
        (
            ("a", "the discriminator loss reaches zero"),
            ("b", "the generator produces only a few distinct images, whatever the noise"),
            ("c", "the losses become NaN"),
            ("d", "the generated images are blurry"),
        ),
        "b",
    ),
    KnowledgeQuestion(
        "k03",
        "02_conditional_gan",
        "In the course's conditional GAN the discriminator receives",
        (
            ("a", "the image only"),
            ("b", "the image and the one-hot finding, tiled as extra channels"),
            ("c", "the finding only"),
            ("d", "the generator's noise vector"),
        ),
        "b",
    ),
    KnowledgeQuestion(
        "k04",
        "03_multiscale_attention_gan",
        "Self-attention over a 64x64 feature map (no pooling) builds an attention matrix of",
        (("a", "64 x 64"), ("b", "4096 x 4096"), ("c", "8 x 8"), ("d", "64 x 4096")),
        "b",
    ),
    KnowledgeQuestion(
        "k05",
        "03_multiscale_attention_gan",
        "The LSGAN loss of the multi-scale GAN replaces the log loss by",
        (
            ("a", "the squared distance to the targets 1 (real) and 0 (fake)"),
            ("b", "a hinge on the discriminator's output"),
            ("c", "the Wasserstein distance"),
            ("d", "the L1 distance between real and generated images"),
        ),
        "a",
    ),
    KnowledgeQuestion(
        "k06",
        "04_evaluating_gans",
        "Two FDD values are comparable only when",
        (
            ("a", "both generators were trained for the same number of epochs"),
            ("b", "they were computed with the same feature network and the same sample count"),
            ("c", "the images have the same finding"),
            ("d", "both are below 100"),
        ),
        "b",
    ),
    KnowledgeQuestion(
        "k07",
        "05_vgg16_kernels_activations",
        "A classifier's ROC AUC of 0.5 means that it",
        (
            ("a", "is right half of the time"),
            ("b", "ranks a random abnormal case above a random normal one no better than chance"),
            ("c", "has a threshold of 0.5"),
            ("d", "is perfect on half of the classes"),
        ),
        "b",
    ),
    KnowledgeQuestion(
        "k08",
        "06_gan_augmentation",
        "Synthetic images made by a GAN may join",
        (
            ("a", "the training split only"),
            ("b", "the test split, to enlarge it"),
            ("c", "any split, if they look realistic"),
            ("d", "the validation split only"),
        ),
        "a",
    ),
    KnowledgeQuestion(
        "k09",
        "07_pix2pix_ct",
        "Pix2Pix trains its generator with",
        (
            ("a", "the adversarial loss only"),
            ("b", "the adversarial loss plus λ times the L1 distance to the target (λ = 100)"),
            ("c", "the L1 distance only"),
            ("d", "a cycle-consistency loss"),
        ),
        "b",
    ),
    KnowledgeQuestion(
        "k10",
        "08_kidney_segmentation",
        "A predicted kidney mask covers the true kidney exactly plus an equal area of "
        "background. Its IoU is",
        (("a", "1.0"), ("b", "0.5"), ("c", "0.67"), ("d", "2.0")),
        "b",
    ),
)

_BY_ID = {item.id: item for item in LIKERT_ITEMS}


def likert_item(item_id: str) -> LikertItem:
    """The Likert item with this id (``KeyError`` names the valid ids)."""
    try:
        return _BY_ID[item_id]
    except KeyError:
        raise KeyError(
            f"unknown Likert item {item_id!r}; expected one of {sorted(_BY_ID)}"
        ) from None


def score_knowledge(answers: dict[str, str]) -> int:
    """Number of correct answers (0–10); "I don't know yet" and blanks score 0."""
    return sum(answers.get(q.id) == q.answer for q in KNOWLEDGE)
