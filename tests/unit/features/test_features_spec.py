from flashmm_engine.features.spec import FeatureSpec, mirror_map


def test_spec_names_at_least_40_unique_features() -> None:
    names = FeatureSpec().names()
    assert len(names) >= 40
    assert len(set(names)) == len(names)


def test_spec_hash_is_stable_and_sensitive_to_every_parameter() -> None:
    assert FeatureSpec().spec_hash() == FeatureSpec().spec_hash()
    assert FeatureSpec(tick_ms=100).spec_hash() != FeatureSpec().spec_hash()
    assert FeatureSpec(depths=(3, 5)).spec_hash() != FeatureSpec().spec_hash()
    assert FeatureSpec(reference_market="binance-usdm:ETHUSDT").spec_hash() != FeatureSpec().spec_hash()


def test_spec_round_trips_through_its_json_form() -> None:
    spec = FeatureSpec(reference_market="binance-usdm:ETHUSDT", flow_windows_ms=(500, 2_000))
    again = FeatureSpec.from_json_dict(spec.to_json_dict())
    assert again == spec
    assert again.spec_hash() == spec.spec_hash()


def test_reference_market_adds_cross_venue_features() -> None:
    names = FeatureSpec(reference_market="binance-usdm:ETHUSDT").names()
    assert "ref_basis_bps" in names
    assert len(names) == len(FeatureSpec().names()) + 3


def test_mirror_map_is_an_involution_that_flips_direction_and_swaps_sides() -> None:
    names = FeatureSpec().names()
    source, signs = mirror_map(names)
    assert [source[s] for s in source] == list(range(len(names)))
    assert signs[names.index("imb_1")] == -1.0
    assert signs[names.index("spread_ticks")] == 1.0
    assert source[names.index("log_depth_bid")] == names.index("log_depth_ask")
