"""Model-based scorers of candidate matching, registered in ``registry.scorers``.

- ``ner`` (:mod:`.ner`): a target-language NER model's probability that the candidate is one entity of the label;
  also the NER-predicted spans as candidates.
- ``nmt`` (:mod:`.nmt`): translation likelihood of entity and candidate under a seq2seq MT model.
- ``encoder`` (:mod:`.encoder`): cosine of mean contextual word vectors.

Importing the package registers the three (the registry does so on first use); models (and
torch) load only when a scorer is built. Which option names each scorer's model:
:data:`xlner.project.config.MODEL_OPTIONS`.
The offline scorers (``alignment``, ``string``) are in :mod:`xlner.project.scores`.
"""

from __future__ import annotations

from xlner.project.scorers import encoder, ner, nmt

__all__ = ["encoder", "ner", "nmt"]
