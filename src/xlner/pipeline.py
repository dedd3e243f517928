"""Translate-test and translate-train pipelines, built from steps over batches of records.

translate-test (label target-language text with an English tagger)::

    target sentences -> detokenize -> translate into English -> tokenize -> tag English
    -> align English <-> target -> project English spans onto the target -> labelled target

translate-train (make silver training data in the target language)::

    English labelled sentences -> detokenize -> translate -> tokenize -> align
    -> project -> silver target sentences + per-sentence confidence (``min_confidence`` filter)

Components are chosen by registry name with options (:class:`Component`).
Every step that runs a model (translate, tag, align, project) is cached on
disk (:mod:`xlner.cache`), batch by batch, so a re-run does no work twice and
an interrupted run resumes. ``backtranslation=True`` translates each
translation back into the language it came from and aligns with the
``backtranslation`` aligner wrapped around the chosen one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from xlner.cache import StepCache, cached_map, fingerprint
from xlner.errors import InputError, XlnerError
from xlner.project.fusion import with_languages
from xlner.registry import registry
from xlner.translate.detok import detokenize, tokenize
from xlner.types import Alignment, Sentence, SentencePair, Span

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
        """The component, created once."""
        if self._instance is None:
            try:
                self._instance = self.registry.create(self.name, **self.options)
            except TypeError as error:
                if "argument" not in str(error):  # a bug, not an option the factory does not take
                    raise
                raise XlnerError(
                    f"{self.registry.kind} {self.name!r}: bad options {sorted(self.options)}: {error}"
                ) from None
        return self._instance

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

    def cache(self, step: str, component: Component, **extra: Any) -> StepCache | None:
        if not self.use_cache:
            return None
        options = component.options if component.key_options is None else component.key_options
        return StepCache.open(self.cache_dir, step, component.name, {**options, **extra})


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


# ---------------------------------------------------------------- steps


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


def _spans_to_json(spans: Sequence[Span]) -> list[list[Any]]:
    return [[s.start, s.end, s.label] for s in spans]


def _spans_from_json(value: Any) -> list[Span]:
    return [Span(int(a), int(b), str(label)) for a, b, label in value]


def step_tag(token_lists: Sequence[Sequence[str]], tagger: Component, ctx: Context) -> list[list[Span]]:
    """Tag tokenized sentences (cached per batch)."""
    cache = ctx.cache("tag", tagger)
    return cached_map(
        lambda batch: tagger.get().tag(batch),
        [list(t) for t in token_lists],
        cache=cache,
        batch_size=ctx.batch_size,
        to_json=_spans_to_json,
        from_json=_spans_from_json,
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


def step_project(pairs: Sequence[SentencePair], method: str, options: Mapping[str, Any], ctx: Context) -> list[Any]:
    """Project source spans onto targets (cached per batch); returns :class:`ProjectionResult` objects."""
    from xlner.project import ProjectionResult, project_detailed

    def run(batch: list[dict[str, Any]]) -> list[Any]:
        records = [
            SentencePair(r["src"], r["tgt"], _spans_from_json(r["spans"]), frozenset(map(tuple, r["alignment"])))
            for r in batch
        ]
        return project_detailed(records, method, **options)

    def to_json(result: Any) -> dict[str, Any]:
        return {
            "spans": _spans_to_json(result.spans),
            "scores": [float(s) for s in result.scores],
            "sources": [int(s) for s in result.sources],
            "confidence": float(result.confidence),
            "status": result.status,
        }

    def from_json(value: dict[str, Any]) -> Any:
        return ProjectionResult(
            _spans_from_json(value["spans"]), value["scores"], value["sources"], value["confidence"], value["status"]
        )

    encoded = [
        {
            "src": p.src_tokens,
            "tgt": p.tgt_tokens,
            "spans": _spans_to_json(p.src_spans),
            "alignment": sorted([i, j] for i, j in p.alignment or ()),
        }
        for p in pairs
    ]
    cache = ctx.cache("project", Component("solvers", method, dict(options)))
    return cached_map(
        run,
        encoded,
        cache=cache,
        batch_size=ctx.batch_size,
        to_json=to_json,
        from_json=from_json,
        desc=f"project ({method})",
    )


# ---------------------------------------------------------------- pipelines


def align_pairs(
    pairs: list[SentencePair],
    aligner: Component,
    backtranslation: bool,
    back_texts: Callable[[], list[str]],
    back_lang: str,
    back_of: str,
    tokenizer: str,
    ctx: Context,
) -> None:
    """Align the pairs in place; with back-translation, ``back_of`` names the side that was translated back."""
    token_pairs = [(p.src_tokens, p.tgt_tokens) for p in pairs]
    if backtranslation:
        back_tokens = [tokenize(text, back_lang, tokenizer) for text in back_texts()]
        inner = {"base": aligner.name, "base_options": aligner.options, "of": back_of}
        aligner = Component(
            "aligners",
            "backtranslation",
            {**inner, "back_translations": back_tokens},
            key_options={**inner, "back_translations": fingerprint(back_tokens)},
        )
    for pair, alignment in zip(pairs, step_align(token_pairs, aligner, ctx)):
        pair.alignment = alignment


def _back_texts(
    path: str | Path | None,
    translator: Component,
    texts: Callable[[], list[str]],
    ids: list[str | None],
    src_lang: str,
    tgt_lang: str,
    ctx: Context,
) -> Callable[[], list[str]]:
    """How to get the back-translations: read from ``path`` (one per line), or translate (not with a file translator)."""

    def run() -> list[str]:
        if path is not None:
            from xlner.io import read_lines

            lines = read_lines(path)
            if len(lines) != len(ids):
                raise InputError(f"{len(lines)} back-translations but the input has {len(ids)} sentences", path)
            return lines
        if translator.precomputed:
            raise XlnerError(
                "back-translation with precomputed translations needs the back-translations too: --back-translations FILE"
            )
        return step_translate(texts(), ids, translator, src_lang, tgt_lang, ctx)

    return run


def _project_into(
    pairs: list[SentencePair], method: str, method_options: Mapping[str, Any] | None, ctx: Context
) -> list[float]:
    results = step_project(pairs, method, dict(method_options or {}), ctx)
    for pair, result in zip(pairs, results):
        pair.tgt_spans = list(result.spans)
    return [float(r.confidence) for r in results]


@dataclass
class PipelineSpec:
    """The choices of a pipeline run, shared by :func:`translate_test`, :func:`translate_train` and
    :func:`xlner.engines.jobs.run_job`.

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


@dataclass
class Setup:
    """What :meth:`PipelineSpec.setup` resolves; ``method_options`` as given (markers methods, cache keys)."""

    spec: PipelineSpec
    ctx: Context
    translator: Component
    tagger: Component
    aligner: Component
    method_options: dict[str, Any]

    @property
    def project_options(self) -> dict[str, Any]:
        """Options for alignment-based projection: ``method_options`` plus the pipeline's languages where a scorer needs them."""
        return with_languages(self.spec.method, self.method_options, self.spec.pivot, self.spec.lang)


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
    spec = PipelineSpec.of(spec, options, "translate_test", exclude=("min_confidence",))
    run = spec.setup()
    lang, pivot, ctx, mt = spec.lang, spec.pivot, run.ctx, run.translator
    sentences = list(sentences)
    ids = [s.id for s in sentences]
    if spec.method in ("markers", "model-transfer"):  # no alignment: xlner.project.markers
        from xlner.marker_steps import model_transfer, translate_test_markers
        from xlner.project.markers import log_report

        if spec.method == "markers":
            out, pairs, confidences, marker_report = translate_test_markers(
                sentences,
                lang=lang,
                pivot=pivot,
                translator=mt,
                tagger=run.tagger,
                ctx=ctx,
                tokenizer=spec.tokenizer,
                options=run.method_options,
            )
            log_report(marker_report)
        else:
            out, pairs, confidences = model_transfer(sentences, tagger=run.tagger, ctx=ctx)
        return PipelineResult(
            out, pairs, confidences, list(range(len(out))), evaluate(out, gold, label_map) if gold is not None else None
        )
    texts = [detokenize(s.tokens, lang) for s in sentences]
    english = [tokenize(t, pivot, spec.tokenizer) for t in step_translate(texts, ids, mt, lang, pivot, ctx)]
    spans = step_tag(english, run.tagger, ctx)
    pairs = [SentencePair(e, list(s.tokens), sp, id=s.id) for e, s, sp in zip(english, sentences, spans)]
    back = _back_texts(
        spec.back_translations, mt, lambda: [detokenize(e, pivot) for e in english], ids, pivot, lang, ctx
    )
    align_pairs(pairs, run.aligner, spec.backtranslation, back, lang, "src", spec.tokenizer, ctx)
    confidences = _project_into(pairs, spec.method, run.project_options, ctx)
    out = [Sentence(list(s.tokens), list(p.tgt_spans or []), s.id) for s, p in zip(sentences, pairs)]
    report = None
    if gold is not None:
        report = evaluate(out, gold, label_map)
    return PipelineResult(out, pairs, confidences, list(range(len(out))), report)


def translate_train(sentences: Sequence[Sentence], spec: PipelineSpec | None = None, **options: Any) -> PipelineResult:
    """Silver ``lang`` training data: translate labelled ``pivot`` sentences, align, project.

    The run is ``spec`` with ``options`` replacing its fields, as for
    :func:`translate_test`. Pairs whose projection confidence is below
    ``min_confidence`` (and empty translations) are left out of
    ``result.sentences``; ``result.kept`` lists the kept indices.
    """
    spec = PipelineSpec.of(spec, options, "translate_train", exclude=("tagger", "tagger_options"))
    run = spec.setup()
    lang, pivot, ctx, mt = spec.lang, spec.pivot, run.ctx, run.translator
    sentences = list(sentences)
    ids = [s.id for s in sentences]
    if spec.method == "markers":  # translate with markers, no alignment: xlner.project.markers
        from xlner.marker_steps import translate_train_markers
        from xlner.project.markers import log_report

        pairs, confidences, marker_report = translate_train_markers(
            sentences,
            lang=lang,
            pivot=pivot,
            translator=mt,
            ctx=ctx,
            tokenizer=spec.tokenizer,
            options=run.method_options,
        )
        log_report(marker_report)
    else:
        texts = [detokenize(s.tokens, pivot) for s in sentences]
        target = [tokenize(t, lang, spec.tokenizer) for t in step_translate(texts, ids, mt, pivot, lang, ctx)]
        pairs = [SentencePair(list(s.tokens), t, list(s.spans), id=s.id) for s, t in zip(sentences, target)]
        back = _back_texts(
            spec.back_translations, mt, lambda: [detokenize(t, lang) for t in target], ids, lang, pivot, ctx
        )
        align_pairs(pairs, run.aligner, spec.backtranslation, back, pivot, "tgt", spec.tokenizer, ctx)
        confidences = _project_into(pairs, spec.method, run.project_options, ctx)
    kept = [k for k, c in enumerate(confidences) if c >= spec.min_confidence and pairs[k].tgt_tokens]
    out = [Sentence(pairs[k].tgt_tokens, list(pairs[k].tgt_spans or []), pairs[k].id) for k in kept]
    return PipelineResult(out, pairs, confidences, kept)


def explain_result(result: PipelineResult, spec: PipelineSpec) -> list[dict[str, Any]]:
    """The ``--details`` records of a run (:mod:`xlner.project.explain`), one per pair, with ``kept``.

    Alignment-based methods re-project the pairs (uncached, same result) to
    get each span's score parts and the unprojected entities; markers and
    model transfer give their spans without scores.
    """
    from xlner.project.explain import plain_record, project_explained

    kept = set(result.kept)
    if spec.method in ("markers", "model-transfer"):
        return [
            plain_record(p, c, spec.method, k in kept) for k, (p, c) in enumerate(zip(result.pairs, result.confidences))
        ]
    _, records = project_explained(result.pairs, spec.method, **spec.setup().project_options)
    for k, record in enumerate(records):
        record["kept"] = k in kept
    return records


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
