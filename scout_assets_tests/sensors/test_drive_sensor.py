"""Drive sensor ticks: run requests, content-derived run keys and the cursor across ticks."""

import json
import os
import shutil
from datetime import datetime, timedelta

import dagster as dg

from scout_assets.environment import Settings
from scout_assets.resources.drive import DriveFile, DriveSource
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.sensors import build_sensors, sensor_default_status
from scout_assets.sensors import drive as drive_sensor_module
from scout_assets.sensors.drive import DriveCursor, build_drive_sensor, evaluate_drive
from scout_assets_tests.builders import device_payload, item, write_json

NOW = datetime(2025, 4, 1, 12, 0, 0)  # naive UTC, like DriveFile.modified_at


def drop(drive_dir, name: str, tx: str, modified: datetime, when: str = "2025-03-10T09:30:00"):
    """A one-transaction device file, modified at ``modified`` (UTC)."""
    path = write_json(
        drive_dir / "transactions/scoutpi-0004" / name,
        device_payload(
            tx, [item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard")], timestamp=when
        ),
    )
    stamp = (modified - datetime(1970, 1, 1)).total_seconds()
    os.utime(path, (stamp, stamp))
    return path


def tick(drive, cursor: DriveCursor | None = None, now: datetime = NOW):
    return evaluate_drive(drive, cursor or DriveCursor(), now)


def keys(result) -> list[str]:
    return [r.run_key for r in result.run_requests]


def test_the_first_tick_asks_for_one_run_for_what_is_in_the_drive(drive, drive_dir):
    drop(drive_dir, "a.json", "A-1", NOW - timedelta(minutes=5))
    drop(drive_dir, "b.json", "B-1", NOW - timedelta(minutes=4))

    first = tick(drive)

    (request,) = first.run_requests
    assert request.job_name == "ingest_drive" and request.run_key.startswith("drive-")
    assert request.tags["scout/trigger"] == "drive_sensor"
    assert first.cursor.frontier == (NOW, "")
    assert len(first.cursor.dumps()) < 400  # a cursor of fingerprints, not of file names

    second = tick(drive, DriveCursor.loads(first.cursor.dumps()), NOW + timedelta(seconds=30))
    assert second.run_requests == [] and second.summary == "no new or changed files"


def test_new_files_move_the_frontier_and_get_their_own_key(drive, drive_dir):
    drop(drive_dir, "a.json", "A-1", NOW - timedelta(minutes=5))
    first = tick(drive)
    drop(drive_dir, "c.json", "C-1", NOW + timedelta(seconds=10))

    later = NOW + timedelta(seconds=30)
    second = tick(drive, first.cursor, later)

    assert len(second.run_requests) == 1 and keys(second) != keys(first)
    assert second.cursor.frontier == (
        NOW + timedelta(seconds=10),
        "transactions/scoutpi-0004/c.json",
    )
    assert tick(drive, second.cursor, later + timedelta(seconds=30)).run_requests == []


def test_a_replayed_tick_asks_for_the_same_run(drive, drive_dir):
    drop(drive_dir, "a.json", "A-1", NOW - timedelta(minutes=5))
    first = tick(drive)
    drop(drive_dir, "c.json", "C-1", NOW + timedelta(seconds=10))
    saved = first.cursor.dumps()

    once = tick(drive, DriveCursor.loads(saved), NOW + timedelta(seconds=30))
    again = tick(drive, DriveCursor.loads(saved), NOW + timedelta(seconds=30))

    assert keys(once) == keys(again)  # Dagster launches one run per key: nothing twice
    assert once.cursor.dumps() == again.cursor.dumps()


def test_a_new_version_of_a_file_is_a_new_run(drive, drive_dir):
    path = drop(drive_dir, "a.json", "A-1", NOW - timedelta(minutes=5))
    first = tick(drive)
    original = path.read_bytes()
    drop(drive_dir, "a.json", "A-2", NOW + timedelta(minutes=1))  # same name, new content

    second = tick(drive, first.cursor, NOW + timedelta(minutes=2))

    assert path.read_bytes() != original
    assert len(second.run_requests) == 1 and keys(second) != keys(first)


def test_an_overwrite_that_keeps_its_old_time_is_caught_by_the_sweep(drive, drive_dir):
    old = NOW - timedelta(days=30)
    drop(drive_dir, "a.json", "A-1", old)
    first = tick(drive)
    drop(drive_dir, "a.json", "A-22", old)  # cp -p: new bytes, old modified time

    second = tick(drive, first.cursor, NOW + timedelta(seconds=30))

    (request,) = second.run_requests
    assert request.tags["scout/reason"] == "drive changed outside the watched window"
    assert tick(drive, second.cursor, NOW + timedelta(seconds=60)).run_requests == []


def test_a_renamed_copy_of_known_content_asks_for_no_new_run(drive, drive_dir):
    path = drop(drive_dir, "a.json", "A-1", NOW - timedelta(minutes=5))
    first = tick(drive)
    copy = path.with_name("a (1).json")
    shutil.copy(path, copy)
    stamp = (NOW + timedelta(seconds=5) - datetime(1970, 1, 1)).total_seconds()
    os.utime(copy, (stamp, stamp))

    second = tick(drive, first.cursor, NOW + timedelta(seconds=30))

    assert keys(second) == keys(first)  # same content, same key: Dagster skips it
    assert second.cursor.frontier[1].endswith("a (1).json")


def test_a_file_far_outside_the_partition_range_does_not_wedge_the_sensor(drive, drive_dir):
    drop(drive_dir, "a.json", "A-1", NOW - timedelta(minutes=5))
    first = tick(drive)
    # A device with its clock in 2099: the payload's month and the file's time are both absurd.
    drop(drive_dir, "future.json", "F-1", datetime(2099, 1, 1), when="2099-01-01T00:00:00")
    second = tick(drive, first.cursor, NOW + timedelta(seconds=30))
    assert len(second.run_requests) == 1
    assert second.cursor.frontier[0] <= NOW + timedelta(seconds=30)  # not dragged to 2099

    drop(drive_dir, "d.json", "D-1", NOW + timedelta(minutes=1))
    third = tick(drive, second.cursor, NOW + timedelta(minutes=2))
    (request,) = third.run_requests
    assert request.tags["scout/reason"] == "new files"

    drop(drive_dir, "epoch.json", "E-1", datetime(1970, 1, 2), when="1999-12-31T23:00:00")
    fourth = tick(drive, third.cursor, NOW + timedelta(minutes=3))
    assert len(fourth.run_requests) == 1  # far behind the frontier: the sweep finds it
    assert tick(drive, fourth.cursor, NOW + timedelta(minutes=4)).run_requests == []


def test_a_big_drop_is_requested_in_chunks_across_ticks(drive, drive_dir, monkeypatch):
    monkeypatch.setattr(drive_sensor_module, "MAX_FILES_PER_TICK", 2)
    first = tick(drive)  # an empty Drive: nothing to do, the frontier starts now
    assert first.run_requests == []
    for n in range(5):
        drop(drive_dir, f"n{n}.json", f"N-{n}", NOW + timedelta(seconds=n + 1))

    cursor, requested, now = first.cursor, [], NOW + timedelta(seconds=30)
    for _ in range(4):
        result = tick(drive, cursor, now)
        files = [r.tags["scout/drive_files"] for r in result.run_requests]
        requested.append(files[0] if files else None)
        cursor, now = result.cursor, now + timedelta(seconds=30)

    assert requested == ["2", "2", "1", None]
    assert cursor.frontier[1].endswith("n4.json")


def test_a_missing_drive_folder_is_a_skipped_tick_not_an_error(tmp_path):
    sensor = build_drive_sensor(dg.DefaultSensorStatus.RUNNING)
    from scout_assets.resources.drive import LocalDrive

    context = dg.build_sensor_context(resources={
        "drive": LocalDrive(root=str(tmp_path / "no")),
        "warehouse": DuckDBWarehouse(path=str(tmp_path / "none.duckdb"))})  # fmt: skip
    result = sensor(context)

    assert isinstance(result, dg.SkipReason) and "does not exist" in result.skip_message


def test_the_sensor_wiring_run_requests_and_cursor(drive, drive_dir, instance, warehouse):
    sensor = build_drive_sensor(dg.DefaultSensorStatus.RUNNING)
    drop(drive_dir, "a.json", "A-1", datetime.utcnow() - timedelta(minutes=1))

    context = dg.build_sensor_context(
        instance=instance, resources={"drive": drive, "warehouse": warehouse}
    )
    result = sensor(context)

    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests
    assert request.job_name == "ingest_drive"
    cursor = json.loads(result.cursor)
    assert cursor["frontier"] is not None and cursor["full"] is not None

    replay = sensor(
        dg.build_sensor_context(
            instance=instance, cursor=None, resources={"drive": drive, "warehouse": warehouse}
        )
    )
    later = sensor(
        dg.build_sensor_context(
            instance=instance,
            cursor=result.cursor,
            resources={"drive": drive, "warehouse": warehouse},
        )
    )
    assert [r.run_key for r in replay.run_requests] == [request.run_key]
    assert later.run_requests == [] and later.skip_reason is not None


def test_sensors_run_by_default_in_local_mode_only(settings):
    assert sensor_default_status(settings) == dg.DefaultSensorStatus.RUNNING
    google = Settings(drive_kind="google", gdrive_folder_id="abc")
    assert sensor_default_status(google) == dg.DefaultSensorStatus.STOPPED
    assert {s.name: s.default_status for s in build_sensors(google)} == {
        "drive_sensor": dg.DefaultSensorStatus.STOPPED,
        "month_rebuild_sensor": dg.DefaultSensorStatus.STOPPED,
    }


class PagedDrive(DriveSource):
    """A Drive listed page by page (the shape of the Google adapter), in memory."""

    entries: list = []
    page_size: int = 2

    def _files(self):
        return sorted(
            (DriveFile(path=p, size=s, modified_at=m) for p, s, m in self.entries),
            key=lambda f: f.path,
        )

    def list_files(self, folders=("transactions", "interactions", "supplements")):
        return iter(self._files())

    def read_bytes(self, path: str) -> bytes:
        return path.encode()

    def describe(self) -> str:
        return "paged test drive"

    def start_position(self):
        return {"offset": 0}

    def list_page(self, position, modified_since=None):
        files = self._files()
        offset = position["offset"]
        following = offset + self.page_size
        return files[offset:following], ({"offset": following} if following < len(files) else None)

    def list_files_modified_since(self, since):
        return [f for f in self._files() if f.modified_at >= since]


def test_a_paged_drive_is_swept_across_ticks_and_old_uploads_are_found():
    old = NOW - timedelta(days=40)
    entries = [(f"transactions/{n}.json", 10, old) for n in range(5)]
    drive = PagedDrive(entries=entries)
    clock = iter(range(0, 10_000, 5)).__next__  # every page costs 5 "seconds"

    ticks, cursor, now = [], DriveCursor(), NOW
    for _ in range(4):
        result = evaluate_drive(drive, cursor, now, sweep_seconds=12, clock=clock)
        ticks.append((len(result.run_requests), result.cursor.sweep is not None))
        cursor, now = result.cursor, now + timedelta(seconds=30)
    # Pages of 2 over 5 files, two pages per tick: the sweep ends on the second tick with a
    # run for what was already there, then nothing until the next sweep is due.
    assert ticks == [(0, True), (1, False), (0, False), (0, False)]

    drive = PagedDrive(entries=[*entries, ("transactions/late.json", 10, old)])
    now += drive_sensor_module.SWEEP_EVERY
    found = []
    for _ in range(3):
        result = evaluate_drive(drive, cursor, now, sweep_seconds=12, clock=clock)
        found.append(len(result.run_requests))
        cursor, now = result.cursor, now + timedelta(seconds=30)
    assert found == [0, 1, 0]


def test_an_expired_sweep_position_restarts_the_sweep_instead_of_failing_every_tick():
    class Expiring(PagedDrive):
        def list_page(self, position, modified_since=None):
            if position.get("offset"):
                raise RuntimeError("HTTP 400 invalid pageToken")
            return super().list_page(position, modified_since)

    drive = Expiring(
        entries=[(f"transactions/{n}.json", 10, NOW - timedelta(days=9)) for n in range(5)]
    )
    clock = iter(range(0, 10_000, 5)).__next__
    saved = DriveCursor(
        frontier=(NOW, ""), sweep={"position": {"offset": 2}, "fp": "0" * 16, "files": 2}
    )

    result = evaluate_drive(drive, saved, NOW, sweep_seconds=12, clock=clock)

    assert result.cursor.sweep is None and "sweep restarted" in result.summary


def test_content_on_record_asks_for_no_run(drive, drive_dir, warehouse, run_scout, instance):
    """After `scout run`, opening the UI (a first tick), a renamed copy and the same bytes
    written again start nothing; a new file starts a run for it alone."""
    old = datetime.utcnow() - timedelta(minutes=30)
    drop(drive_dir, "a.json", "A-1", old)
    drop(drive_dir, "b.json", "B-1", old)
    run_scout()
    sensor = build_drive_sensor(dg.DefaultSensorStatus.RUNNING)

    def tick(cursor=None):
        return sensor(
            dg.build_sensor_context(
                instance=instance, cursor=cursor, resources={"drive": drive, "warehouse": warehouse}
            )
        )

    first = tick()
    assert first.run_requests == [], first.skip_reason
    a = drive_dir / "transactions/scoutpi-0004/a.json"
    (drive_dir / "transactions/scoutpi-0004/a-copy.json").write_bytes(a.read_bytes())
    a.write_bytes(a.read_bytes())  # same bytes, a new modification time
    again = tick(first.cursor)
    assert again.run_requests == []
    assert "hold content already on record" in again.skip_reason.skip_message
    drop(drive_dir, "c.json", "C-1", datetime.utcnow())
    (request,) = tick(again.cursor).run_requests
    assert request.tags["scout/drive_files"] == "1"
