"""The Google Drive adapter against recorded Drive API v3 responses (HttpMockSequence): pages,
trash, rate limits, re-uploads and native Sheets, without a network or credentials."""

import hashlib
import json
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import dagster as dg
import pytest
from googleapiclient.discovery import build
from googleapiclient.http import HttpMockSequence

from scout_assets.environment import build_resources, open_drive, settings_from_env
from scout_assets.resources.google_drive import (
    CREDENTIALS_ENV,
    XLSX_MIME,
    GoogleDrive,
    GoogleDriveError,
    load_service_account_info,
)

ROOT = "root-folder"
FOLDER = "application/vnd.google-apps.folder"
PAYLOAD = b'{"transactionId": "a1", "items": []}'
SHA = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


def ok(body) -> tuple[dict, str]:
    return {"status": "200"}, json.dumps(body) if not isinstance(body, bytes) else body


def error(status: int, reason: str) -> tuple[dict, str]:
    body = {"error": {"code": status, "message": reason, "errors": [{"reason": reason}]}}
    return {"status": str(status)}, json.dumps(body)


def item(
    file_id, name, parent, mime="application/json", modified="2025-03-10T01:02:03.000Z", **extra
) -> dict:
    entry = {
        "id": file_id,
        "name": name,
        "mimeType": mime,
        "parents": [parent],
        "createdTime": "2025-03-10T00:00:00.000Z",
        "modifiedTime": modified,
    }
    if mime != FOLDER and not mime.startswith("application/vnd.google-apps."):
        entry.update(size=str(len(PAYLOAD)), md5Checksum=MD5, sha256Checksum=SHA)
    entry.update(extra)
    return entry


DATA_FOLDERS = ok(
    {
        "files": [
            item("f-tx", "transactions", ROOT, FOLDER),
            item("f-int", "interactions", ROOT, FOLDER),
            item("f-sup", "supplements", ROOT, FOLDER),
        ]
    }
)


def drive_with(responses: list) -> tuple[GoogleDrive, HttpMockSequence]:
    http = HttpMockSequence(list(responses))
    service = build("drive", "v3", http=http, static_discovery=True)
    return GoogleDrive.for_service(service, ROOT, backoff_seconds=0.0, page_size=2), http


def query(request) -> dict[str, str]:
    uri = request[0]
    return {k: v[0] for k, v in parse_qs(urlparse(uri).query).items()}


def test_the_listing_follows_pages_and_subfolders_and_ignores_trash():
    drive, http = drive_with(
        [
            DATA_FOLDERS,
            ok(
                {
                    "nextPageToken": "page-2",
                    "files": [
                        item("f-dev", "scoutpi-0004", "f-tx", FOLDER),
                        item("x1", "old.json", "f-tx"),
                    ],
                }
            ),
            ok(
                {
                    "files": [
                        item("x2", "trashed.json", "f-tx", trashed=True),
                        item("x3", "i.jsonl", "f-int"),
                        item("x4", ".partial.json", "f-tx"),
                    ]
                }
            ),
            ok({"files": [item("x5", "t.json", "f-dev", modified="2025-03-11T08:00:00.500Z")]}),
        ]
    )

    files = list(drive.list_files())

    assert [f.path for f in files] == [
        "transactions/old.json",
        "interactions/i.jsonl",
        "transactions/scoutpi-0004/t.json",
    ]
    assert files[2].modified_at == datetime(2025, 3, 11, 8, 0, 0, 500000)  # naive UTC
    assert files[0].checksum == SHA and files[0].size == len(PAYLOAD)
    requests = [query(r) for r in http.request_sequence]
    assert "trashed = false" in requests[1]["q"] and "'f-tx' in parents" in requests[1]["q"]
    assert requests[2]["pageToken"] == "page-2"
    assert "md5Checksum" in requests[1]["fields"] and "sha256Checksum" in requests[1]["fields"]
    assert requests[3]["q"].startswith("('f-dev' in parents)")


def test_rate_limits_are_retried_with_backoff():
    drive, http = drive_with(
        [
            DATA_FOLDERS,
            error(429, "rateLimitExceeded"),
            error(403, "userRateLimitExceeded"),
            ok({"files": [item("x1", "a.json", "f-tx")]}),
        ]
    )

    assert [f.path for f in drive.list_files()] == ["transactions/a.json"]
    assert len(http.request_sequence) == 4


def test_a_forbidden_folder_fails_at_once_with_a_clear_message():
    drive, _ = drive_with([error(403, "insufficientFilePermissions")])

    with pytest.raises(GoogleDriveError, match="403 insufficientFilePermissions"):
        list(drive.list_files())


def test_rate_limits_give_up_after_the_last_attempt():
    drive, _ = drive_with([error(429, "rateLimitExceeded")] * 3)
    drive = GoogleDrive.for_service(drive._service, ROOT, backoff_seconds=0.0, max_attempts=3)

    with pytest.raises(GoogleDriveError, match="after 3 attempts"):
        list(drive.list_files())


def test_a_renamed_re_upload_with_the_same_checksum_is_downloaded_once():
    drive, http = drive_with(
        [
            DATA_FOLDERS,
            ok({"files": [item("x1", "a.json", "f-tx"), item("x2", "a-copy.json", "f-tx")]}),
            ({"status": "200"}, PAYLOAD),
        ]
    )
    first, second = list(drive.list_files())

    assert first.checksum == second.checksum == SHA
    assert first.content_key == second.content_key
    assert drive.read_bytes(first.path) == PAYLOAD
    assert drive.read_bytes(second.path) == PAYLOAD  # no second request: the sequence is spent
    media = http.request_sequence[2][0]
    assert "/files/x1" in media and "alt=media" in media


def test_two_files_with_one_name_keep_distinct_paths():
    drive, _ = drive_with(
        [
            DATA_FOLDERS,
            ok(
                {
                    "files": [
                        item("x1", "stores.csv", "f-sup"),
                        item("x2", "stores.csv", "f-sup", createdTime="2025-03-12T00:00:00.000Z"),
                    ]
                }
            ),
        ]
    )

    assert sorted(f.path for f in drive.list_files()) == [
        "supplements/stores.csv",
        "supplements/stores~x2.csv",
    ]


def test_a_native_sheet_is_listed_and_read_as_xlsx():
    sheet = "application/vnd.google-apps.spreadsheet"
    drive, http = drive_with(
        [
            DATA_FOLDERS,
            ok(
                {
                    "files": [
                        item("s1", "Store updates", "f-sup", sheet),
                        item("d1", "Notes", "f-sup", "application/vnd.google-apps.document"),
                    ]
                }
            ),
            ({"status": "200"}, b"PK\x03\x04xlsx bytes"),
        ]
    )

    (file,) = drive.list_files()

    assert file.path == "supplements/Store updates.xlsx"
    assert file.checksum is None and file.content_key.startswith("sheet:s1:")
    assert drive.read_bytes(file.path) == b"PK\x03\x04xlsx bytes"
    export = query(http.request_sequence[2])
    assert "/files/s1/export" in http.request_sequence[2][0]
    assert export["mimeType"] == XLSX_MIME


def test_the_sensor_listing_is_narrowed_by_modified_time():
    drive, http = drive_with(
        [
            DATA_FOLDERS,
            ok({"files": [item("x1", "new.json", "f-tx", modified="2025-03-11T08:00:00.000Z")]}),
        ]
    )

    files = drive.list_files_modified_since(datetime(2025, 3, 11, 7, 0))

    assert [f.path for f in files] == ["transactions/new.json"]
    narrowed = query(http.request_sequence[1])["q"]
    assert "modifiedTime >= '2025-03-11T07:00:00.000Z'" in narrowed
    assert f"mimeType = '{FOLDER}'" in narrowed  # folders are still walked


def test_a_walk_resumes_from_a_saved_position():
    drive, _ = drive_with(
        [
            DATA_FOLDERS,
            ok({"nextPageToken": "page-2", "files": [item("x1", "a.json", "f-tx")]}),
            ok({"files": [item("x2", "b.json", "f-tx")]}),
        ]
    )
    start = drive.start_position()
    first, where = drive.list_page(start)
    saved = json.loads(json.dumps(where))  # what a sensor cursor holds

    second, done = drive.list_page(saved)

    assert [f.path for f in first + second] == ["transactions/a.json", "transactions/b.json"]
    assert done is None


def test_google_settings_wire_the_adapter_with_the_key_from_the_environment():
    settings = settings_from_env({"SCOUT_DRIVE_KIND": "google", "SCOUT_GDRIVE_FOLDER_ID": "abc"})
    drive = build_resources(settings)["drive"]

    assert isinstance(drive, GoogleDrive) and drive.folder_id == "abc"
    with pytest.raises(ValueError, match="SCOUT_GDRIVE_FOLDER_ID"):
        settings_from_env({"SCOUT_DRIVE_KIND": "google"})
    with pytest.raises(ValueError, match="SCOUT_DRIVE_KIND"):
        settings_from_env({"SCOUT_DRIVE_KIND": "dropbox"})


def test_a_command_outside_dagster_gets_the_key_itself_not_the_variable_name(monkeypatch):
    # scout restore / rebuild read the Drive without a Dagster run to resolve the EnvVar.
    key = '{"type": "service_account", "client_email": "scout@example.iam.gserviceaccount.com"}'
    monkeypatch.setenv(CREDENTIALS_ENV, key)
    settings = settings_from_env({"SCOUT_DRIVE_KIND": "google", "SCOUT_GDRIVE_FOLDER_ID": "abc"})
    drive = open_drive(settings)
    assert isinstance(drive, GoogleDrive) and drive.credentials_json == key


def test_a_missing_credentials_variable_is_named(monkeypatch):
    monkeypatch.delenv(CREDENTIALS_ENV, raising=False)

    @dg.op
    def touch(drive: GoogleDrive):
        drive.describe()

    @dg.job(
        resource_defs={
            "drive": GoogleDrive(folder_id="abc", credentials_json=dg.EnvVar(CREDENTIALS_ENV))
        }
    )
    def probe():
        touch()

    with pytest.raises(Exception, match=CREDENTIALS_ENV):
        probe.execute_in_process()


def test_the_key_is_read_from_json_or_a_path(tmp_path):
    key = {"type": "service_account", "client_email": "scout@example.iam.gserviceaccount.com"}
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))

    assert load_service_account_info(json.dumps(key)) == key
    assert load_service_account_info(str(path)) == key
    with pytest.raises(GoogleDriveError, match=CREDENTIALS_ENV):
        load_service_account_info(str(tmp_path / "missing.json"))
    with pytest.raises(GoogleDriveError, match="service-account"):
        load_service_account_info(json.dumps({"type": "authorized_user"}))


def test_same_named_files_on_two_pages_are_told_apart_and_read_each():
    drive, http = drive_with(
        [
            DATA_FOLDERS,
            ok({"nextPageToken": "page-2", "files": [item("x1", "stores.csv", "f-sup")]}),
            ok(
                {
                    "files": [
                        item(
                            "x2",
                            "stores.csv",
                            "f-sup",
                            createdTime="2025-03-12T00:00:00.000Z",
                            md5Checksum="other",
                            sha256Checksum="other",
                        )
                    ]
                }
            ),
            ({"status": "200"}, b"second"),
        ]
    )

    files = {f.path: f for f in drive.list_files()}

    assert sorted(files) == ["supplements/stores.csv", "supplements/stores~x2.csv"]
    assert drive.read_bytes("supplements/stores~x2.csv") == b"second"
    assert "/files/x2" in http.request_sequence[-1][0]
