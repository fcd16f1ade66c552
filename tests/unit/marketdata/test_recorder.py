"""Raw recorder: exact lines, hourly rotation by local receive time, append across restarts."""

from __future__ import annotations

from pathlib import Path

from flashmm_engine.marketdata.capture import iter_lines, split_line
from flashmm_engine.marketdata.recorder import RawRecorder

HOUR_NS = 3600 * 1_000_000_000
T0 = 1723161254024619568  # 2024-08-08T23:54:14Z


def test_rotates_hourly_and_keeps_every_line(tmp_path: Path) -> None:
    recorder = RawRecorder(tmp_path, "binance-spot")
    messages = [(T0 + i * 60 * 1_000_000_000, f'{{"i":{i}}}'.encode()) for i in range(10)]  # 23:54 .. 00:03
    for ts, raw in messages:
        recorder.write(ts, raw)
    recorder.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["binance-spot-20240808T23.raw.gz", "binance-spot-20240809T00.raw.gz"]
    read_back = [split_line(line) for name in names for line in iter_lines(tmp_path / name)]
    assert read_back == messages
    assert recorder.lines == 10


def test_restart_in_same_hour_appends(tmp_path: Path) -> None:
    for run in range(2):
        recorder = RawRecorder(tmp_path, "feed")
        recorder.write(T0 + run, b'{"run":%d}' % run)
        recorder.write(T0 + run, "text with\nnewline")  # one message must stay one line
        recorder.close()
    (segment,) = tmp_path.iterdir()
    lines = list(iter_lines(segment))
    assert lines == [
        b'%d {"run":0}' % T0,
        b"%d text with newline" % T0,
        b'%d {"run":1}' % (T0 + 1),
        b"%d text with newline" % (T0 + 1),
    ]
