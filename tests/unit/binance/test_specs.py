"""Instrument specs: inferred steps, exchangeInfo files and the live exchangeInfo fetch (loopback server)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.recorder import RawRecorder
from flashmm_engine.marketdata.spec import decimal_step, read_spec, sidecar_path
from flashmm_engine.venues.base import VenueError
from flashmm_engine.venues.binance.specs import fetch_exchange_info, read_exchange_info
from flashmm_engine.venues.captures import open_capture
from tests.unit.binance.test_any_symbol import path_of, run_cli
from tests.unit.binance.test_capture_errors import exchange_info


def test_decimal_step_is_the_largest_power_of_ten_dividing_every_value() -> None:
    assert decimal_step(["2683.80000000", "2683.81000000", "0.00000000"]) == Decimal("0.01")
    assert decimal_step(["0.00002", "0.00004"]) == Decimal("0.00001")  # a common 2 is no step
    assert decimal_step(["10229", "120", "3"]) == Decimal("1")
    assert decimal_step(["100", "300"]) == Decimal("100")
    assert decimal_step(["0", "0.000"]) is None
    with pytest.raises(ValueError):
        decimal_step(["-1.5"])


def test_coinm_spec_from_an_exchange_info_file(
    fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    info = tmp_path / "dapi_exchange_info.json"
    document = exchange_info("BTCUSD_PERP", "0.1", "1", base="BTC", quote="USD", margin="BTC", contract=100)
    info.write_bytes(orjson.dumps(document))
    path = str(path_of(fixtures_dir, "coinm_btcusd_perp_slice"))
    code, out, err = run_cli(
        ["replay", "verify-book", path, "--exchange-info", str(info)], monkeypatch, capsys
    )
    assert code == 0, err
    report = orjson.loads(out)
    spec = report["spec"]
    assert (spec["source"], spec["origin"], spec["contract_size"], spec["margin"]) == (
        "exchange_info", str(info), "100", "BTC",
    )  # fmt: skip
    assert (spec["tick_size"], spec["lot_size"], spec["base"], spec["quote"]) == ("0.1", "1", "BTC", "USD")
    assert report["match_rate"] == 1.0


def test_spot_sizes_keep_the_base_asset_precision(fixtures_dir: Path, tmp_path: Path) -> None:
    info = tmp_path / "info.json"
    document = exchange_info("ETHUSDT", "0.01", "0.0001", base="ETH", quote="USDT", baseAssetPrecision=8)
    info.write_bytes(orjson.dumps(document))
    _, opened = open_capture(path_of(fixtures_dir, "spot_ethusdt_slice"), exchange_info=info)
    assert (opened.spec.lot_size, opened.spec.order_lot_size) == (Decimal("0.00000001"), Decimal("0.0001"))


def test_exchange_info_errors_name_the_problem(tmp_path: Path) -> None:
    info = tmp_path / "info.json"
    info.write_bytes(orjson.dumps(exchange_info("ETHUSDT", "0.01", "0.001")))
    with pytest.raises(InputError, match=r"exchangeInfo has no symbol BTCUSDT \(2 listed: OTHER, ETHUSDT\)"):
        read_exchange_info(info, "usdm", "BTCUSDT")
    with pytest.raises(InputError, match="ETHUSDT has no contractSize; expected a /dapi/v1/exchangeInfo"):
        read_exchange_info(info, "coinm", "ETHUSDT")
    with pytest.raises(InputError, match=r"lacks a usable field \(KeyError: 'baseAsset'"):
        read_exchange_info(info, "usdm", "ETHUSDT")
    info.write_bytes(b"<html>")
    with pytest.raises(InputError, match="not JSON"):
        read_exchange_info(info, "usdm", "ETHUSDT")


def test_live_exchange_info_fetch_on_loopback() -> None:
    async def scenario() -> None:
        seen: list[str] = []

        async def handler(request: web.Request) -> web.Response:
            seen.append(request.path_qs)
            if request.path == "/dapi/v1/exchangeInfo":
                doc = exchange_info(
                    "ETHUSD_PERP", "0.01", "1", base="ETH", quote="USD", margin="ETH", contract=10
                )
                return web.json_response(doc)
            return web.json_response({"code": -1000, "msg": "boom"}, status=500)

        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with aiohttp.ClientSession() as session:
                base = f"http://127.0.0.1:{port}"
                spec = await fetch_exchange_info(session, base, "coinm", "ethusd_perp")
                assert (spec.symbol, spec.contract_size, spec.margin) == ("ETHUSD_PERP", Decimal(10), "ETH")
                assert spec.origin == f"{base}/dapi/v1/exchangeInfo" and spec.source == "exchange_info"
                with pytest.raises(VenueError, match="exchangeInfo HTTP 500"):
                    await fetch_exchange_info(session, base, "spot", "ETHUSDT")
        finally:
            await runner.cleanup()
        assert seen == ["/dapi/v1/exchangeInfo", "/api/v3/exchangeInfo?symbol=ETHUSDT"]

    asyncio.run(scenario())


def test_recorder_writes_the_spec_beside_every_segment(fixtures_dir: Path, tmp_path: Path) -> None:
    _, info = open_capture(path_of(fixtures_dir, "coinm_ethusd_perp_slice"))
    recorder = RawRecorder(tmp_path, "binance-coinm-ethusd_perp", info.spec)
    hour_ns = 3600 * 10**9
    for ts in (5 * hour_ns, 5 * hour_ns + 1, 6 * hour_ns):
        recorder.write(ts, b"{}")
    recorder.close()
    assert len(recorder.segments) == 2
    for segment in recorder.segments:
        assert read_spec(sidecar_path(segment)) == info.spec


def test_a_recorded_segment_is_read_with_the_spec_beside_it(
    fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`replay watch --record` on a COIN-M capture; reading the segment back takes its sidecar spec."""
    source = path_of(fixtures_dir, "coinm_ethusd_perp_slice")
    info = tmp_path / "info.json"
    fields = {"base": "ETH", "quote": "USD", "margin": "ETH", "contract": 10}
    info.write_bytes(orjson.dumps(exchange_info("ETHUSD_PERP", "0.01", "1", **fields)))
    record = tmp_path / "raw"
    args = [
        "replay",
        "watch",
        str(source),
        "--speed",
        "0",
        "--exchange-info",
        str(info),
        "--record",
        str(record),
    ]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    watched = orjson.loads(out)
    assert (watched["market"], watched["symbol"], watched["book_ticker_mismatched"]) == (
        "coinm",
        "ETHUSD_PERP",
        0,
    )
    [segment] = record.glob("*.raw.gz")
    assert segment.name.startswith("binance-coinm-ethusd_perp-")
    code, out, err = run_cli(["replay", "verify-book", str(segment)], monkeypatch, capsys)
    assert code == 0, err
    report = orjson.loads(out)
    assert report["spec"] == watched["spec"] and report["spec"]["contract_size"] == "10"
    assert report["spec"]["origin"] == str(info) and report["match_rate"] == 1.0
    sidecar_path(segment).write_bytes(
        sidecar_path(segment).read_bytes().replace(b"ETHUSD_PERP", b"BTCUSD_PERP")
    )
    code, out, err = run_cli(["replay", "verify-book", str(segment)], monkeypatch, capsys)
    assert code == 2 and "spec of coinm BTCUSD_PERP; the capture holds coinm ETHUSD_PERP" in err
