"""Fuzzing model manifests: whatever manifest.json holds, loading the model either succeeds or is refused
with a ModelRefused naming the problem; nothing else escapes to crash the engine or the registry."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.artifact import MANIFEST_FILE, sha256_file
from flashmm_engine.models.loader import MODEL_FILE, ModelRefused, load_model
from tests.fuzz.strategies import FUZZ, JSON, objects

MODEL_DIR = Path(tempfile.mkdtemp(prefix="flashmm-fuzz-model-"))
(MODEL_DIR / MODEL_FILE).write_bytes(b"not a TorchScript archive")
SHA = sha256_file(MODEL_DIR / MODEL_FILE)
SPEC = FeatureSpec()
SPEC_JSON = SPEC.to_json_dict()
SPEC_HASH = SPEC.spec_hash()
FEATURE_SPEC = st.one_of(
    st.just(SPEC_JSON),
    objects(list(SPEC_JSON)),
    st.builds(lambda extra: {**SPEC_JSON, **extra}, objects(list(SPEC_JSON))),
    JSON,
)
FIELDS = {
    "version": st.one_of(st.just("v1"), JSON),
    "sha256": st.one_of(st.just(SHA), JSON),
    "spec_hash": st.one_of(st.just(SPEC_HASH), JSON),
    "feature_spec": FEATURE_SPEC,
    "input_shape": st.one_of(st.just([8]), st.lists(JSON, max_size=3), JSON),
    "horizons": st.one_of(st.just(["1s"]), JSON),
}
MANIFEST = st.one_of(
    st.fixed_dictionaries({}, optional=FIELDS),
    st.fixed_dictionaries(FIELDS),
    JSON,
)


@FUZZ
@given(manifest=MANIFEST)
def test_any_manifest_loads_or_is_refused_with_a_reason(manifest: Any) -> None:
    (MODEL_DIR / MANIFEST_FILE).write_text(json.dumps(manifest))
    try:
        load_model(MODEL_DIR)
    except ModelRefused as exc:
        assert str(exc)
        return
    raise AssertionError("a file that is not TorchScript was loaded")
