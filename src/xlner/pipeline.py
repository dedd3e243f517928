"""Translate-test and translate-train: one list of steps over one record type.

translate-test (label target-language text with an English tagger)::

    target sentences -> detokenize -> translate into English -> tokenize -> tag English
    -> align English <-> target -> project English spans onto the target -> labelled target

translate-train (make silver training data in the target language)::

    English labelled sentences -> detokenize -> translate -> tokenize -> align
    -> project -> silver target sentences + per-sentence confidence (``min_confidence`` filter)

A run is a :class:`PipelineSpec`; :func:`build_steps` turns it into steps
(``markers`` and ``model-transfer`` are one step instead of translate, tag,
align and project), each a picklable callable from a :class:`Batch` to the
next. :func:`translate_test` / :func:`translate_train` run them on the whole
input as one batch; :mod:`xlner.engines.jobs` runs the same steps per shard
on the local or Ray engine. Components are chosen by registry name with
options (:class:`Component`). The steps that run a model (translate, tag,
align) are cached on disk (:mod:`xlner.cache`), batch by batch, so a re-run
does no work twice and an interrupted run resumes; projection takes
milliseconds and is not cached. ``backtranslation=True`` translates each
translation back into the language it came from and aligns with the
``backtranslation`` aligner wrapped around the chosen one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from xlner.cache import StepCache, cached_map, describe_options, fingerprint
from xlner.engines import Stage
from xlner.errors import InputError, XlnerError
from xlner.registry import registry
from xlner.translate.detok import detokenize, tokenize
from xlner.types import Alignment, Sentence, SentencePair, Span, spans_from_json, spans_to_json

DEFAULT_BATCH_SIZE = 32


@dataclass
class Component:
    """A registry component by name and options, created on first use (a fully cached run never loads it)."""

    kind: str  # "translators", "taggers" or "aligners"
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    key_options: dict[str, Any] | None = None  # what identifies it in cache keys, when not ``options``
    _instance: Any = field(default=None, init=False, repr=False)

    @property
    def registry(self):
        return getattr(registry, self.kind)

    def get(self) -> Any:
        """The component, created once (its options checked first)."""
        if self._instance is None:
            self.check()
            self._instance = self.registry.create(self.name, **self.options)
        return self._instance

    def check(self) -> None:
        """The name is registered and the factory's signature takes the options (nothing to check for a component
        given already built); raises :class:`XlnerError`."""
        from xlner.checks import check_component_options

        if self._instance is not None:
            return

        check_component_options(self.kind, self.name, self.options, f"{self.registry.kind} {self.name!r}: bad options")

    @property
    def code(self) -> Any:
        """What stands for its code in cache keys: the instance when given built, else its registered factory."""
        return self._instance if self._instance is not None else self.registry.get(self.name)

    @property
    def precomputed(self) -> bool:
        """True for components that look results up (``file`` translator): run once on all records, not cached."""
        return bool(getattr(self.registry.get(self.name), "precomputed", False))


def as_component(kind: str, value: "Component | str", options: Mapping[str, Any] | None) -> Component:
    """``value`` itself if it is a :class:`Component`, else the registry entry ``value`` of ``kind`` with ``options``."""
    if isinstance(value, Component):
        return value
    return Component(kind, value, dict(options or {}))


@dataclass
class Context:
    """Where steps cache (``cache_dir=None`` with ``use_cache``: the default folder) and how they batch."""

    cache_dir: str | Path | None = None
    use_cache: bool = True
    batch_size: int = DEFAULT_BATCH_SIZE

    def cache(self, step: str, component: Component, code: Any = None, **extra: Any) -> StepCache | None:
        """The step's cache, keyed also on its code: ``code`` (default: this module) and the component's factory."""
        if not self.use_cache:
            return None
        options = component.options if component.key_options is None else component.key_options
        code = (Context if code is None else code, component.code)
        return StepCache.open(self.cache_dir, step, component.name, {**options, **extra}, code=code)


@dataclass
class PipelineResult:
    """Output of a pipeline run.

    ``sentences``: labelled target sentences, in input order (translate-train:
    only those kept by ``min_confidence``); ``pairs``: every sentence pair with
    its alignment and projected spans; ``confidences``: per pair;
    ``kept``: indices of the pairs in ``sentences``; ``report``: a
    :class:`xlner.metrics.Report` when gold labels were given.
    """

    sentences: list[Sentence]
    pairs: list[SentencePair]
    confidences: list[float]
    kept: list[int]
    report: Any = None


# ---------------------------------------------------------------- cached steps over sentences


def step_translate(
    texts: Sequence[str], ids: Sequence[str | None], translator: Component, src_lang: str, tgt_lang: str, ctx: Context
) -> list[str]:
    """Translate running texts (cached per batch; precomputed translators get all texts and ids at once)."""
    if translator.precomputed:
        return list(translator.get().translate(list(texts), src_lang, tgt_lang, ids=list(ids)))
    cache = ctx.cache("translate", translator, src_lang=src_lang, tgt_lang=tgt_lang)
    return cached_map(
        lambda batch: translator.get().translate(batch, src_lang, tgt_lang),
        texts,
        cache=cache,
        batch_size=ctx.batch_size,
        desc=f"translate {src_lang}->{tgt_lang}",
    )


def translate_texts(
    texts: Sequence[str],
    ids: Sequence[str | None],
    translator: Component,
    src_lang: str,
    tgt_lang: str,
    ctx: Context,
    batch_tokens: int | None = None,
) -> list[str]:
    """:func:`step_translate`, in batches of about ``batch_tokens`` words (sentences sorted by length) when given."""
    if translator.precomputed or not batch_tokens:
        return step_translate(texts, ids, translator, src_lang, tgt_lang, ctx)
    order = sorted(range(len(texts)), key=lambda k: len(texts[k].split()))
    batches: list[list[int]] = [[]]
    used = 0
    for k in order:
        words = len(texts[k].split()) + 1
        if batches[-1] and used + words > batch_tokens:
            batches.append([])
            used = 0
        batches[-1].append(k)
        used += words
    out = [""] * len(texts)
    for batch in batches:
        if batch:
            done = step_translate(
                [texts[k] for k in batch],
                [ids[k] for k in batch],
                translator,
                src_lang,
                tgt_lang,
                replace(ctx, batch_size=len(batch)),
            )
            for k, text in zip(batch, done):
                out[k] = text
    return out


def step_tag(token_lists: Sequence[Sequence[str]], tagger: Component, ctx: Context) -> list[list[Span]]:
    """Tag tokenized sentences (cached per batch)."""
    cache = ctx.cache("tag", tagger)
    return cached_map(
        lambda batch: tagger.get().tag(batch),
        [list(t) for t in token_lists],
        cache=cache,
        batch_size=ctx.batch_size,
        to_json=spans_to_json,
        from_json=spans_from_json,
        desc="tag",
    )


def step_align(
    pairs: Sequence[tuple[Sequence[str], Sequence[str]]], aligner: Component, ctx: Context
) -> list[Alignment]:
    """Align all pairs in one batch (statistical aligners learn from the whole corpus); cached."""
    cache = ctx.cache("align", aligner)
    return cached_map(
        lambda batch: aligner.get().align([(s, t) for s, t in batch]),
        [[list(s), list(t)] for s, t in pairs],
        cache=cache,
        batch_size=None,
        to_json=lambda a: sorted([i, j] for i, j in a),
        from_json=lambda v: frozenset((int(i), int(j)) for i, j in v),
        desc="align",
    )


def step_project(pairs: Sequence[SentencePair], method: str, options: Mapping[str, Any]) -> list[Any]:
    """Project source spans onto targets: :class:`~xlner.project.ProjectionResult` objects (milliseconds: not cached)."""
    from xlner.project import project_detailed

    return project_detailed(pairs, method, **options)


def align_pairs(
    pairs: Sequence[SentencePair],
    aligner: Component,
    ctx: Context,
    back_translations: Sequence[str] | None = None,
    back_lang: str = "",
    back_of: str = "src",
    tokenizer: str = "moses",
) -> None:
    """Align the pairs in place; with ``back_translations`` (of side ``back_of``, in ``back_lang``) the alignments
    are refined by the ``backtranslation`` aligner wrapped around ``aligner``."""
    token_pairs = [(p.src_tokens, p.tgt_tokens) for p in pairs]
    if back_translations is not None:
        back_tokens = [tokenize(text, back_lang, tokenizer) for text in back_translations]
        inner = {"base": aligner.name, "base_options": aligner.options, "of": back_of}
        aligner = Component(
            "aligners",
            "backtranslation",
            {**inner, "back_translations": back_tokens},
            key_options={**inner, "back_translations": fingerprint(back_tokens)},
        )
    alignments = step_align(token_pairs, aligner, ctx)
    for pair, alignment in zip(pairs, alignments):
        pair.alignment = alignment


# ---------------------------------------------------------------- the record and the steps of a run

KINDS = ("test", "train")
#: Methods that need no alignment (one step: :class:`MarkerStep`).
MARKER_METHODS = ("markers", "model-transfer")
#: Aligners that run no neural model (no actor or GPU needed).
STATISTICAL_ALIGNERS = ("eflomal", "pharaoh")
#: Projection options that load a model (the project step then runs in actors, on GPUs when there are).
MODEL_SCORE_OPTIONS = ("ner_model", "nmt_model", "encoder")


@dataclass
class Batch:
    """The one record every step reads and extends: some input sentences (all of them, or one shard).

    ``translations`` / ``back_translations``: precomputed lines for exactly
    these sentences, else None. The steps fill ``pairs`` (translate: both
    sides' tokens; tag: source spans; align: alignments; project or markers:
    target spans), ``back_texts`` and ``confidences``. The source side of a
    pair is always the ``pivot`` (labelled) side.
    """

    sentences: list[Sentence]
    index: int = 0
    translations: list[str] | None = None
    back_translations: list[str] | None = None
    pairs: list[SentencePair] = field(default_factory=list)
    back_texts: list[str] | None = None
    confidences: list[float] = field(default_factory=list)

    @property
    def ids(self) -> list[str | None]:
        return [s.id for s in self.sentences]

    def outputs(self, min_confidence: float = 0.0) -> list[tuple[SentencePair, float, bool]]:
        """Each pair with its confidence and whether it is kept (confidence >= ``min_confidence``, a non-empty target)."""
        return [(p, c, bool(c >= min_confidence and p.tgt_tokens)) for p, c in zip(self.pairs, self.confidences)]


@dataclass
class TranslateStep:
    """Translate the sentences (and back, for back-translation refinement) and build the pairs."""

    kind: str
    translator: Component
    src_lang: str  # the language of the input sentences
    tgt_lang: str
    tokenizer: str
    backtranslation: bool
    ctx: Context
    batch_tokens: int | None = None

    def __call__(self, batch: Batch) -> Batch:
        ids = batch.ids
        texts = [detokenize(s.tokens, self.src_lang) for s in batch.sentences]
        lines = batch.translations
        if lines is None:
            lines = translate_texts(
                texts, ids, self.translator, self.src_lang, self.tgt_lang, self.ctx, self.batch_tokens
            )
        translated = [tokenize(t, self.tgt_lang, self.tokenizer) for t in lines]
        back = batch.back_translations
        if self.backtranslation and back is None:
            if self.translator.precomputed:
                raise XlnerError(
                    "back-translation with precomputed translations needs the back-translations too: --back-translations FILE"
                )
            back = translate_texts(
                [detokenize(t, self.tgt_lang) for t in translated],
                ids,
                self.translator,
                self.tgt_lang,
                self.src_lang,
                self.ctx,
                self.batch_tokens,
            )
        if self.kind == "train":
            batch.pairs = [
                SentencePair(list(s.tokens), t, list(s.spans), id=s.id) for s, t in zip(batch.sentences, translated)
            ]
        else:
            batch.pairs = [SentencePair(t, list(s.tokens), [], id=s.id) for s, t in zip(batch.sentences, translated)]
        batch.back_texts = list(back) if self.backtranslation and back is not None else None
        return batch


@dataclass
class TagStep:
    """Tag the pivot side of the pairs (translate-test)."""

    tagger: Component
    ctx: Context

    def __call__(self, batch: Batch) -> Batch:
        found = step_tag([p.src_tokens for p in batch.pairs], self.tagger, self.ctx)
        for pair, spans in zip(batch.pairs, found):
            pair.src_spans = list(spans)
        return batch


@dataclass
class AlignStep:
    """Align the batch's pairs in one call (statistical aligners learn from the batch + extra parallel text)."""

    aligner: Component
    back_lang: str
    back_of: str
    tokenizer: str
    ctx: Context

    def __call__(self, batch: Batch) -> Batch:
        align_pairs(batch.pairs, self.aligner, self.ctx, batch.back_texts, self.back_lang, self.back_of, self.tokenizer)
        batch.back_texts = None
        return batch


@dataclass
class ProjectStep:
    """Project the source spans onto the targets."""

    method: str
    options: dict[str, Any]

    def __call__(self, batch: Batch) -> Batch:
        results = step_project(batch.pairs, self.method, self.options)
        for pair, result in zip(batch.pairs, results):
            pair.tgt_spans = list(result.spans)
        batch.confidences = [float(r.confidence) for r in results]
        return batch


@dataclass
class MarkerStep:
    """``markers`` (EasyProject-style marked translation) or ``model-transfer``: no alignment (:mod:`xlner.marker_steps`)."""

    kind: str
    method: str
    translator: Component
    tagger: Component
    lang: str
    pivot: str
    tokenizer: str
    options: dict[str, Any]
    ctx: Context

    def __call__(self, batch: Batch) -> Batch:
        from xlner import marker_steps
        from xlner.project.markers import log_report

        sentences, report = batch.sentences, None
        common: dict[str, Any] = {
            "lang": self.lang,
            "pivot": self.pivot,
            "translator": self.translator,
            "ctx": self.ctx,
        }
        if self.method == "model-transfer":
            _, pairs, confidences = marker_steps.model_transfer(sentences, tagger=self.tagger, ctx=self.ctx)
        elif self.kind == "train":
            pairs, confidences, report = marker_steps.translate_train_markers(
                sentences, tokenizer=self.tokenizer, options=self.options, **common
            )
        else:
            _, pairs, confidences, report = marker_steps.translate_test_markers(
                sentences, tagger=self.tagger, tokenizer=self.tokenizer, options=self.options, **common
            )
        if report is not None:
            log_report(report)
        batch.pairs, batch.confidences = list(pairs), [float(c) for c in confidences]
        return batch


def build_steps(kind: str, spec: PipelineSpec, batch_tokens: int | None = None) -> list[Stage]:
    """The steps of translate-``kind`` (``test`` or ``train``) for ``spec``: the one list every runner executes
    (in memory on one batch, or per shard on the local or Ray engine). Every component's options are checked
    against its factory here, before any model loads."""
    steps = _steps(kind, spec, batch_tokens)
    for step in steps:
        for value in vars(step.fn).values():
            if isinstance(value, Component):
                value.check()
    return steps


def _steps(kind: str, spec: PipelineSpec, batch_tokens: int | None) -> list[Stage]:
    if kind not in KINDS:
        raise XlnerError(f"unknown pipeline kind {kind!r}: expected test or train")
    run = spec.setup()
    method = spec.method
    if method in MARKER_METHODS:
        if method == "model-transfer" and kind == "train":
            raise XlnerError("model-transfer is a translate-test method")
        step = MarkerStep(
            kind, method, run.translator, run.tagger, spec.lang, spec.pivot, spec.tokenizer, run.method_options, run.ctx
        )
        return [Stage(method, step, model=True, gpu=True)]
    src_lang, tgt_lang = (spec.pivot, spec.lang) if kind == "train" else (spec.lang, spec.pivot)
    translate = TranslateStep(
        kind, run.translator, src_lang, tgt_lang, spec.tokenizer, spec.backtranslation, run.ctx, batch_tokens
    )
    steps = [Stage("translate", translate, model=True, gpu=True)]
    if kind == "test":
        steps.append(Stage("tag", TagStep(run.tagger, run.ctx), model=True, gpu=True))
    neural = run.aligner.name not in STATISTICAL_ALIGNERS
    back_of = "tgt" if kind == "train" else "src"
    align = AlignStep(run.aligner, src_lang, back_of, spec.tokenizer, run.ctx)
    steps.append(Stage("align", align, model=neural, gpu=neural))
    projection = run.projection()
    scored = projection.loads_model  # a model-based scorer: the step runs in actors, on GPUs
    steps.append(Stage("project", ProjectStep(method, projection.given), model=scored, gpu=scored))
    return steps


def run_batch(kind: str, sentences: Sequence[Sentence], spec: PipelineSpec) -> Batch:
    """All of ``sentences`` as one batch through :func:`build_steps` (``--back-translations`` read first)."""
    sentences = list(sentences)
    steps = build_steps(kind, spec)
    batch = Batch(sentences, back_translations=_read_back_translations(spec, len(sentences)))
    for step in steps:
        batch = step.fn(batch)
    return batch


def _read_back_translations(spec: PipelineSpec, count: int) -> list[str] | None:
    """The ``back_translations`` file's lines when back-translation uses it, checked against the input size."""
    if not spec.backtranslation or spec.back_translations is None or spec.method in MARKER_METHODS:
        return None
    from xlner.io import read_lines

    lines = read_lines(spec.back_translations)
    if len(lines) != count:
        raise InputError(f"{len(lines)} back-translations but the input has {count} sentences", spec.back_translations)
    return lines


def details_records(
    pairs: Sequence[SentencePair],
    confidences: Sequence[float],
    kept: Sequence[bool],
    method: str,
    project_options: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The ``--details`` records (:mod:`xlner.project.explain`) of projected pairs, with ``kept``.

    Alignment-based methods re-project the pairs (same result) to get each
    span's score parts and the unprojected entities; markers and model
    transfer give their spans without scores.
    """
    from xlner.project.explain import plain_record, project_explained

    if method in MARKER_METHODS:
        records = [plain_record(p, c, method) for p, c in zip(pairs, confidences)]
    else:
        records = project_explained(pairs, method, **project_options)[1]
    for record, keep in zip(records, kept):
        record["kept"] = bool(keep)
    return records


# ---------------------------------------------------------------- the spec of a run

#: Fields each kind of run does not use (rejected by :meth:`PipelineSpec.of`, left out of job hashes).
UNUSED_FIELDS = {"test": ("min_confidence",), "train": ("tagger", "tagger_options")}
#: Fields that change where or whether steps are cached, never what they compute (left out of job hashes).
RUN_ONLY_FIELDS = ("cache_dir", "use_cache")


@dataclass
class PipelineSpec:
    """The choices of a pipeline run: the one list of its parameters, shared by :func:`translate_test`,
    :func:`translate_train`, :func:`xlner.engines.jobs.run_job` and the CLI (see ``SPEC_FLAGS`` in
    :mod:`xlner.cli.pipelines`).

    Components are registry names with their options (or :class:`Component`
    objects). MT input is always Moses-detokenized; ``tokenizer`` (``moses``,
    ``regex`` or ``whitespace`` for already tokenized translations) splits
    the translations into words. ``back_translations``: a file of
    back-translations (one per line) for ``backtranslation`` instead of
    running the translator. ``tagger`` is used by translate-test only,
    ``min_confidence`` by translate-train only.
    ``cache_dir``/``use_cache``/``batch_size``: see :mod:`xlner.cache`.
    """

    lang: str
    translator: Component | str = "hf"
    translator_options: Mapping[str, Any] | None = None
    tagger: Component | str = "spacy"
    tagger_options: Mapping[str, Any] | None = None
    aligner: Component | str = "eflomal"
    aligner_options: Mapping[str, Any] | None = None
    method: str = "ilp"
    method_options: Mapping[str, Any] | None = None
    pivot: str = "en"
    backtranslation: bool = False
    back_translations: str | Path | None = None
    tokenizer: str = "moses"
    min_confidence: float = 0.0
    cache_dir: str | Path | None = None
    use_cache: bool = True
    batch_size: int = DEFAULT_BATCH_SIZE

    @classmethod
    def of(
        cls, spec: PipelineSpec | None, options: Mapping[str, Any], caller: str, exclude: Sequence[str] = ()
    ) -> PipelineSpec:
        """``spec`` with ``options`` replacing its fields, or a new spec of ``options``.

        Raises TypeError, naming ``caller``, for a keyword that is no field (or is in ``exclude``).
        """
        unknown = sorted(set(options) - ({f.name for f in fields(cls)} - set(exclude)))
        if unknown:
            raise TypeError(f"{caller}() got unexpected keyword argument(s): {', '.join(map(repr, unknown))}")
        if spec is not None:
            return replace(spec, **options)
        if "lang" not in options:
            raise TypeError(f"{caller}() missing required keyword argument: 'lang'")
        return cls(**options)

    def setup(self) -> Setup:
        """The run's cache context, components and projection options (nothing is loaded yet)."""
        if not 0.0 <= self.min_confidence <= 1.0:
            raise XlnerError(f"min_confidence must be in [0, 1], got {self.min_confidence}")
        return Setup(
            spec=self,
            ctx=Context(self.cache_dir, self.use_cache, self.batch_size),
            translator=as_component("translators", self.translator, self.translator_options),
            tagger=as_component("taggers", self.tagger, self.tagger_options),
            aligner=as_component(
                "aligners", self.aligner, with_parallel_languages(self.aligner_options, self.pivot, self.lang)
            ),
            method_options=dict(self.method_options or {}),
        )

    def describe(self, kind: str) -> dict[str, Any]:
        """Every field that changes translate-``kind``'s output, as JSON (components with their options; files by
        size and modification time): what a job's shard hash covers."""
        run = self.setup()
        components = {"translator": run.translator, "tagger": run.tagger, "aligner": run.aligner}
        skipped = set(UNUSED_FIELDS[kind]) | set(RUN_ONLY_FIELDS) | {f"{name}_options" for name in components}
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in skipped:
                continue
            if f.name in components:
                component = components[f.name]
                options = component.options if component.key_options is None else component.key_options
                out[f.name] = {"name": component.name, "options": describe_options(dict(options))}
            else:
                out[f.name] = describe_options(getattr(self, f.name))
        return out


@dataclass
class Setup:
    """What :meth:`PipelineSpec.setup` resolves; ``method_options`` as given (markers methods, cache keys)."""

    spec: PipelineSpec
    ctx: Context
    translator: Component
    tagger: Component
    aligner: Component
    method_options: dict[str, Any]

    def projection(self) -> Any:
        """The alignment-based projection options resolved (:class:`xlner.project.Resolved`), with the pipeline's
        languages where a scorer needs them."""
        from xlner.project import resolve

        return resolve(self.spec.method, self.method_options, self.spec.pivot, self.spec.lang)

    @property
    def project_options(self) -> dict[str, Any]:
        """Options for alignment-based projection: ``method_options`` plus the pipeline's languages where a scorer needs them."""
        return self.projection().given


# ---------------------------------------------------------------- the two pipelines, in memory


def translate_test(
    sentences: Sequence[Sentence],
    spec: PipelineSpec | None = None,
    *,
    gold: Sequence[Sentence] | None = None,
    label_map: Mapping[str, str] | None = None,
    **options: Any,
) -> PipelineResult:
    """Label ``sentences`` (language ``lang``) by translating them into ``pivot``, tagging and projecting back.

    The run is ``spec`` with ``options`` (fields of :class:`PipelineSpec`,
    e.g. ``lang="hau", translator="hf"``) replacing its fields. ``gold``: the
    same sentences with gold spans, to score the output (``label_map``
    applies to both sides, e.g. ``{"DATE": "O"}``).
    """
    spec = PipelineSpec.of(spec, options, "translate_test", exclude=UNUSED_FIELDS["test"])
    batch = run_batch("test", sentences, spec)
    out = [Sentence(list(p.tgt_tokens), list(p.tgt_spans or []), p.id) for p in batch.pairs]
    report = evaluate(out, gold, label_map) if gold is not None else None
    return PipelineResult(out, batch.pairs, batch.confidences, list(range(len(out))), report)


def translate_train(sentences: Sequence[Sentence], spec: PipelineSpec | None = None, **options: Any) -> PipelineResult:
    """Silver ``lang`` training data: translate labelled ``pivot`` sentences, align, project.

    The run is ``spec`` with ``options`` replacing its fields, as for
    :func:`translate_test`. Pairs whose projection confidence is below
    ``min_confidence`` (and empty translations) are left out of
    ``result.sentences``; ``result.kept`` lists the kept indices.
    """
    spec = PipelineSpec.of(spec, options, "translate_train", exclude=UNUSED_FIELDS["train"])
    batch = run_batch("train", sentences, spec)
    kept = [k for k, (_, _, keep) in enumerate(batch.outputs(spec.min_confidence)) if keep]
    out = [Sentence(batch.pairs[k].tgt_tokens, list(batch.pairs[k].tgt_spans or []), batch.pairs[k].id) for k in kept]
    return PipelineResult(out, batch.pairs, batch.confidences, kept)


def explain_result(result: PipelineResult, spec: PipelineSpec) -> list[dict[str, Any]]:
    """The ``--details`` records of an in-memory run, one per pair (see :func:`details_records`)."""
    kept = set(result.kept)
    flags = [k in kept for k in range(len(result.pairs))]
    options = {} if spec.method in MARKER_METHODS else spec.setup().project_options
    return details_records(result.pairs, result.confidences, flags, spec.method, options)


def with_parallel_languages(options: Mapping[str, Any] | None, src_lang: str, tgt_lang: str) -> dict[str, Any]:
    """Extra parallel text is found by language suffix: pass the pipeline's languages unless given."""
    options = dict(options or {})
    if options.get("extra_parallel"):
        options.setdefault("src_lang", src_lang)
        options.setdefault("tgt_lang", tgt_lang)
    return options


def evaluate(pred: Sequence[Sentence], gold: Sequence[Sentence], label_map: Mapping[str, str] | None = None) -> Any:
    """Span scores of ``pred`` against ``gold`` (same sentences, same tokens)."""
    from xlner.metrics import evaluate_spans

    if len(pred) != len(gold):
        raise XlnerError(f"the gold file has {len(gold)} sentences but the input has {len(pred)}")
    for k, (p, g) in enumerate(zip(pred, gold)):
        if list(p.tokens) != list(g.tokens):
            raise XlnerError(f"sentence {k}: gold tokens differ from the input tokens ({' '.join(g.tokens[:8])} ...)")
    return evaluate_spans([g.spans for g in gold], [p.spans for p in pred], label_map)
